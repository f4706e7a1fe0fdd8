"""Tests of ganjax.inferred_labels: the linear probe, filling, accuracy."""

import numpy as np
import pytest

from ganjax import inferred_labels


def test_linear_probe_learns_from_the_labeled_rows_only():
  rng = np.random.default_rng(0)
  truth = rng.integers(0, 3, 300)
  features = rng.normal(size=(300, 8)) + 4.0 * np.eye(3, 8)[truth]
  labels = np.where(np.arange(300) < 30, truth, -1)
  predict = inferred_labels.linear_probe(features, labels)
  predicted = predict(features)
  assert predicted.dtype == np.int32
  assert set(predicted) <= {0, 1, 2}  # −1 is not a class.
  assert inferred_labels.accuracy(predicted[30:], truth[30:]) > 0.9
  with pytest.raises(ValueError, match="No labeled examples"):
    inferred_labels.linear_probe(features, np.full(300, -1))


def test_fill_keeps_the_known_labels():
  filled = inferred_labels.fill(np.array([3, -1, 0, -1]),
                                np.array([1, 2, 2, 5]))
  np.testing.assert_array_equal(filled, [3, 2, 0, 5])
  assert filled.dtype == np.int32
  assert inferred_labels.accuracy(filled, np.array([3, 2, 1, 1])) == 0.5
