"""Tests of ganjax.data.mixtures: mode means, spread and frequencies."""

import numpy as np
import pytest

from ganjax.data import mixtures

_N = 20_000


def _ring_means():
  return np.array([[np.cos(2 * np.pi * i / 8), np.sin(2 * np.pi * i / 8)]
                   for i in range(8)])


def _grid_means():
  coordinates = (-4, -2, 0, 2, 4)
  return np.array([[x, y] for x in coordinates for y in coordinates],
                  dtype=float)


def _sorted_rows(a):
  return a[np.lexsort(np.round(a, 6).T[::-1])]


def test_ring_and_grid_mixture_means():
  ring = mixtures.ring_mixture()
  np.testing.assert_allclose(_sorted_rows(ring.means),
                             _sorted_rows(_ring_means()), atol=1e-12)
  assert ring.std == 0.01
  grid = mixtures.grid_mixture()
  np.testing.assert_allclose(_sorted_rows(grid.means),
                             _sorted_rows(_grid_means()), atol=1e-12)
  assert grid.std == 0.05


@pytest.mark.parametrize("factory,means,std", [
    (mixtures.ring, _ring_means(), 0.01),
    (mixtures.grid, _grid_means(), 0.05),
])
def test_dataset_modes_mean_std_and_weights(factory, means, std):
  data = factory(seed=0, num_examples=_N)
  assert data.spec.shape == (2,) and not data.spec.is_image
  assert data.labels is None
  points = data.examples.astype(np.float64)
  assert points.shape == (_N, 2)
  nearest = np.argmin(
      np.linalg.norm(points[:, None] - means[None], axis=-1), axis=1)
  k = len(means)
  counts = np.bincount(nearest, minlength=k)
  # Equal weights: each count is Binomial(N, 1/K); allow 5 sigma.
  sigma = np.sqrt(_N * (1 / k) * (1 - 1 / k))
  assert np.all(np.abs(counts - _N / k) < 5 * sigma)
  deviations = points - means[nearest]
  for mode in range(k):
    in_mode = deviations[nearest == mode]
    # The mean of n ~ N/K points is off by ~ std/sqrt(n).
    np.testing.assert_allclose(in_mode.mean(axis=0), 0.0,
                               atol=6 * std / np.sqrt(len(in_mode)))
  # Isotropic spread σ on each coordinate.
  np.testing.assert_allclose(deviations.std(axis=0), [std, std], rtol=0.03)
  np.testing.assert_allclose(np.mean(deviations[:, 0] * deviations[:, 1]),
                             0.0, atol=0.05 * std**2)


def test_dataset_is_deterministic_per_seed():
  a = mixtures.ring(seed=1, num_examples=100).examples
  b = mixtures.ring(seed=1, num_examples=100).examples
  c = mixtures.ring(seed=2, num_examples=100).examples
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_default_size_is_100k():
  data = mixtures.grid(seed=0)
  assert len(data) == 100_000
  assert data.mixture.means.shape == (25, 2)
