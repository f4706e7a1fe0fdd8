"""Tests of ganjax.data.digits: the scikit-learn digits as [-1, 1] images."""

import numpy as np
from sklearn import datasets as sklearn_datasets

from ganjax.data import digits


def test_digits_28():
  data = digits.digits(seed=0, size=28)
  assert data.examples.shape == (1797, 28, 28, 1)
  assert data.examples.dtype == np.float32
  assert data.spec.shape == (28, 28, 1)
  assert data.spec.is_image and data.spec.num_classes == 10
  assert data.examples.min() >= -1.0 and data.examples.max() <= 1.0
  # Background pixels are black (-1) and strokes reach white (+1).
  assert data.examples.min() == -1.0 and data.examples.max() == 1.0
  np.testing.assert_array_equal(np.unique(data.labels), np.arange(10))
  raw = sklearn_datasets.load_digits()
  np.testing.assert_array_equal(data.labels, raw.target)
  # The resized images keep the originals' brightness: per-image means of
  # the [0, 1] intensities agree closely.
  raw_means = (raw.images / 16.0).mean(axis=(1, 2))
  resized_means = ((data.examples + 1.0) / 2.0).mean(axis=(1, 2, 3))
  assert np.corrcoef(raw_means, resized_means)[0, 1] > 0.98
  np.testing.assert_allclose(resized_means, raw_means, atol=0.05)


def test_digits_at_native_size_is_a_rescaling():
  # At 8×8 there is no resizing: x = 2 · v / 16 - 1 exactly.
  data = digits.digits(seed=0, size=8)
  raw = sklearn_datasets.load_digits()
  np.testing.assert_allclose(data.examples[..., 0], raw.images / 8.0 - 1.0,
                             atol=1e-6)


def test_seed_is_ignored():
  np.testing.assert_array_equal(digits.digits(seed=0, size=16).examples,
                                digits.digits(seed=5, size=16).examples)
