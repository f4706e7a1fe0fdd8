"""Tests of ganjax.data.dataset.ArrayDataset's batching."""

import numpy as np
import pytest

from ganjax.data import dataset


def _dataset(n, labeled=True):
  """Example i is the vector (i, -i): its identity can be read back."""
  index = np.arange(n, dtype=np.float32)
  examples = np.stack([index, -index], axis=1)
  labels = (np.arange(n) * 7) % 5 if labeled else None
  return dataset.ArrayDataset(examples, labels,
                              dataset.DataSpec((2,), 5, False))


def _ids(batch):
  return batch["x"][:, 0].astype(np.int64)


def test_batch_is_a_function_of_seed_and_index():
  first = _dataset(50).batch(3, 8, seed=7)
  # A fresh object: nothing cached is shared.
  second = _dataset(50).batch(3, 8, seed=7)
  np.testing.assert_array_equal(first["x"], second["x"])
  np.testing.assert_array_equal(first["label"], second["label"])
  # Asking for other batches first does not change it.
  data = _dataset(50)
  for index in (10, 0, 5):
    data.batch(index, 8, seed=7)
  np.testing.assert_array_equal(data.batch(3, 8, seed=7)["x"], first["x"])


def test_batches_differ_across_seeds_and_indices():
  data = _dataset(50)
  assert not np.array_equal(_ids(data.batch(0, 8, seed=0)),
                            _ids(data.batch(0, 8, seed=1)))
  assert not np.array_equal(_ids(data.batch(0, 8, seed=0)),
                            _ids(data.batch(1, 8, seed=0)))


def test_batch_shapes_and_dtypes():
  batch = _dataset(20).batch(0, 6, seed=0)
  assert batch["x"].shape == (6, 2) and batch["x"].dtype == np.float32
  assert batch["label"].shape == (6,) and batch["label"].dtype == np.int32
  assert "label" not in _dataset(20, labeled=False).batch(0, 6, seed=0)


@pytest.mark.parametrize("seed", [0, 3])
def test_epochs_are_permutations_when_divisible(seed):
  n, batch_size = 24, 6
  data = _dataset(n)
  per_epoch = n // batch_size
  orders = []
  for epoch in range(3):
    ids = np.concatenate([
        _ids(data.batch(epoch * per_epoch + i, batch_size, seed))
        for i in range(per_epoch)])
    np.testing.assert_array_equal(np.sort(ids), np.arange(n))
    orders.append(ids)
  # Reshuffled every epoch.
  assert not np.array_equal(orders[0], orders[1])
  assert not np.array_equal(orders[1], orders[2])
  assert not np.array_equal(orders[0], np.arange(n))


def test_epochs_are_permutations_across_batch_boundaries():
  # 10 examples in batches of 4: batch 2 holds the last 2 of epoch 0 and the
  # first 2 of epoch 1.
  n, batch_size = 10, 4
  data = _dataset(n)
  ids = np.concatenate([_ids(data.batch(i, batch_size, seed=1))
                        for i in range(5)])  # 20 positions = 2 epochs.
  np.testing.assert_array_equal(np.sort(ids[:n]), np.arange(n))
  np.testing.assert_array_equal(np.sort(ids[n:]), np.arange(n))
  # A batch of more than one epoch still covers each epoch once.
  big = _ids(data.batch(0, 25, seed=1))
  np.testing.assert_array_equal(big[:20], ids)
  # Its last 5 positions start epoch 2: 5 distinct examples.
  assert len(np.unique(big[20:])) == 5
  np.testing.assert_array_equal(big[20:],
                                _ids(data.batch(4, 5, seed=1)))


def test_labels_travel_with_examples():
  data = _dataset(30)
  for index in range(8):
    batch = data.batch(index, 7, seed=2)
    np.testing.assert_array_equal(batch["label"], (_ids(batch) * 7) % 5)
    np.testing.assert_array_equal(batch["x"][:, 1], -batch["x"][:, 0])


def test_examples_must_match_spec():
  with pytest.raises(ValueError, match="do not match"):
    dataset.ArrayDataset(np.zeros((4, 3), np.float32), None,
                         dataset.DataSpec((2,), None, False))


def test_len_and_float32_storage():
  data = dataset.ArrayDataset(np.zeros((9, 2), np.float64),
                              np.zeros(9, np.int64),
                              dataset.DataSpec((2,), 1, False))
  assert len(data) == 9
  assert data.examples.dtype == np.float32
  assert data.labels.dtype == np.int32


def test_processes_see_disjoint_parts_that_make_up_the_global_batch():
  data = _dataset(40)
  whole = _ids(data.batch(5, 8, seed=2))
  parts = [_ids(data.batch(5, 8, seed=2, process_index=p, process_count=2))
           for p in range(2)]
  assert len(parts[0]) == len(parts[1]) == 4
  assert not set(parts[0]) & set(parts[1])
  np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_global_batch_not_divisible_by_processes_raises():
  with pytest.raises(ValueError, match="3 processes"):
    _dataset(40).batch(0, 8, seed=0, process_index=0, process_count=3)


def test_uint8_images_are_served_in_model_range():
  images = np.array([[[[0]], [[255]]], [[[128]], [[64]]]], np.uint8)
  data = dataset.ArrayDataset(images, None,
                              dataset.DataSpec((2, 1, 1), None, True))
  assert data.examples.dtype == np.uint8
  x = data.batch(0, 2, seed=0)["x"]
  assert x.dtype == np.float32
  np.testing.assert_allclose(np.sort(x.ravel()),
                             np.sort([-1.0, 1.0, 128 / 127.5 - 1,
                                      64 / 127.5 - 1]), atol=1e-6)


def test_uint8_vectors_raise():
  with pytest.raises(ValueError, match="not an image spec"):
    dataset.ArrayDataset(np.zeros((3, 2), np.uint8), None,
                         dataset.DataSpec((2,), None, False))
