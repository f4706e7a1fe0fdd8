"""Tests of ganjax.metrics.prdc against brute force and Naeem et al.'s setup."""

import numpy as np
import pytest
import scipy.spatial.distance

from ganjax.metrics import prdc


def _radii(features, k):
  """Distance to the k-th nearest other point, one point at a time."""
  distances = scipy.spatial.distance.cdist(features, features)
  return np.array([sorted(np.delete(row, i))[k - 1]
                   for i, row in enumerate(distances)])


def _brute_force(real, fake, k):
  """The four metrics by their definitions, with loops over points."""
  distances = scipy.spatial.distance.cdist(real, fake)  # [N, M].
  real_radii = _radii(real, k)
  n, m = distances.shape
  metrics = {
      "precision": np.mean([
          any(distances[i, j] < real_radii[i] for i in range(n))
          for j in range(m)]),
      "density": sum(distances[i, j] < real_radii[i]
                     for i in range(n) for j in range(m)) / (k * m),
      "coverage": np.mean([
          any(distances[i, j] < real_radii[i] for j in range(m))
          for i in range(n)])}
  if m > k:  # Recall needs k-NN balls around the fake points.
    fake_radii = _radii(fake, k)
    metrics["recall"] = np.mean([
        any(distances[i, j] < fake_radii[j] for j in range(m))
        for i in range(n)])
  return metrics


def _all_metrics(real, fake, k, block_size=1024):
  return {**prdc.precision_recall(real, fake, k, block_size),
          **prdc.density_coverage(real, fake, k, block_size)}


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("block_size", [7, 1024])
def test_matches_brute_force(k, block_size):
  rng = np.random.default_rng(0)
  real = rng.standard_normal((60, 5))
  # Partly overlapping, so no metric is stuck at 0 or 1.
  fake = 0.7 * rng.standard_normal((45, 5)) + 1.0
  want = _brute_force(real, fake, k)
  assert all(0 < value < 1 for key, value in want.items() if key != "density")
  got = _all_metrics(real, fake, k, block_size)
  for key in want:
    np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)


def test_float32_input_and_large_offsets():
  # Features far from the origin stress the ‖x‖² + ‖y‖² − 2xᵀy expansion.
  rng = np.random.default_rng(1)
  real = (rng.uniform(size=(50, 16)) + 30.0).astype(np.float32)
  fake = (rng.uniform(size=(40, 16)) + 30.1).astype(np.float32)
  want = _brute_force(real.astype(np.float64), fake.astype(np.float64), 3)
  got = _all_metrics(real, fake, 3, block_size=16)
  for key in want:
    np.testing.assert_allclose(got[key], want[key], rtol=1e-12, err_msg=key)


def test_identical_sets():
  features = np.random.default_rng(2).standard_normal((200, 8))
  got = _all_metrics(features, features, 5, block_size=64)
  assert got["precision"] == got["recall"] == got["coverage"] == 1.0
  # Each ball holds its centre and the k − 1 strictly nearer neighbours; the
  # k-th sits on the open boundary, where round-off may let it in.
  assert 1.0 <= got["density"] <= 1.0 + 1.0 / 5


def test_far_shifted_fake_gives_zeros():
  rng = np.random.default_rng(3)
  real = rng.standard_normal((100, 8))
  fake = rng.standard_normal((80, 8)) + 100.0
  got = _all_metrics(real, fake, 5)
  assert got == {"precision": 0.0, "recall": 0.0, "density": 0.0,
                 "coverage": 0.0}


def test_naeem_protocol():
  # README of clovaai/generative-evaluation-prdc: real and fake both N(0, I)
  # in 1000 dimensions, k = 5. For identically distributed sets the N − 1
  # other real points and the M fake points are exchangeable around X_i, so
  # E[density] = 1 and E[coverage] = 1 − C(N − 1, k) / C(N + M − 1, k),
  # ≈ 1 − 2⁻ᵏ = 0.969 for N = M. Over 12 seeds at N = M = 2000 the spread was
  # 0.08 for density (hubness in high dimensions makes the per-point ball
  # counts heavy-tailed) and 0.007 for coverage; the tolerances are ~4σ.
  n, k = 2000, 5
  rng = np.random.default_rng(4)
  real = rng.standard_normal((n, 1000))
  fake = rng.standard_normal((n, 1000))
  got = prdc.density_coverage(real, fake, k)
  expected_coverage = 1.0 - np.prod((n - 1 - np.arange(k)) /
                                    (2 * n - 1 - np.arange(k)))
  assert abs(got["density"] - 1.0) < 0.3
  assert abs(got["coverage"] - expected_coverage) < 0.03


def test_density_coverage_allows_few_fake_points():
  # Density and coverage use only the real points' balls.
  rng = np.random.default_rng(5)
  real, fake = rng.standard_normal((20, 3)), rng.standard_normal((2, 3))
  want = _brute_force(real, fake, 5)
  got = prdc.density_coverage(real, fake, k=5)
  assert got == pytest.approx({key: want[key] for key in got}, rel=1e-12)


def test_invalid_inputs():
  rng = np.random.default_rng(6)
  real, fake = rng.standard_normal((10, 3)), rng.standard_normal((10, 3))
  with pytest.raises(ValueError, match="D = 3 .* D = 4"):
    prdc.precision_recall(real, np.zeros((10, 4)))
  with pytest.raises(ValueError, match=r"k must be in \[1, 9\]"):
    prdc.density_coverage(real, fake, k=10)
  with pytest.raises(ValueError, match="generated points"):
    prdc.precision_recall(real, fake[:3], k=3)
  fake[1, 1] = np.inf
  with pytest.raises(ValueError, match="generated features contain NaN or inf"):
    prdc.density_coverage(real, fake)
