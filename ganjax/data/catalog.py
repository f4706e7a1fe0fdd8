"""Compare GAN's named image data sets, read from TensorFlow Datasets.

One gin line picks a data set: `datasets.tfds.name = "fashion_mnist"`.
Reading needs no TensorFlow: the data are prepared once as TFDS array_record
files (`python -m ganjax.data.prepare`) and read by random access with
`tfds.data_source`. Small data sets (MNIST, Fashion-MNIST, CIFAR-10) are
held in memory as uint8; the others are read and preprocessed batch by
batch. Either way a batch is a pure function of (seed, step), so resumed runs
see the same data and hosts take disjoint parts of each global batch
(`dataset.Dataset`).
"""

import dataclasses
import functools
from typing import Any, Callable

import gin
import numpy as np
import tensorflow_datasets as tfds

from ganjax.data import convex_polygons  # pylint: disable=unused-import
from ganjax.data import dataset
from ganjax.data import partial_labels
from ganjax.data import preprocess

# (uint8 image, rng, training?) → uint8 image at the data set's resolution.
Transform = Callable[[np.ndarray, np.random.Generator, bool], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Entry:
  """A named data set.

  Attributes:
    tfds_name: the TFDS builder (and config) holding it.
    train_split: TFDS split read for training.
    eval_split: TFDS split read for evaluation.
    shape: (H, W, C) after preprocessing.
    num_classes: label classes, or None for unlabeled data.
    transform: preprocessing of one image, or None for images held in
      memory: stored at `shape`, or smaller and zero-padded to it centrally
      (e.g. 28 → 32 for progressive growing).
  """
  tfds_name: str
  train_split: str
  eval_split: str
  shape: tuple[int, int, int]
  num_classes: int | None
  transform: Transform | None = None


def _celeb_a(image, rng, training):
  del rng, training
  return preprocess.resize(preprocess.center_crop(image, 160), 64)


def _crop_or_pad(size, image, rng, training):
  del rng, training
  return preprocess.crop_or_pad(image, size)


def _resize(size, image, rng, training):
  del rng, training
  return preprocess.resize(image, size)


@gin.configurable(module="datasets")
def imagenet_crop(size: int, image: np.ndarray, rng: np.random.Generator,
                  training: bool, crop_method: str = "distorted") -> np.ndarray:
  """ImageNet: `crop_method` for training, the middle crop for evaluation."""
  square = preprocess.square_crop(image, crop_method if training else "middle",
                                  rng)
  return preprocess.resize(square, size)


CATALOG: dict[str, Entry] = {
    "mnist": Entry("mnist", "train", "test", (28, 28, 1), 10),
    "fashion_mnist": Entry("fashion_mnist", "train", "test", (28, 28, 1), 10),
    "fashion_mnist_32": Entry("fashion_mnist", "train", "test", (32, 32, 1),
                              10),
    "cifar10": Entry("cifar10", "train", "test", (32, 32, 3), 10),
    # Generated locally by ganjax.data.convex_polygons (Lucic et al. 2018).
    "convex_polygons": Entry("convex_polygons", "train", "test", (28, 28, 1),
                             None),
    "celeb_a": Entry("celeb_a", "train", "test", (64, 64, 3), None, _celeb_a),
    "lsun_bedroom": Entry("lsun/bedroom", "train[:99%]", "train[99%:]",
                          (128, 128, 3), None,
                          functools.partial(_crop_or_pad, 128)),
    # The unlabelled split's labels are −1 in TFDS: semi-supervised as is.
    "stl10": Entry("stl10", "train+unlabelled", "test", (48, 48, 3), 10,
                   functools.partial(_resize, 48)),
    **{f"celeb_a_hq_{size}": Entry(f"celeb_a_hq/{size}", "train", "train",
                                   (size, size, 3), None,
                                   functools.partial(_resize, size))
       for size in (128, 256, 512, 1024)},
    **{f"imagenet_{size}": Entry("imagenet2012", "train", "validation",
                                 (size, size, 3), 1000,
                                 functools.partial(imagenet_crop, size))
       for size in (64, 128, 256, 512)},
}


def entry(name: str) -> Entry:
  """The catalog entry `name`, or an error that lists the names."""
  if name not in CATALOG:
    raise ValueError(f"Unknown data set {name!r}; choose one of "
                     f"{sorted(CATALOG)}.")
  return CATALOG[name]


def missing_message(name: str, data_dir: str | None) -> str:
  """What to run to obtain data set `name`, for the missing-data error."""
  where = data_dir or tfds.core.constants.DATA_DIR
  steps = {
      "fashion_mnist": (
          "offline: `sudo apt-get install dataset-fashion-mnist && python -m "
          "ganjax.data.prepare --dataset=fashion_mnist`; "),
      "convex_polygons": "offline (generated, a few minutes): `python -m "
                         "ganjax.data.prepare --dataset=convex_polygons`; ",
      "mnist": ("offline: put the four MNIST .gz files in DIR and run "
                "`python -m ganjax.data.prepare --dataset=mnist "
                "--source_dir=DIR`; "),
  }
  steps = steps.get(name, steps.get(CATALOG[name].tfds_name, ""))
  return (f"Data set {name!r} ({CATALOG[name].tfds_name} in TFDS) is not "
          f"prepared in {where}. Obtain it with: {steps}with internet: "
          f"`python -m ganjax.data.prepare --dataset={name}"
          + (f" --data_dir={data_dir}`." if data_dir else "`."))


class SourceDataset(dataset.Dataset):
  """A TFDS data source read and preprocessed batch by batch.

  Attributes:
    labels: [N] int32 labels that replace the source's (a label file), or
      None.
    labeled: [N] bool, the examples whose label is kept (the rest read −1),
      or None for all.
  """

  def __init__(self, source, entry: Entry, training: bool,
               labels: np.ndarray | None = None,
               labeled: np.ndarray | None = None):
    self.source = source
    self.entry = entry
    self.training = training
    self.labels = labels
    self.labeled = labeled
    withheld = ((labeled is not None and not labeled.all()) or
                (labels is not None and bool((labels < 0).any())))
    self.spec = dataset.DataSpec(entry.shape, entry.num_classes, True,
                                 partially_labeled=withheld)

  def __len__(self) -> int:
    return len(self.source)

  def for_evaluation(self) -> "SourceDataset":
    evaluated = SourceDataset(self.source, self.entry, training=False)
    evaluated.name = self.name
    return evaluated

  def _read(self, rows, seeds):
    examples = [self.source[int(row)] for row in rows]
    images = np.stack([
        self.entry.transform(example["image"], np.random.default_rng(seed),
                             self.training)
        for example, seed in zip(examples, seeds)])
    batch = {"x": dataset.images_to_model_range(images)}
    if self.entry.num_classes:
      labels = (np.array([e["label"] for e in examples], np.int32)
                if self.labels is None else self.labels[rows])
      if self.labeled is not None:
        labels = np.where(self.labeled[rows], labels,
                          partial_labels.UNLABELED).astype(np.int32)
      batch["label"] = labels
    return batch


def _source(name: str, tfds_split: str, data_dir: str | None):
  """The TFDS data source of catalog entry `name`, or an error that says how
  to prepare it."""
  info = entry(name)
  try:
    return tfds.data_source(info.tfds_name, split=tfds_split,
                            data_dir=data_dir, download=False)
  # For data that are not prepared the installed TFDS raises errors of many
  # kinds: a KeyError on its empty splits where it found the builder's
  # metadata but no files (cifar10 in the default directory) among them.
  except (tfds.core.registered.DatasetNotFoundError, AssertionError,
          FileNotFoundError, NotImplementedError, KeyError) as error:
    if not tfds.builder(info.tfds_name, data_dir=data_dir).is_prepared():
      raise FileNotFoundError(missing_message(name, data_dir)) from error
    raise ValueError(
        f"{name!r} is prepared, but its split {tfds_split!r} cannot be read "
        f"as array_record, which ganjax reads without TensorFlow ("
        f"{type(error).__name__}: {error}); prepare it again with `python -m "
        f"ganjax.data.prepare --dataset={name}`.") from error


@functools.lru_cache(maxsize=4)
def _decoded(name: str, tfds_split: str,
             data_dir: str | None) -> tuple[np.ndarray, np.ndarray | None]:
  """The whole split's images and labels, decoded into memory once per
  process: a study's trials, seeds trained together and evaluations share
  them (read-only)."""
  info = entry(name)
  source = _source(name, tfds_split, data_dir)
  examples = [source[i] for i in range(len(source))]
  images = np.stack([preprocess.crop_or_pad(e["image"], info.shape[0])
                     if e["image"].shape != info.shape else e["image"]
                     for e in examples])
  images.setflags(write=False)
  labels = None
  if info.num_classes:
    labels = np.array([e["label"] for e in examples], np.int32)
    labels.setflags(write=False)
  return images, labels


def _in_memory(name: str, tfds_split: str, data_dir: str | None,
               **relabel: Any) -> dataset.ArrayDataset:
  """The split in memory, its labels as `partial_labels.relabel(**relabel)`
  makes them."""
  info = entry(name)
  images, labels = _decoded(name, tfds_split, data_dir)
  if labels is not None:
    labels = partial_labels.relabel(labels, info.num_classes, **relabel)
  return dataset.ArrayDataset(
      images, labels, dataset.DataSpec(
          info.shape, info.num_classes, True,
          partially_labeled=labels is not None and bool((labels < 0).any())))


@gin.configurable("tfds", module="datasets")
def tfds_dataset(seed: int, name: str = gin.REQUIRED, split: str = "train",
                 data_dir: str | None = None,
                 labeled_fraction: float | None = None,
                 labels_per_class: int | None = None,
                 label_seed: int = 0,
                 label_file: str | None = None,
                 train_examples: int | None = None,
                 subset_seed: int = 0) -> dataset.Dataset:
  """The data set `name` of the catalog, ready for the training loop.

  Args:
    seed: unused here (the run's seed orders batches); part of every data
      set's signature.
    name: a key of `CATALOG`, e.g. "fashion_mnist" or "imagenet_128".
    split: "train" or "eval" (the entry's TFDS splits).
    data_dir: TFDS data directory; None for TFDS's default.
    labeled_fraction: keep labels for this fraction of the examples and
      mark the rest −1 (semi-supervised training); None keeps all.
    labels_per_class: or keep this many labels per class.
    label_seed: chooses the labeled subset (fixed across run seeds).
    label_file: a .npy file of labels that replace the data set's, in its
      order (−1: none), e.g. inferred ones (`python -m
      ganjax.infer_labels`); the train split's only.
    train_examples: train on a fixed subset of this many examples of the
      train split (`dataset.random_subset`; e.g. 5,000 for DiffAugment's
      "10 % of CIFAR-10"); None: all. Evaluation reads the whole eval split.
    subset_seed: chooses that subset (fixed across run seeds).
  """
  del seed
  info = entry(name)
  if split not in ("train", "eval"):
    raise ValueError(f"split must be 'train' or 'eval', got {split!r}.")
  withholds = labeled_fraction is not None or labels_per_class is not None
  if withholds and not info.num_classes:
    raise ValueError(f"{name!r} has no labels to withhold.")
  if split != "train":
    label_file = None  # Evaluation reads the true labels.
  if labels_per_class is not None and info.transform is not None:
    in_memory = sorted(n for n, e in CATALOG.items()
                       if e.transform is None and e.num_classes)
    raise ValueError(f"labels_per_class needs all labels in memory; "
                     f"{name!r} is read batch by batch (use "
                     f"labeled_fraction). Supported for: {in_memory}.")
  tfds_split = info.train_split if split == "train" else info.eval_split
  whole = _whole_split(info, name, tfds_split, data_dir, split, label_file,
                       labeled_fraction, labels_per_class, label_seed)
  whole.name = f"{name} {tfds_split}"
  if train_examples is None or split != "train":
    return whole
  return dataset.random_subset(whole, train_examples, subset_seed)


def _whole_split(info: Entry, name: str, tfds_split: str,
                 data_dir: str | None, split: str, label_file: str | None,
                 labeled_fraction: float | None,
                 labels_per_class: int | None,
                 label_seed: int) -> dataset.Dataset:
  """All of `tfds_split`: in memory, or read batch by batch for entries
  with a transform."""
  if info.transform is None:
    return _in_memory(name, tfds_split, data_dir, label_file=label_file,
                      fraction=labeled_fraction, per_class=labels_per_class,
                      label_seed=label_seed)
  source = _source(name, tfds_split, data_dir)
  labels = (None if label_file is None else partial_labels.read_label_file(
      label_file, len(source), info.num_classes))
  labeled = (None if labeled_fraction is None else
             partial_labels.labeled_mask(len(source), labeled_fraction,
                                         label_seed))
  return SourceDataset(source, info, training=split == "train",
                       labels=labels, labeled=labeled)
