"""Tests of ganjax.metrics.mode_coverage against closed forms."""

import numpy as np
import pytest

from ganjax.data import mixtures
from ganjax.metrics import mode_coverage

_N = 20_000
# ‖x - μ‖/σ is Rayleigh-distributed in 2-D: P(r < 3) = 1 - exp(-9/2).
_HQ_EXACT = 1.0 - np.exp(-4.5)


@pytest.mark.parametrize("mixture", [mixtures.ring_mixture(),
                                     mixtures.grid_mixture()],
                         ids=["ring", "grid"])
def test_exact_samples(mixture):
  samples = mixture.sample(np.random.default_rng(0), _N)
  scores = mode_coverage.mode_coverage(samples, mixture.means, mixture.std)
  assert scores["modes"] == len(mixture.means)
  assert abs(scores["high_quality"] - _HQ_EXACT) < 0.005
  assert 0.0 <= scores["reverse_kl"] < 0.01


@pytest.mark.parametrize("mixture", [mixtures.ring_mixture(),
                                     mixtures.grid_mixture()],
                         ids=["ring", "grid"])
def test_all_samples_at_one_mode(mixture):
  rng = np.random.default_rng(1)
  samples = mixture.means[3] + 0.5 * mixture.std * rng.standard_normal(
      (500, 2))
  scores = mode_coverage.mode_coverage(samples, mixture.means, mixture.std)
  assert scores["modes"] == 1
  np.testing.assert_allclose(scores["reverse_kl"],
                             np.log(len(mixture.means)), rtol=1e-12)


def test_samples_far_away():
  mixture = mixtures.ring_mixture()
  samples = np.full((100, 2), 10.0)
  scores = mode_coverage.mode_coverage(samples, mixture.means, mixture.std)
  assert scores["modes"] == 0
  assert scores["high_quality"] == 0.0
  assert scores["reverse_kl"] == float("inf")


def test_hand_computed_histogram():
  means = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
  std = 0.1
  samples = np.array([
      [0.0, 0.0], [0.05, 0.0], [0.0, -0.29],  # Mode 0, within 3σ.
      [1.0, 0.1],                             # Mode 1.
      [0.0, 0.69],                            # Nearest mode 2, but 3.1σ.
      [5.0, 5.0],                             # Far from everything.
  ])
  scores = mode_coverage.mode_coverage(samples, means, std)
  assert scores["modes"] == 2
  np.testing.assert_allclose(scores["high_quality"], 4 / 6)
  # q = (3/4, 1/4) over 2 of 4 modes.
  want = 0.75 * np.log(0.75 * 4) + 0.25 * np.log(0.25 * 4)
  np.testing.assert_allclose(scores["reverse_kl"], want, rtol=1e-12)


def test_threshold_argument():
  means = np.zeros((1, 2))
  samples = np.array([[0.0, 1.5], [0.0, 2.5]])
  loose = mode_coverage.mode_coverage(samples, means, 1.0, threshold=3.0)
  tight = mode_coverage.mode_coverage(samples, means, 1.0, threshold=2.0)
  assert loose["high_quality"] == 1.0 and tight["high_quality"] == 0.5
  assert loose["reverse_kl"] == 0.0 and tight["reverse_kl"] == 0.0
