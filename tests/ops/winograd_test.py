"""Tests of ganjax.ops.winograd: F(2×2, 3×3) against XLA's convolution."""

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

from ganjax.ops import conv
from ganjax.ops import winograd

_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


@pytest.mark.parametrize("height,width,pads", [
    (8, 8, ((1, 1), (1, 1))),   # even output, "SAME".
    (7, 9, ((1, 1), (1, 1))),   # odd output: the last tile overhangs.
    (9, 6, ((0, 0), (0, 0))),   # "VALID".
    (5, 5, ((2, 0), (0, 1))),   # uneven padding.
    (3, 3, ((0, 0), (0, 0))),   # a single output pixel.
])
def test_conv3x3_matches_lax(height, width, pads):
  rng = np.random.default_rng(height * width)
  x = rng.normal(size=(2, height, width, 5)).astype(np.float32)
  kernel = rng.normal(size=(3, 3, 5, 7)).astype(np.float32)
  want = lax.conv_general_dilated(x, kernel, (1, 1), pads,
                                  dimension_numbers=_DIMENSIONS,
                                  precision=lax.Precision.HIGHEST)
  got = jax.jit(winograd.conv3x3, static_argnums=2)(x, kernel, pads)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv3x3_gradients_match_lax():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 7, 7, 3)).astype(np.float32)
  kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
  g = rng.normal(size=(2, 7, 7, 4)).astype(np.float32)
  pads = ((1, 1), (1, 1))

  def loss(conv):
    return lambda x, k: jnp.sum(conv(x, k) * g)

  want = jax.jit(jax.grad(loss(lambda x, k: lax.conv_general_dilated(
      x, k, (1, 1), pads, dimension_numbers=_DIMENSIONS)), (0, 1)))(x, kernel)
  got = jax.jit(jax.grad(loss(lambda x, k: winograd.conv3x3(x, k, pads)),
                         (0, 1)))(x, kernel)
  for got_grad, want_grad in zip(got, want):
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-4, atol=1e-4)


def test_conv_general_dilated_takes_winograd_for_3x3_stride_1_only():
  x = jnp.ones((1, 6, 6, 2))

  def products(kernel_size, strides):
    kernel = jnp.ones((*kernel_size, 2, 3))
    hlo = jax.jit(lambda x, k: conv.conv_general_dilated(
        x, k, strides, "SAME", dimension_numbers=_DIMENSIONS,
        winograd=True)).lower(x, kernel).compile().as_text()
    return hlo.count(" dot(")

  assert products((3, 3), (1, 1)) >= 16  # And the kernel's transform.
  assert products((3, 3), (2, 2)) == 1
  assert products((5, 5), (1, 1)) == 1
