"""Tests of ganjax.models.stylegan2_layers against NumPy: the modulated
convolution with per-sample kernels written out, the equalized dense layer,
bias + activation, and the noise input's key check."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import resample
from ganjax.models import stylegan2_layers as sg2
from tests.models import resample_test


def _modulated_numpy(x, kernel, styles, demodulate, up):
  """Sample by sample: its own kernel (input channels scaled by its styles,
  output channels divided by their norms), then the (upsampling) conv."""
  outs = []
  for n in range(x.shape[0]):
    w = kernel.astype(np.float64) * styles[n][None, None, :, None]
    if demodulate:
      w = w / np.sqrt(np.sum(w ** 2, axis=(0, 1, 2)) + 1e-8)
    image = x[n:n + 1].astype(np.float64)
    pad = kernel.shape[0] // 2
    if up > 1:
      image = resample_test.upfirdn2d_numpy(
          image, np.array(resample.FILTER, float), 2, 1, (pad + 2, pad + 1) * 2,
          4.0)
      outs.append(resample_test.conv_numpy(image, w[::-1, ::-1], 0))
    else:
      outs.append(resample_test.conv_numpy(image, w, pad))
  return np.concatenate(outs)


@pytest.mark.parametrize("implementation", sg2.MODCONV)
@pytest.mark.parametrize("k,demodulate,up", [(3, True, 1), (3, True, 2),
                                             (1, False, 1)])
def test_modulated_conv2d_matches_per_sample_kernels(implementation, k,
                                                     demodulate, up):
  rng = np.random.default_rng(k + up)
  x = rng.normal(size=(3, 6, 6, 5)).astype(np.float32)
  kernel = rng.normal(size=(k, k, 5, 4)).astype(np.float32)
  styles = rng.normal(size=(3, 5)).astype(np.float32)
  got = jax.jit(sg2.modulated_conv2d, static_argnums=(3, 4, 5))(
      x, kernel, styles, demodulate, up, implementation)
  want = _modulated_numpy(x, kernel, styles, demodulate, up)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_unknown_modulated_convolution():
  with pytest.raises(ValueError, match="grouped"):
    sg2.modulated_conv2d(jnp.ones((1, 4, 4, 1)), jnp.ones((1, 1, 1, 1)),
                         jnp.ones((1, 1)), implementation="fused")


def test_bias_act():
  x = np.array([-2.0, -0.5, 0.5, 300.0], np.float32)
  got = sg2.bias_act(x, np.float32(1.0), "lrelu", gain=0.5, clamp=256.0)
  h = x + 1.0
  want = np.where(h > 0, h, 0.2 * h) * math.sqrt(2.0) * 0.5
  np.testing.assert_allclose(got, np.clip(want, -128.0, 128.0), rtol=1e-6)
  np.testing.assert_allclose(sg2.bias_act(x, None), x)
  with pytest.raises(ValueError, match="lrelu"):
    sg2.bias_act(x, None, "relu6")


def test_dense_has_an_equalized_learning_rate():
  layer = sg2.Dense(3, "lrelu", lr_multiplier=0.01, bias_init=1.0)
  x = np.random.default_rng(0).normal(size=(2, 400)).astype(np.float32)
  params = layer.init(jax.random.key(0), x)["params"]
  # Stored as N(0, 1/lr²); used as lr/√fan_in times that.
  assert abs(np.std(params["kernel"]) * 0.01 - 1.0) < 0.1
  np.testing.assert_array_equal(params["bias"], 1.0)
  kernel, bias = np.asarray(params["kernel"]), np.asarray(params["bias"])
  h = x @ (kernel * 0.01 / math.sqrt(400)) + bias * 0.01
  want = np.where(h > 0, h, 0.2 * h) * math.sqrt(2.0)
  np.testing.assert_allclose(layer.apply({"params": params}, x), want,
                             rtol=1e-5, atol=1e-6)


def test_normalize_2nd_moment():
  x = np.array([[3.0, 4.0]], np.float32)
  np.testing.assert_allclose(sg2.normalize_2nd_moment(x),
                             x / math.sqrt(12.5), rtol=1e-6)


class _Noisy(nn.Module):

  @nn.compact
  def __call__(self, x):
    return x + sg2.noise_input(self, x.shape, x.dtype)


def test_noise_needs_a_key_except_at_init():
  x = jnp.zeros((2, 3))
  variables = _Noisy().init(jax.random.key(0), x)
  with pytest.raises(ValueError, match="rngs={'noise': key}"):
    _Noisy().apply(variables, x)
  a, b = (_Noisy().apply(variables, x, rngs={"noise": jax.random.key(k)})
          for k in (1, 2))
  assert np.std(a) > 0.1 and not np.allclose(a, b)
