"""Tests of ganjax.metrics.ms_ssim against TensorFlow's MS-SSIM."""

import numpy as np
import pytest
from scipy import ndimage

from ganjax.metrics import ms_ssim

# The smallest images with 5 scales: height 161 is odd at every scale (padded
# each time), width 176 halves evenly to the 11-px window.
_SHAPE = (2, ms_ssim.MIN_SIZE, 176, 3)
# Compare GAN's variant on small images: 45 → 23 → 12 → 6 → 3 pixels high.
_SMALL_SHAPE = (8, 45, 40, 3)


def _smooth(rng, shape):
  """Smooth images spanning [0, 255]."""
  images = ndimage.gaussian_filter(rng.uniform(size=shape), (0, 4, 4, 0))
  images -= images.min()
  return 255.0 * images / images.max()


def _noisy(rng, images, std):
  return np.clip(images + rng.normal(0.0, std, images.shape), 0.0, 255.0)


def _pairs(kind):
  rng = np.random.default_rng(0)
  if kind == "random":
    return rng.uniform(0, 255, _SHAPE), rng.uniform(0, 255, _SHAPE)
  clean = _smooth(rng, _SHAPE)
  noisy = _noisy(rng, clean, 10.0)
  if kind == "uint8":
    return np.round(clean).astype(np.uint8), np.round(noisy).astype(np.uint8)
  return clean, noisy


@pytest.mark.parametrize("kind", ["random", "smooth", "uint8"])
def test_matches_tensorflow(kind):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  a, b = _pairs(kind)
  if a.dtype != np.uint8:
    a, b = a.astype(np.float32), b.astype(np.float32)
  want = tf.image.ssim_multiscale(a, b, max_val=255).numpy()
  got = np.asarray(ms_ssim.ms_ssim(a, b))
  # TF works in float32 (E[xy] - E[x]E[y] cancels); the two agree to 3e-6.
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def _compare_gan_reference(a, b):
  """Compare GAN's `image_similarity.multiscale_ssim`, from TF's parts."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.ops import image_ops_impl  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  a, b = tf.constant(a, tf.float32), tf.constant(b, tf.float32)
  factors = []
  for k, weight in enumerate(ms_ssim.POWER_FACTORS):
    if k > 0:
      pad = [[0, 0], [0, a.shape[1] % 2], [0, a.shape[2] % 2], [0, 0]]
      a, b = (tf.nn.avg_pool2d(tf.pad(x, pad, mode="SYMMETRIC"), 2, 2,
                               "VALID") for x in (a, b))
    ssim, cs = image_ops_impl._ssim_per_channel(  # pylint: disable=protected-access
        a, b, max_val=255.0, filter_size=min(11, a.shape[1], a.shape[2]))
    last = k == len(ms_ssim.POWER_FACTORS) - 1
    factors.append(tf.nn.relu(ssim if last else cs).numpy() ** weight)
  return np.mean(np.prod(factors, axis=0), axis=-1)


def _small_images(rng):
  return np.round(_noisy(rng, _smooth(rng, _SMALL_SHAPE), 20.0)).astype(
      np.uint8)


def _ordered_pairs(n):
  """Indices of the n·(n - 1) ordered pairs of distinct images."""
  return np.nonzero(~np.eye(n, dtype=bool))


def test_shrink_window_matches_compare_gan():
  images = _small_images(np.random.default_rng(1))
  first, second = _ordered_pairs(len(images))
  want = _compare_gan_reference(images[first], images[second])
  got = np.asarray(ms_ssim.ms_ssim(images[first], images[second],
                                   shrink_window=True))
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_identical_images_score_one():
  a, _ = _pairs("smooth")
  np.testing.assert_allclose(ms_ssim.ms_ssim(a, a), 1.0, atol=1e-6)


def test_decreases_as_noise_grows():
  rng = np.random.default_rng(2)
  clean = _smooth(rng, _SHAPE)
  scores = np.array([ms_ssim.ms_ssim(clean, _noisy(rng, clean, std))
                     for std in (2.0, 8.0, 32.0, 128.0)])
  assert np.all(np.diff(scores, axis=0) < 0), scores
  assert np.all(scores[0] > 0.99) and np.all(scores[-1] < 0.5), scores


def test_diversity_averages_all_ordered_pairs():
  images = _small_images(np.random.default_rng(3))
  first, second = _ordered_pairs(len(images))
  want = np.mean(ms_ssim.ms_ssim(images[first], images[second],
                                 shrink_window=True))
  # One batch of every image: the shuffle does not change the pairs.
  got = ms_ssim.ms_ssim_diversity(images, np.random.default_rng(0),
                                  num_batches=1, batch_size=len(images),
                                  shrink_window=True)
  np.testing.assert_allclose(got["ms_ssim"], want, rtol=1e-5)


def test_diversity_of_identical_images_is_one():
  images = np.repeat(_small_images(np.random.default_rng(4))[:1], 20, axis=0)
  score = ms_ssim.ms_ssim_diversity(images, np.random.default_rng(0),
                                    num_batches=2, batch_size=8,
                                    shrink_window=True)
  np.testing.assert_allclose(score["ms_ssim"], 1.0, atol=1e-5)


def test_diversity_of_noise_is_low():
  rng = np.random.default_rng(5)
  images = rng.integers(0, 256, (20,) + _SMALL_SHAPE[1:], dtype=np.uint8)
  score = ms_ssim.ms_ssim_diversity(images, rng, num_batches=2, batch_size=8,
                                    shrink_window=True)
  assert 0.0 <= score["ms_ssim"] < 0.1


def test_too_small_images_raise():
  small = np.zeros((2, ms_ssim.MIN_SIZE - 1, 200, 3), np.uint8)
  with pytest.raises(ValueError, match="161×161"):
    ms_ssim.ms_ssim(small, small)
  with pytest.raises(ValueError, match="161×161"):
    ms_ssim.ms_ssim_diversity(small, np.random.default_rng(0), batch_size=2)


def test_too_few_images_raise():
  images = np.zeros((10, 32, 32, 3), np.uint8)
  with pytest.raises(ValueError, match="one batch of 64 images, got 10"):
    ms_ssim.ms_ssim_diversity(images, np.random.default_rng(0),
                              shrink_window=True)
