"""Tests of ganjax.data.catalog on TFDS mock data (no download, no TF)."""

import types

import numpy as np
import pytest
import tensorflow_datasets as tfds

from ganjax.data import catalog
from ganjax.data import partial_labels
from ganjax.data import preprocess

_NUM_EXAMPLES = 6


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=_NUM_EXAMPLES):
    yield


@pytest.mark.parametrize("name", sorted(catalog.CATALOG))
@pytest.mark.parametrize("split", ["train", "eval"])
def test_every_dataset_serves_model_ready_batches(mock_tfds, name, split):
  entry = catalog.CATALOG[name]
  data = catalog.tfds_dataset(0, name=name, split=split)
  assert data.spec.shape == entry.shape and data.spec.is_image
  assert data.spec.num_classes == entry.num_classes
  batch = data.batch(1, 4, seed=3)
  assert batch["x"].shape == (4, *entry.shape)
  assert batch["x"].dtype == np.float32
  assert batch["x"].min() >= -1.0 and batch["x"].max() <= 1.0
  assert ("label" in batch) == bool(entry.num_classes)
  if entry.num_classes:
    assert batch["label"].dtype == np.int32
    assert np.all((batch["label"] >= -1) &
                  (batch["label"] < entry.num_classes))


@pytest.mark.parametrize("name", ["fashion_mnist", "celeb_a", "imagenet_64"])
def test_batches_are_a_pure_function_of_seed_and_step(mock_tfds, name):
  # A resumed run rebuilds the data set and asks for the same step.
  first = catalog.tfds_dataset(0, name=name).batch(4, 3, seed=1)
  resumed = catalog.tfds_dataset(0, name=name).batch(4, 3, seed=1)
  for key in first:
    np.testing.assert_array_equal(first[key], resumed[key])


def test_small_datasets_are_held_in_memory_as_uint8(mock_tfds):
  data = catalog.tfds_dataset(0, name="cifar10")
  assert data.examples.dtype == np.uint8
  assert data.examples.shape == (_NUM_EXAMPLES, 32, 32, 3)


def test_padded_entries_hold_padded_images(mock_tfds):
  small = catalog.tfds_dataset(0, name="fashion_mnist").examples
  padded = catalog.tfds_dataset(0, name="fashion_mnist_32").examples
  assert padded.shape == (_NUM_EXAMPLES, 32, 32, 1)
  np.testing.assert_array_equal(padded[:, 2:30, 2:30], small)
  assert not padded[:, :2].any() and not padded[:, :, 30:].any()


def _assert_first_image_is_the_middle_crop(data):
  """The first example of `data`'s first batch is ImageNet's middle crop."""
  row = int(data._permutation(0, 0)[0])  # pylint: disable=protected-access
  image = data.source[row]["image"]
  want = preprocess.resize(preprocess.square_crop(image, "middle", None), 64)
  np.testing.assert_array_equal(
      data.batch(0, 1, seed=0)["x"][0],
      want.astype(np.float32) / 127.5 - 1.0)


def test_imagenet_eval_uses_the_middle_crop(mock_tfds):
  _assert_first_image_is_the_middle_crop(
      catalog.tfds_dataset(0, name="imagenet_64", split="eval"))


def test_evaluation_reads_training_data_without_augmentation(mock_tfds):
  train = catalog.tfds_dataset(0, name="imagenet_64")
  evaluated = train.for_evaluation()
  _assert_first_image_is_the_middle_crop(evaluated)
  assert train.training and len(evaluated) == len(train)


def test_labeled_fraction_withholds_labels(mock_tfds):
  full = catalog.tfds_dataset(0, name="mnist")
  half = catalog.tfds_dataset(0, name="mnist", labeled_fraction=0.5)
  kept = half.labels != partial_labels.UNLABELED
  assert kept.sum() == _NUM_EXAMPLES // 2
  np.testing.assert_array_equal(half.labels[kept], full.labels[kept])


def _all_labels(data):
  return data.batch(0, len(data), seed=0)["label"]


def test_streamed_data_withholds_the_same_subset(mock_tfds):
  """ImageNet, read batch by batch, withholds labels by index: the subset
  the in-memory path would keep (`labeled_mask`), read in any batch."""
  full = catalog.tfds_dataset(0, name="imagenet_64")
  half = catalog.tfds_dataset(0, name="imagenet_64", labeled_fraction=0.5,
                              label_seed=2)
  assert half.spec.partially_labeled and not full.spec.partially_labeled
  rows = half._permutation(0, 0)  # pylint: disable=protected-access
  keep = partial_labels.labeled_mask(_NUM_EXAMPLES, 0.5, 2)[rows]
  np.testing.assert_array_equal(_all_labels(half)[keep],
                                _all_labels(full)[keep])
  assert (_all_labels(half)[~keep] == partial_labels.UNLABELED).all()
  with pytest.raises(ValueError, match="batch by batch"):
    catalog.tfds_dataset(0, name="imagenet_64", labels_per_class=1)


@pytest.mark.parametrize("name", ["mnist", "imagenet_64"])
def test_label_file_replaces_the_train_labels(mock_tfds, tmp_path, name):
  path = str(tmp_path / "labels.npy")
  num_classes = catalog.CATALOG[name].num_classes
  labels = (np.arange(_NUM_EXAMPLES) * 7) % num_classes
  np.save(path, labels)
  data = catalog.tfds_dataset(0, name=name, label_file=path)
  rows = data._permutation(0, 0)  # pylint: disable=protected-access
  np.testing.assert_array_equal(_all_labels(data), labels[rows])
  # Evaluation reads the true labels.
  catalog.tfds_dataset(0, name=name, split="eval", label_file=path)
  np.save(path, labels[:-1])
  with pytest.raises(ValueError, match="label file"):
    catalog.tfds_dataset(0, name=name, label_file=path)


def test_missing_dataset_names_it_and_the_fix(tmp_path):
  with pytest.raises(FileNotFoundError) as error:
    catalog.tfds_dataset(0, name="fashion_mnist", data_dir=str(tmp_path))
  message = str(error.value)
  assert "'fashion_mnist'" in message and str(tmp_path) in message
  assert "apt-get install dataset-fashion-mnist" in message
  assert "python -m ganjax.data.prepare --dataset=fashion_mnist" in message


def test_unprepared_dataset_in_the_default_dir_names_it_and_the_fix(
    tmp_path, monkeypatch):
  # In TFDS's default directory (no data_dir) the installed TFDS raises a
  # KeyError on cifar10's empty splits, which reached users as a traceback.
  monkeypatch.setattr(tfds.core.constants, "DATA_DIR", str(tmp_path))
  with pytest.raises(FileNotFoundError) as error:
    catalog.tfds_dataset(0, name="cifar10")
  message = str(error.value)
  assert "'cifar10'" in message and str(tmp_path) in message
  assert "python -m ganjax.data.prepare --dataset=cifar10" in message


def test_a_tfrecord_preparation_is_named(monkeypatch):
  def tfrecord_only(*args, **kwargs):
    raise NotImplementedError("Random access data source for file format "
                              "FileFormat.TFRECORD is not supported.")
  monkeypatch.setattr(catalog.tfds, "data_source", tfrecord_only)
  monkeypatch.setattr(catalog.tfds, "builder", lambda *a, **k: types.
                      SimpleNamespace(is_prepared=lambda: True))
  with pytest.raises(ValueError, match=r"'cifar10' is prepared, but its split "
                     r"'train' cannot be read as array_record.*python -m "
                     r"ganjax.data.prepare --dataset=cifar10"):
    catalog.tfds_dataset(0, name="cifar10")


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="cifar100"), "Unknown data set 'cifar100'"),
    (dict(name="mnist", split="validation"), "split must be"),
    (dict(name="celeb_a", labels_per_class=2), "no labels"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    catalog.tfds_dataset(0, **kwargs)


@pytest.mark.parametrize("name", ["mnist", "imagenet_64"])
def test_train_examples_keeps_a_fixed_subset_of_the_train_split(mock_tfds,
                                                               name):
  full = catalog.tfds_dataset(0, name=name)
  small = catalog.tfds_dataset(0, name=name, train_examples=4)
  assert len(small) == 4
  # The paper code's draw: np.random.seed(0); choice(N, 4, replace=False).
  rows = np.random.RandomState(0).choice(_NUM_EXAMPLES, 4, replace=False)
  np.testing.assert_array_equal(small.rows, rows)
  seeds = [(0, i) for i in range(4)]
  # pylint: disable=protected-access
  np.testing.assert_array_equal(
      small.for_evaluation()._read(np.arange(4), seeds)["x"],
      full.for_evaluation()._read(rows, seeds)["x"])
  # pylint: enable=protected-access
  evaluated = catalog.tfds_dataset(0, name=name, split="eval",
                                   train_examples=4)
  assert len(evaluated) == _NUM_EXAMPLES  # Evaluation reads all of it.
  with pytest.raises(ValueError, match="between 1 and 6"):
    catalog.tfds_dataset(0, name=name, train_examples=7)
