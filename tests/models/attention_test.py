"""Tests of ganjax.models.attention: SAGAN's non-local block."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import attention
from ganjax.models import normalizers

_X = np.random.default_rng(0).normal(size=(2, 4, 6, 16)).astype(np.float32)


def test_starts_as_identity():
  block = attention.NonLocalBlock()
  variables = block.init(jax.random.key(0), _X, train=False)
  assert float(variables["params"]["sigma"]) == 0.0
  np.testing.assert_array_equal(block.apply(variables, _X, train=False), _X)


def test_parameters_have_no_biases():
  shapes = jax.eval_shape(
      lambda x: attention.NonLocalBlock().init(jax.random.key(0), x,
                                               train=False), _X)
  params = jax.tree.map(lambda s: s.shape, shapes["params"])
  assert params == {
      "theta": {"kernel": (1, 1, 16, 2)}, "phi": {"kernel": (1, 1, 16, 2)},
      "g": {"kernel": (1, 1, 16, 8)}, "attn_g": {"kernel": (1, 1, 8, 16)},
      "sigma": ()}


def _numpy_attention(x, params):
  """Compare GAN's non_local_block written out in numpy."""
  n, h, w, c = x.shape
  kernel = lambda name: np.asarray(params[name]["kernel"])[0, 0]

  def pool(t):  # 2×2 max pooling, stride 2.
    t = t.reshape(n, h // 2, 2, w // 2, 2, t.shape[-1]).max(axis=(2, 4))
    return t.reshape(n, -1, t.shape[-1])

  theta = (x @ kernel("theta")).reshape(n, h * w, -1)
  phi, g = pool(x @ kernel("phi")), pool(x @ kernel("g"))
  logits = theta @ phi.transpose(0, 2, 1)
  weights = np.exp(logits - logits.max(-1, keepdims=True))
  weights /= weights.sum(-1, keepdims=True)
  attended = (weights @ g).reshape(n, h, w, -1)
  return x + float(params["sigma"]) * (attended @ kernel("attn_g"))


def test_matches_numpy_definition():
  block = attention.NonLocalBlock(
      kernel_init=jax.nn.initializers.normal(0.5))
  variables = block.init(jax.random.key(1), _X, train=False)
  params = {**variables["params"], "sigma": jnp.float32(0.7)}
  out = block.apply({"params": params}, _X, train=False)
  np.testing.assert_allclose(out, _numpy_attention(_X, params), rtol=1e-4,
                             atol=1e-4)


def test_spectral_norm_wraps_every_conv():
  block = attention.NonLocalBlock(weight_norm=normalizers.SpectralNorm)
  shapes = jax.eval_shape(
      lambda x: block.init(jax.random.key(0), x, train=False), _X)
  vectors = jax.tree_util.tree_leaves_with_path(shapes["spectral_norm"])
  assert sum("/u" in jax.tree_util.keystr(path) for path, _ in vectors) == 4


def test_needs_eight_channels():
  with pytest.raises(ValueError, match="at least 8 channels"):
    attention.NonLocalBlock().init(jax.random.key(0), _X[..., :4],
                                   train=False)
