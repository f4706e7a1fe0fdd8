"""Tests of ganjax.models.layers: convs, transposed convs, packing,
activations."""

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

from ganjax.models import layers
from ganjax.models import normalizers

_DIMENSIONS = ("NHWC", "HWIO", "NHWC")
_STRIDES = (2, 2)


def _strided_conv(y, kernel):
  return lax.conv_general_dilated(y, kernel, _STRIDES, "SAME",
                                  dimension_numbers=_DIMENSIONS)


def _inputs(out_size, seed=0, c_in=3, c_out=2):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(2, 7, 7, c_in)).astype(np.float32)
  kernel = rng.normal(size=(5, 5, c_out, c_in)).astype(np.float32)
  g = rng.normal(size=(2, out_size, out_size, c_out)).astype(np.float32)
  return x, kernel, g


def _numpy_conv_transpose(x, kernel, out_size, stride=2):
  """Scatter-add definition of Sᵀ for S a stride-2 SAME convolution."""
  k = kernel.shape[0]
  in_size = -(-out_size // stride)
  pad_before = max((in_size - 1) * stride + k - out_size, 0) // 2
  out = np.zeros((x.shape[0], out_size, out_size, kernel.shape[2]))
  for i in range(x.shape[1]):
    for j in range(x.shape[2]):
      for kh in range(k):
        for kw in range(k):
          oi, oj = i * stride + kh - pad_before, j * stride + kw - pad_before
          if 0 <= oi < out_size and 0 <= oj < out_size:
            out[:, oi, oj, :] += x[:, i, j, :] @ kernel[kh, kw].T
  return out


def test_conv_module_matches_flax_conv():
  x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 7, 7, 3)),
                  jnp.float32)
  stock = nn.Conv(5, (4, 4), strides=(2, 2))
  variables = stock.init(jax.random.key(0), x)
  ours = layers.Conv(5, (4, 4), strides=(2, 2))
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(0), x)) == (
      jax.tree.map(jnp.shape, variables))
  np.testing.assert_allclose(ours.apply(variables, x),
                             stock.apply(variables, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("out_size", [14, 13])
def test_conv_transpose_is_vjp_of_strided_conv(out_size):
  x, kernel, _ = _inputs(out_size)
  y = jnp.zeros((2, out_size, out_size, kernel.shape[2]))
  s_y, pullback = jax.vjp(lambda y: _strided_conv(y, kernel), y)
  assert s_y.shape == x.shape  # S maps out_size to 7.
  (want,) = pullback(jnp.asarray(x))
  got = layers.conv_transpose(x, kernel, (out_size, out_size), _STRIDES,
                              "SAME")
  assert got.shape == (2, out_size, out_size, 2)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("out_size", [14, 13])
def test_conv_transpose_matches_scatter_add(out_size):
  x, kernel, _ = _inputs(out_size, seed=1)
  got = layers.conv_transpose(x, kernel, (out_size, out_size), _STRIDES,
                              "SAME")
  want = _numpy_conv_transpose(x.astype(np.float64),
                               kernel.astype(np.float64), out_size)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("out_size", [14, 13])
def test_conv_transpose_gradients_match_stock(out_size):
  x, kernel, g = _inputs(out_size, seed=2)
  out_shape = jax.ShapeDtypeStruct((2, out_size, out_size, kernel.shape[2]),
                                   jnp.float32)

  def reference(x, kernel):
    adjoint = jax.linear_transpose(lambda y: _strided_conv(y, kernel),
                                   out_shape)
    return adjoint(x)[0]

  def ours(x, kernel):
    return layers.conv_transpose(x, kernel, (out_size, out_size), _STRIDES,
                                 "SAME")

  loss = lambda fn: lambda x, k: jnp.sum(fn(x, k) * g)
  want_dx, want_dk = jax.grad(loss(reference), argnums=(0, 1))(x, kernel)
  got_dx, got_dk = jax.grad(loss(ours), argnums=(0, 1))(x, kernel)
  assert got_dx.shape == x.shape and got_dk.shape == kernel.shape
  np.testing.assert_allclose(got_dx, want_dx, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(got_dk, want_dk, rtol=1e-4, atol=1e-4)


def test_conv_transpose_gradients_under_jit():
  x, kernel, g = _inputs(14, seed=3)

  @jax.jit
  def grads(x, kernel):
    fn = lambda x, k: jnp.sum(layers.conv_transpose(
        x, k, (14, 14), _STRIDES, "SAME") * g)
    return jax.grad(fn, argnums=(0, 1))(x, kernel)

  dx, dk = grads(x, kernel)
  # dx = S g and dk from ⟨S_k g, x⟩, written out directly.
  np.testing.assert_allclose(dx, _strided_conv(g, kernel), rtol=1e-4,
                             atol=1e-4)
  _, pullback = jax.vjp(lambda k: _strided_conv(g, k), kernel)
  np.testing.assert_allclose(dk, pullback(x)[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("use_bias", [True, False])
def test_conv_transpose_module(use_bias):
  module = layers.ConvTranspose(6, use_bias=use_bias)
  x = jnp.ones((3, 4, 4, 5))
  variables = jax.eval_shape(lambda x: module.init(jax.random.key(0), x,
                                                   (7, 7)), x)
  assert variables["params"]["kernel"].shape == (5, 5, 6, 5)
  assert ("bias" in variables["params"]) == use_bias
  rng = np.random.default_rng(0)
  params = {"kernel": rng.normal(size=(5, 5, 6, 5)).astype(np.float32)}
  if use_bias:
    params["bias"] = np.full(6, 0.5, np.float32)
  y = module.apply({"params": params}, x, (7, 7))
  assert y.shape == (3, 7, 7, 6)
  want = _numpy_conv_transpose(np.ones((3, 4, 4, 5)),
                               np.asarray(params["kernel"], np.float64), 7)
  if use_bias:
    want = want + 0.5
  np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("num_packed", [1, 2, 4])
def test_pack_vectors(num_packed):
  x = np.arange(8 * 3, dtype=np.float32).reshape(8, 3)
  got = layers.pack(x, num_packed)
  want = np.stack([np.concatenate(list(x[i:i + num_packed]))
                   for i in range(0, 8, num_packed)])
  assert got.shape == (8 // num_packed, 3 * num_packed)
  np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("num_packed", [1, 2, 3])
def test_pack_images_concatenates_channels(num_packed):
  x = np.random.default_rng(0).normal(size=(6, 4, 5, 2)).astype(np.float32)
  got = layers.pack(x, num_packed)
  want = np.stack([np.concatenate(list(x[i:i + num_packed]), axis=-1)
                   for i in range(0, 6, num_packed)])
  assert got.shape == (6 // num_packed, 4, 5, 2 * num_packed)
  np.testing.assert_array_equal(got, want)


def test_pack_indivisible_batch_raises():
  with pytest.raises(ValueError, match="divisible by 4"):
    layers.pack(np.zeros((6, 2)), 4)


@pytest.mark.parametrize("name,reference", [
    ("relu", lambda x: np.maximum(x, 0.0)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("tanh", np.tanh),
])
def test_activation(name, reference):
  x = np.linspace(-3.0, 3.0, 13).astype(np.float32)
  np.testing.assert_allclose(layers.activation(name)(x), reference(x),
                             rtol=1e-6, atol=1e-7)


def test_activation_unknown_name_raises():
  with pytest.raises(ValueError, match="Unknown activation 'swish'"):
    layers.activation("swish")


def test_conv_transpose_to_can_be_spectrally_normalized():
  x = jax.ShapeDtypeStruct((2, 7, 7, 3), jnp.float32)
  layer = layers.ConvTransposeTo(5, (4, 4), output_hw=(14, 14))
  wrapped = normalizers.SpectralNorm(layer=layer)
  variables = jax.eval_shape(
      lambda x: wrapped.init(jax.random.key(0), x, train=False), x)
  out = jax.eval_shape(
      lambda v, x: wrapped.apply(v, x, train=True, mutable=True)[0],
      variables, x)
  assert out.shape == (2, 14, 14, 5)
  assert "spectral_norm" in variables
