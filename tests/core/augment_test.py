"""Tests of ganjax.core.augment (DiffAugment) against NumPy computations of
the paper code's operations, and of gradients through them to G."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import augment


def _images(num=4, size=8, channels=3, seed=0):
  return np.random.default_rng(seed).uniform(
      -1, 1, (num, size, size, channels)).astype(np.float32)


def _numpy_translate(image, dh, dw):
  """The paper's rand_translation for one image (HWC), shift given: out
  pixel (i, j) is input (i − dh, j − dw), 0 outside."""
  out = np.zeros_like(image)
  height, width = image.shape[:2]
  for i in range(height):
    for j in range(width):
      if 0 <= i - dh < height and 0 <= j - dw < width:
        out[i, j] = image[i - dh, j - dw]
  return out


def _numpy_cutout(image, center_h, center_w, size):
  """The paper's rand_cutout for one image: the clamped grid of a
  size[0] × size[1] square set to 0 through a mask."""
  height, width = image.shape[:2]
  mask = np.ones((height, width), image.dtype)
  for a in range(size[0]):
    for b in range(size[1]):
      mask[np.clip(a + center_h - size[0] // 2, 0, height - 1),
           np.clip(b + center_w - size[1] // 2, 0, width - 1)] = 0
  return image * mask[..., None]


def test_translate_moves_pixels_and_fills_zeros():
  x = _images()
  shifts_h, shifts_w = np.array([0, 1, -2, 7]), np.array([3, -1, 0, -8])
  got = np.asarray(augment.translate(x, jnp.array(shifts_h),
                                     jnp.array(shifts_w)))
  for n in range(len(x)):
    np.testing.assert_array_equal(
        got[n], _numpy_translate(x[n], shifts_h[n], shifts_w[n]))


def test_cut_out_matches_the_clamped_mask():
  x = _images(num=5)
  centers_h, centers_w = np.array([0, 7, 3, 8, 1]), np.array([8, 0, 4, 2, 0])
  got = np.asarray(augment.cut_out(x, jnp.array(centers_h),
                                   jnp.array(centers_w), (4, 4)))
  for n in range(len(x)):
    np.testing.assert_array_equal(
        got[n], _numpy_cutout(x[n], centers_h[n], centers_w[n], (4, 4)))


def test_random_translation_and_cutout_stay_in_the_paper_s_ranges():
  x = _images(num=64, size=16, channels=1) + 2  # No pixel is 0.
  moved = np.asarray(augment.translation(x, jax.random.key(0)))
  shifts = set()
  for n in range(len(x)):
    found = [(dh, dw) for dh in range(-2, 3) for dw in range(-2, 3)
             if np.array_equal(moved[n], _numpy_translate(x[n], dh, dw))]
    assert len(found) == 1  # round(16 / 8) = 2 pixels at most.
    shifts.add(found[0])
  assert len(shifts) > 10
  cut = np.asarray(augment.cutout(x, jax.random.key(1)))
  zeros = (cut == 0).reshape(len(x), -1).sum(1)
  assert zeros.max() == 64 and zeros.min() >= 16  # An 8×8 square, clipped.


def test_color_transforms_by_value():
  x = _images()
  rng = jax.random.key(3)
  u = np.asarray(jax.random.uniform(rng, (4, 1, 1, 1)))
  np.testing.assert_allclose(augment.brightness(x, rng), x + u - 0.5,
                             atol=1e-6)
  mean = x.mean(-1, keepdims=True)
  np.testing.assert_allclose(augment.saturation(x, rng),
                             (x - mean) * 2 * u + mean, atol=1e-6)
  mean = x.mean((1, 2, 3), keepdims=True)
  np.testing.assert_allclose(augment.contrast(x, rng),
                             (x - mean) * (u + 0.5) + mean, atol=1e-6)
  assert np.all((u >= 0) & (u < 1))


def test_policies_are_checked():
  with pytest.raises(ValueError, match="'colour'.*color"):
    augment.parse_policy("colour,translation")
  assert augment.parse_policy(" color , cutout") == ("color", "cutout")


def test_gradients_flow_through_the_transforms_to_g():
  """d/dθ of a fixed linear D on DiffAugment(G_θ(z)), against central
  differences in float64: the transforms pass G's gradient."""
  with jax.enable_x64(True):
    z = jax.random.normal(jax.random.key(0), (3, 4), jnp.float64)
    w = jax.random.normal(jax.random.key(1), (4, 6 * 6 * 3), jnp.float64)
    d = jax.random.normal(jax.random.key(2), (6, 6, 3), jnp.float64)

    def objective(theta):
      images = jnp.tanh(z @ theta).reshape(3, 6, 6, 3)
      seen = augment.diff_augment(images, jax.random.key(4),
                                  "color,translation,cutout")
      return jnp.sum(seen * d)

    grad = np.asarray(jax.grad(objective)(w))
    assert np.abs(grad).max() > 0
    eps = 1e-6
    for index in [(0, 0), (1, 17), (2, 50), (3, 107)]:
      bump = np.zeros(w.shape)
      bump[index] = eps
      numeric = (objective(w + bump) - objective(w - bump)) / (2 * eps)
      np.testing.assert_allclose(grad[index], numeric, rtol=1e-5, atol=1e-8)
