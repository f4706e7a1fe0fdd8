"""Tests of ganjax.metrics.kernel_distance against a brute-force MMD²."""

import itertools

import numpy as np
import pytest

from ganjax.metrics import kernel_distance


def _brute_force_mmd2(x, y):
  """Unbiased MMD²: double loops over pairs, diagonal excluded within sets."""
  d = x.shape[1]
  kernel = lambda a, b: (np.dot(a, b) / d + 1.0)**3
  m, n = len(x), len(y)
  k_xx = sum(kernel(x[i], x[j])
             for i, j in itertools.permutations(range(m), 2))
  k_yy = sum(kernel(y[i], y[j])
             for i, j in itertools.permutations(range(n), 2))
  k_xy = sum(kernel(x[i], y[j])
             for i, j in itertools.product(range(m), range(n)))
  return k_xx / (m * (m - 1)) + k_yy / (n * (n - 1)) - 2 * k_xy / (m * n)


@pytest.mark.parametrize("m,n,d", [(2, 2, 1), (7, 7, 5), (9, 6, 3)])
def test_mmd2_matches_brute_force(m, n, d):
  rng = np.random.default_rng(0)
  x, y = rng.standard_normal((m, d)), 1.0 + rng.standard_normal((n, d))
  np.testing.assert_allclose(kernel_distance.polynomial_mmd2(x, y),
                             _brute_force_mmd2(x, y), rtol=1e-12)


def test_one_subset_covering_all_points():
  # A subset of every point is a permutation, which the estimate ignores.
  rng = np.random.default_rng(1)
  real, fake = rng.standard_normal((8, 4)), rng.uniform(size=(8, 4))
  scores = kernel_distance.kernel_distance(
      real, fake, np.random.default_rng(0), num_subsets=1, subset_size=1000)
  np.testing.assert_allclose(scores["kid"], _brute_force_mmd2(real, fake),
                             rtol=1e-12)
  assert scores["kid_std"] == 0.0


def test_same_distribution_is_near_zero():
  rng = np.random.default_rng(2)
  real, fake = rng.standard_normal((2000, 16)), rng.standard_normal(
      (2000, 16))
  scores = kernel_distance.kernel_distance(real, fake, rng, num_subsets=50,
                                           subset_size=200)
  # kid_std is the spread of one subset's estimate, which bounds the standard
  # error of their mean (overlapping subsets are not independent, so
  # kid_std / sqrt(num_subsets) would not).
  assert scores["kid_std"] > 0
  assert abs(scores["kid"]) < 3 * scores["kid_std"]


def test_mean_shift_is_positive():
  rng = np.random.default_rng(3)
  real = rng.standard_normal((1000, 16))
  fake = 0.5 + rng.standard_normal((1000, 16))
  scores = kernel_distance.kernel_distance(real, fake, rng, num_subsets=20,
                                           subset_size=200)
  assert scores["kid"] > 10 * scores["kid_std"] > 0


def test_deterministic_for_a_seed():
  rng = np.random.default_rng(4)
  real, fake = rng.standard_normal((300, 8)), rng.standard_normal((250, 8))
  scores = lambda seed: kernel_distance.kernel_distance(
      real, fake, np.random.default_rng(seed), num_subsets=10,
      subset_size=100)
  assert scores(7) == scores(7)
  assert scores(7) != scores(8)
  assert (kernel_distance.kernel_distance(real, fake, num_subsets=3) ==
          kernel_distance.kernel_distance(real, fake, num_subsets=3))


def test_subset_size_is_capped():
  # With 5 points per set every subset is a permutation of all of them.
  rng = np.random.default_rng(5)
  real, fake = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
  scores = kernel_distance.kernel_distance(real, fake, rng, num_subsets=4)
  np.testing.assert_allclose(scores["kid"], _brute_force_mmd2(real, fake),
                             rtol=1e-12)
  assert scores["kid_std"] < 1e-12


def test_invalid_inputs():
  rng = np.random.default_rng(6)
  with pytest.raises(ValueError, match="D = 3 .* D = 4"):
    kernel_distance.kernel_distance(np.zeros((5, 3)), np.zeros((5, 4)))
  with pytest.raises(ValueError, match="at least 2"):
    kernel_distance.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
  fake = rng.standard_normal((5, 3))
  fake[0, 0] = np.nan
  with pytest.raises(ValueError, match="generated features contain NaN"):
    kernel_distance.kernel_distance(np.zeros((5, 3)), fake)
