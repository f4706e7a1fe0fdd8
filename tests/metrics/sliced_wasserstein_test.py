"""Tests of ganjax.metrics.sliced_wasserstein against SciPy and PGGAN."""

import numpy as np
import pytest
from scipy import ndimage
from scipy import stats

from ganjax.metrics import sliced_wasserstein

_N = 128


def _smooth_images(rng, n, sigma=1.5, size=32):
  """Gaussian random fields of correlation length sigma, as uint8."""
  fields = ndimage.gaussian_filter(rng.standard_normal((n, size, size, 3)),
                                   (0, sigma, sigma, 0))
  return np.clip(128 + 50 * fields / fields.std(), 0, 255).astype(np.uint8)


def test_projected_distances_match_scipy():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((300, 10))
  b = 0.5 * rng.standard_exponential((300, 10)) + 0.3
  directions = rng.standard_normal((10, 16))
  directions /= np.linalg.norm(directions, axis=0)
  got = sliced_wasserstein.projected_distances(a, b, directions)
  want = [stats.wasserstein_distance(a @ d, b @ d) for d in directions.T]
  np.testing.assert_allclose(got, want, rtol=1e-12)


def _pggan_pyramid(images, levels):
  """PGGAN's `generate_laplacian_pyramid`, channels last."""
  kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])[None, :, :, None] / 256
  convolve = lambda x, k: ndimage.convolve(x, k, mode="mirror")
  pyramid = [np.float32(images)]
  for _ in range(1, levels):
    pyramid.append(convolve(pyramid[-1], kernel)[:, ::2, ::2])
    up = np.zeros_like(pyramid[-2])
    up[:, ::2, ::2] = pyramid[-1]
    pyramid[-2] -= convolve(up, 4 * kernel)
  return pyramid


def test_pyramid_matches_pggan():
  images = np.random.default_rng(1).integers(0, 256, (4, 64, 64, 3),
                                             dtype=np.uint8)
  got = sliced_wasserstein.laplacian_pyramid(images, 3)
  want = _pggan_pyramid(images, 3)
  assert [level.shape[1] for level in got] == [64, 32, 16]
  for got_level, want_level in zip(got, want):
    np.testing.assert_allclose(got_level, want_level, atol=1e-3)


@pytest.mark.parametrize("size,keys", [
    (32, ["swd_32", "swd_16"]),
    (64, ["swd_64", "swd_32", "swd_16"]),
])
def test_keys_name_pyramid_resolutions(size, keys):
  rng = np.random.default_rng(2)
  real, fake = np.split(_smooth_images(rng, 16, size=size), 2)
  scores = sliced_wasserstein.sliced_wasserstein(
      real, fake, rng, descriptors_per_image=16)
  assert list(scores) == keys + ["swd_mean"]
  np.testing.assert_allclose(scores["swd_mean"],
                             np.mean([scores[key] for key in keys]))


def test_identical_sets_score_zero():
  rng = np.random.default_rng(3)
  images = _smooth_images(rng, 32)
  scores = sliced_wasserstein.sliced_wasserstein(images, images, rng)
  assert all(value == 0.0 for value in scores.values())


def test_brightness_shift_is_normalized_away():
  rng = np.random.default_rng(4)
  images = _smooth_images(rng, 32) // 2
  scores = sliced_wasserstein.sliced_wasserstein(images, images + 60, rng)
  assert all(value < 1e-6 for value in scores.values()), scores


def test_same_distribution_scores_far_below_a_different_one():
  rng = np.random.default_rng(5)
  real, other_real = np.split(_smooth_images(rng, 2 * _N), 2)
  noised = np.clip(other_real + rng.normal(0.0, 30.0, other_real.shape), 0,
                   255).astype(np.uint8)
  smoother = _smooth_images(rng, _N, sigma=3.0)
  same = sliced_wasserstein.sliced_wasserstein(real, other_real, rng)
  with_noise = sliced_wasserstein.sliced_wasserstein(real, noised, rng)
  with_blur = sliced_wasserstein.sliced_wasserstein(real, smoother, rng)
  # Pixel noise shows at 32 px; the 16-px low-pass level averages it away.
  assert with_noise["swd_32"] > 3 * same["swd_32"], (same, with_noise)
  for key in same:
    assert with_blur[key] > 2 * same[key], (same, with_blur)


def test_invalid_arguments_raise():
  rng = np.random.default_rng(6)
  images = np.zeros((4, 32, 32, 3), np.uint8)
  with pytest.raises(ValueError, match="of one shape"):
    sliced_wasserstein.sliced_wasserstein(images, images[:2], rng)
  with pytest.raises(ValueError, match="at least 16×16"):
    sliced_wasserstein.sliced_wasserstein(images[:, :8], images[:, :8], rng)
  with pytest.raises(ValueError, match="multiple of num_repeats"):
    sliced_wasserstein.sliced_wasserstein(images, images, rng,
                                          num_directions=510)
