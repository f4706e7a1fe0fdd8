"""The data interface of the training loop, and in-memory data sets.

The loop asks a `Dataset` for its global batch number `index`; batches are a
pure function of (seed, index), so a resumed run sees exactly the batches an
uninterrupted run would have seen, with no iterator state to save: the
checkpointed step is the input position. On multi-host runs each process
takes its own contiguous part of the global batch, so the processes see
disjoint examples that together make up the global batch.
"""

import dataclasses
import functools

import numpy as np


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about the data.

  Attributes:
    shape: shape of one example, (H, W, C) for images or (D,) for vectors.
    num_classes: number of label classes, or None for unlabeled data.
    is_image: images are float32 in [-1, 1] for the models and uint8 on disk.
    partially_labeled: some labels are withheld, marked −1
      (`partial_labels.py`; semi-supervised training).
  """
  shape: tuple[int, ...]
  num_classes: int | None
  is_image: bool
  partially_labeled: bool = False


def images_to_model_range(images: np.ndarray) -> np.ndarray:
  """uint8 images in [0, 255] → float32 in [-1, 1], what the models take."""
  return images.astype(np.float32) / 127.5 - 1.0


class Dataset:
  """Examples in a fixed order, reshuffled every epoch from (seed, epoch).

  Subclasses say how many examples there are (`__len__`) and how to read
  rows of them (`_read`); this class decides which rows make up a batch.

  Attributes:
    spec: the DataSpec of the examples.
    name: what the examples are, for the records of scores that compare
      with them (e.g. "fashion_mnist test"); set by the data set factories.
  """
  spec: DataSpec
  name: str = "examples"

  def __len__(self) -> int:
    raise NotImplementedError

  def _read(self, rows: np.ndarray,
            seeds: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """{"x": float32 examples, "label": int32 labels if any} of `rows`.

    `seeds[i]` seeds random preprocessing (such as crops) of example i: it
    is (run seed, position in the example stream), so an example is
    preprocessed alike however the batch is split over processes.
    """
    raise NotImplementedError

  def for_evaluation(self) -> "Dataset":
    """The same examples without random augmentation, for real-image
    statistics (Compare GAN's evaluation reads center crops)."""
    return self

  @functools.lru_cache(maxsize=4)
  def _permutation(self, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, epoch)).permutation(len(self))

  def batch(self, index: int, batch_size: int, seed: int,
            process_index: int = 0,
            process_count: int = 1) -> dict[str, np.ndarray]:
    """This process's part of global batch `index` (of `batch_size`).

    Returns:
      {"x": [batch_size / process_count, *shape] float32} and, for labeled
      data, {"label": [...] int32} (−1 marks an example whose label is
      withheld for semi-supervised training).
    """
    return self.batch_at(index * batch_size, batch_size, seed, process_index,
                         process_count)

  def batch_at(self, start: int, batch_size: int, seed: int,
               process_index: int = 0,
               process_count: int = 1) -> dict[str, np.ndarray]:
    """Like `batch`, for the global batch of the `batch_size` examples from
    position `start` of the seed's endless shuffled order (batch sizes may
    change during a run, as in progressive growing)."""
    if batch_size % process_count:
      raise ValueError(f"The global batch of {batch_size} does not split "
                       f"evenly over {process_count} processes.")
    per_process = batch_size // process_count
    start = start + process_index * per_process
    positions = np.arange(start, start + per_process)
    epochs, offsets = np.divmod(positions, len(self))
    rows = np.empty_like(positions)
    for epoch in np.unique(epochs):
      in_epoch = epochs == epoch
      rows[in_epoch] = self._permutation(seed, int(epoch))[offsets[in_epoch]]
    return self._read(rows, [(seed, int(p)) for p in positions])


class ArrayDataset(Dataset):
  """Examples held in memory.

  Attributes:
    spec: the DataSpec of the examples.
    examples: [N, *spec.shape], float32 as the models take them, or uint8
      images in [0, 255] (scaled to [-1, 1] batch by batch, a quarter of the
      memory).
    labels: [N] int32, or None.
  """

  def __init__(self, examples: np.ndarray, labels: np.ndarray | None,
               spec: DataSpec):
    if examples.shape[1:] != spec.shape:
      raise ValueError(f"Examples of shape {examples.shape[1:]} do not match "
                       f"the data spec's {spec.shape}.")
    if examples.dtype == np.uint8 and not spec.is_image:
      raise ValueError("uint8 examples are read as images; this data spec "
                       "is not an image spec.")
    self.spec = spec
    self.examples = (examples if examples.dtype == np.uint8
                     else examples.astype(np.float32))
    self.labels = None if labels is None else labels.astype(np.int32)

  def __len__(self) -> int:
    return len(self.examples)

  def _read(self, rows: np.ndarray,
            seeds: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    del seeds  # No random preprocessing.
    x = self.examples[rows]
    batch = {"x": images_to_model_range(x) if x.dtype == np.uint8 else x}
    if self.labels is not None:
      batch["label"] = self.labels[rows]
    return batch


class Subset(Dataset):
  """The examples `rows` of another data set, in that order."""

  def __init__(self, base: Dataset, rows: np.ndarray):
    self.base = base
    self.spec = base.spec
    self.rows = np.asarray(rows)
    self.name = f"{len(self.rows)} of {base.name}"

  def __len__(self) -> int:
    return len(self.rows)

  def _read(self, rows: np.ndarray,
            seeds: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    return self.base._read(self.rows[rows], seeds)  # pylint: disable=protected-access

  def for_evaluation(self) -> "Subset":
    return Subset(self.base.for_evaluation(), self.rows)


def random_subset(base: Dataset, num: int, seed: int = 0) -> Subset:
  """`num` examples of `base` drawn without replacement by `seed` (training
  on little data), as the DiffAugment paper's code draws its CIFAR-10
  subsets (np.random.seed(seed); np.random.choice(N, num, replace=False)):
  the same for every run seed."""
  if not 0 < num <= len(base):
    raise ValueError(f"A subset of {num} examples of a data set of "
                     f"{len(base)}: it must be between 1 and {len(base)}.")
  subset = Subset(base, np.random.RandomState(seed).choice(
      len(base), num, replace=False))
  subset.name = f"{num} of {base.name} (subset seed {seed})"
  return subset
