"""Tests of the Inception's input preprocessing against TF and JAX resizes."""

import jax
import numpy as np
import pytest
import tensorflow as tf

from ganjax.metrics.inception import inputs as inception_input


@pytest.mark.parametrize("in_size", [8, 28, 64, 299, 512])
def test_tf_resize_matches_tf1_resize_bilinear(in_size):
  image = np.random.default_rng(in_size).uniform(
      0, 255, (1, in_size, in_size, 3)).astype(np.float32)
  want = tf.compat.v1.image.resize_bilinear(image, (299, 299),
                                            align_corners=False).numpy()
  got = np.asarray(inception_input.preprocess(image, "tf")) * 128 + 128
  np.testing.assert_allclose(got, want, atol=1e-2)  # 4e-5 of the range.


@pytest.mark.parametrize("in_size", [8, 28, 64, 512])
def test_pytorch_resize_is_half_pixel_bilinear(in_size):
  # jax.image.resize's linear resize without antialiasing is PyTorch's
  # F.interpolate(mode="bilinear", align_corners=False).
  image = np.random.default_rng(in_size).uniform(
      0, 255, (1, in_size, in_size, 3)).astype(np.float32)
  want = jax.image.resize(image, (1, 299, 299, 3), "linear", antialias=False)
  got = (np.asarray(inception_input.preprocess(image, "pytorch")) + 1) * 127.5
  np.testing.assert_allclose(got, want, atol=1e-2)  # 4e-5 of the range.


def test_rows_of_the_resize_are_convex_weights():
  for method in ("tf", "pytorch"):
    weights = inception_input.resize_matrix(37, 299, method)
    assert weights.min() >= 0
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


def test_grayscale_is_tiled_and_scaled_to_the_tf_range():
  image = np.full((2, 299, 299, 1), 192, np.uint8)
  out = np.asarray(inception_input.preprocess(image))
  assert out.shape == (2, 299, 299, 3)
  np.testing.assert_allclose(out, 0.5)
  assert float(inception_input.preprocess(np.zeros((1, 299, 299, 3),
                                                   np.uint8)).min()) == -1.0


def test_clean_resize_is_pil_bicubic_per_channel():
  image = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3), np.uint8)
  out = inception_input.clean_resize(image)
  assert out.shape == (1, 299, 299, 3) and out.dtype == np.float32
  assert out.min() >= 0 and out.max() <= 255  # Overshoot clipped.
  # Bicubic overshoots slightly but keeps the mean.
  np.testing.assert_allclose(out.mean(), image.mean(), rtol=0.02)
  with pytest.raises(ValueError, match="clean_resize"):
    inception_input.preprocess(image, "clean")


def test_check_images():
  inception_input.check_images(np.zeros((1, 5, 5, 1), np.uint8))
  with pytest.raises(ValueError, match="uint8"):
    inception_input.check_images(np.zeros((1, 5, 5, 3), np.float32))
  with pytest.raises(ValueError, match="1 or 3"):
    inception_input.check_images(np.zeros((1, 5, 5, 4), np.uint8))
