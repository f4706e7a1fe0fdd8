"""Tests of ganjax.ops.conv: the CPU lowering against XLA's convolution, and
its switch."""

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

from ganjax.ops import conv

_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


@pytest.fixture
def lowering():
  """Restores the CPU lowering a test sets."""
  before = conv.cpu_lowering()
  yield conv.set_cpu_lowering
  conv.set_cpu_lowering(before)


def _strided_conv_hlo(x, kernel):
  def step(x, k):
    return jax.grad(lambda x, k: jnp.sum(conv.conv_general_dilated(
        x, k, (2, 2), "SAME", dimension_numbers=_DIMENSIONS) ** 2),
                    (0, 1))(x, k)
  return jax.jit(step).lower(x, kernel).compile().as_text()


# (input size, kernel, strides, padding): D's strided convs, a kernel larger
# than its input (DCGAN's 5×5 on 2×2), ResNets' 3×3 and 1×1, explicit pads.
_CONV_CASES = [
    (8, 5, (2, 2), "SAME"),
    (7, 5, (2, 2), "SAME"),
    (2, 5, (2, 2), "SAME"),
    (6, 3, (1, 1), "SAME"),
    (6, 1, (1, 1), "VALID"),
    (7, 4, (2, 2), ((1, 2), (2, 1))),
    (9, 3, (1, 2), "VALID"),
]


@pytest.mark.parametrize("size,k,strides,padding", _CONV_CASES)
def test_conv_general_dilated_matches_lax(size, k, strides, padding):
  rng = np.random.default_rng(size * k)
  x = rng.normal(size=(2, size, size, 3)).astype(np.float32)
  kernel = rng.normal(size=(k, k, 3, 4)).astype(np.float32)

  def convolve(fn):
    return lambda x, k: fn(x, k, strides, padding,
                           dimension_numbers=_DIMENSIONS)

  want = convolve(lax.conv_general_dilated)(x, kernel)
  got = jax.jit(convolve(conv.conv_general_dilated))(x, kernel)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
  g = rng.normal(size=want.shape).astype(np.float32)
  loss = lambda fn: lambda x, k: jnp.sum(convolve(fn)(x, k) * g)
  want_grads = jax.grad(loss(lax.conv_general_dilated), (0, 1))(x, kernel)
  got_grads = jax.jit(jax.grad(loss(conv.conv_general_dilated),
                               (0, 1)))(x, kernel)
  for got_grad, want_grad in zip(got_grads, want_grads):
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-4, atol=1e-4)


def test_conv_general_dilated_is_matmul_on_cpu(lowering):
  lowering("im2col")
  x, kernel = jnp.ones((2, 8, 8, 3)), jnp.ones((5, 5, 3, 4))

  hlo = _strided_conv_hlo(x, kernel)
  assert "convolution(" not in hlo
  assert "dot(" in hlo


def test_conv_general_dilated_falls_back_for_feature_groups():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 6, 6, 4)).astype(np.float32)
  kernel = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
  kwargs = dict(dimension_numbers=_DIMENSIONS, feature_group_count=2)
  np.testing.assert_allclose(
      conv.conv_general_dilated(x, kernel, (1, 1), "SAME", **kwargs),
      lax.conv_general_dilated(x, kernel, (1, 1), "SAME", **kwargs),
      rtol=1e-5, atol=1e-5)


def test_switched_off_the_convolution_is_xla_s(lowering):
  x, kernel = jnp.ones((2, 8, 8, 3)), jnp.ones((5, 5, 3, 4))
  lowering("xla")
  assert not conv.lowered(x.shape, kernel.shape, _DIMENSIONS)
  assert "convolution(" in _strided_conv_hlo(x, kernel)


def test_lowered_covers_plain_2d_convolutions_only(lowering):
  lowering("im2col")
  assert conv.lowered((2, 8, 8, 3), (3, 3, 3, 4), _DIMENSIONS)
  assert not conv.lowered((2, 8, 8, 4), (3, 3, 2, 4), _DIMENSIONS,
                          feature_group_count=2)
  assert not conv.lowered((2, 8, 8, 3), (3, 3, 3, 4), _DIMENSIONS,
                          rhs_dilation=(2, 2))
  assert not conv.lowered((2, 8, 3), (3, 3, 4), ("NWC", "WIO", "NWC"))


def test_unknown_lowering_is_refused():
  with pytest.raises(ValueError, match="not one of"):
    conv.set_cpu_lowering("winograd")
