"""Tests of ganjax.data.preprocess."""

import numpy as np
import pytest

from ganjax.data import preprocess


def _ramp(h, w, c=3):
  """Pixel (i, j) holds i·w + j in every channel (mod 256)."""
  values = (np.arange(h)[:, None] * w + np.arange(w)[None, :]) % 256
  return np.repeat(values[..., None], c, axis=-1).astype(np.uint8)


def test_center_crop_takes_the_middle():
  image = _ramp(10, 8)
  got = preprocess.center_crop(image, 4)
  np.testing.assert_array_equal(got, image[3:7, 2:6])


def test_center_crop_too_small_raises():
  with pytest.raises(ValueError, match="4×3"):
    preprocess.center_crop(_ramp(4, 3), 5)


def test_crop_or_pad_pads_small_and_crops_large_sides():
  image = _ramp(3, 9, 1) + 1  # No zeros inside the image.
  got = preprocess.crop_or_pad(image, 5)
  assert got.shape == (5, 5, 1)
  # Rows: 1 zero row above, 1 below; columns: the middle 5 of 9.
  np.testing.assert_array_equal(got[1:4], image[:, 2:7])
  assert not got[0].any() and not got[4].any()


@pytest.mark.parametrize("channels", [1, 3])
def test_resize_keeps_constant_images_and_reaches_the_size(channels):
  image = np.full((40, 30, channels), 77, np.uint8)
  got = preprocess.resize(image, 16)
  assert got.shape == (16, 16, channels) and got.dtype == np.uint8
  np.testing.assert_array_equal(got, 77)


def test_resize_smooths_when_shrinking():
  # A one-pixel checkerboard averages to grey rather than aliasing.
  board = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)[..., None]
  got = preprocess.resize(board, 16).astype(float)
  assert abs(got.mean() - 127.5) < 2 and got.std() < 10


def test_square_crops():
  image = _ramp(30, 20)
  rng = np.random.default_rng(0)
  np.testing.assert_array_equal(
      preprocess.square_crop(image, "middle", rng), image[5:25])
  assert preprocess.square_crop(image, "none", rng) is image
  assert preprocess.square_crop(image, "random", rng).shape == (20, 20, 3)
  for _ in range(20):
    side = preprocess.square_crop(image, "distorted", rng).shape[0]
    # 50–100 % of the area, clipped to the shorter side.
    assert round(np.sqrt(0.5 * 600)) <= side <= 20


def test_square_crop_unknown_method_raises():
  with pytest.raises(ValueError, match="crop method"):
    preprocess.square_crop(_ramp(4, 4), "corner", np.random.default_rng(0))
