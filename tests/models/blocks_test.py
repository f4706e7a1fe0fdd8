"""Tests of ganjax.models.blocks: resampling, latent routing, ResNet blocks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import blocks
from ganjax.models import normalizers

_X = np.arange(2 * 2 * 3 * 2, dtype=np.float32).reshape(2, 2, 3, 2)


def test_unpool_puts_values_top_left():
  out = np.array(blocks.unpool(_X))
  assert out.shape == (2, 4, 6, 2)
  np.testing.assert_array_equal(out[:, ::2, ::2], _X)
  out[:, ::2, ::2] = 0
  assert not out.any()


def test_nearest_upsampling_repeats_values():
  out = np.asarray(blocks.upsample(_X, "nearest"))
  for di in (0, 1):
    for dj in (0, 1):
      np.testing.assert_array_equal(out[:, di::2, dj::2], _X)
  with pytest.raises(ValueError, match="Unknown upsampling"):
    blocks.upsample(_X, "bilinear")


def test_downsample_averages_and_inverts_nearest_upsampling():
  np.testing.assert_allclose(
      blocks.downsample(blocks.upsample(_X, "nearest")), _X)
  # TensorFlow's SAME average pooling does not count the padding: a 1×1
  # map stays as it is.
  np.testing.assert_allclose(blocks.downsample(_X[:, :1, :1]), _X[:, :1, :1])


def test_split_latent():
  z, y = jnp.arange(12.0).reshape(1, 12), jnp.ones((1, 3))
  z0, zs, ys = blocks.split_latent(z, y, 3, True, "G")
  np.testing.assert_array_equal(z0, [[0, 1, 2]])
  np.testing.assert_array_equal(zs[2], [[9, 10, 11]])
  np.testing.assert_array_equal(ys[0], [[3, 4, 5, 1, 1, 1]])
  _, zs, ys = blocks.split_latent(z, None, 3, True, "G")
  assert ys == [None] * 3 and len(zs) == 3
  z0, zs, ys = blocks.split_latent(z, y, 3, False, "G")
  assert z0 is z and zs == [z] * 3 and ys == [y] * 3
  with pytest.raises(ValueError, match="4 equal chunks.*use a multiple of 4"):
    blocks.split_latent(jnp.ones((1, 10)), y, 3, True, "G")


def test_attention_block_names_are_checked():
  assert blocks.parse_block_names("B1, B3", 3, "G") == {"B1", "B3"}
  assert not blocks.parse_block_names("", 3, "G")
  with pytest.raises(ValueError, match="B4.*B1 to B3"):
    blocks.parse_block_names("B4", 3, "G")


def test_square_resolution():
  assert blocks.square_resolution((32, 32, 3), (32, 64), "G") == 32
  with pytest.raises(ValueError, match="side 32, 64; got 48×48"):
    blocks.square_resolution((48, 48, 3), (32, 64), "G")
  with pytest.raises(ValueError, match="got 32×64"):
    blocks.square_resolution((32, 64, 3), (32, 64), "G")


def _param_shapes(block, x, y=None):
  shapes = jax.eval_shape(
      lambda x, y: block.init(jax.random.key(0), x, train=False, y=y), x, y)
  return jax.tree.map(lambda s: s.shape, shapes["params"])


@pytest.mark.parametrize("scale,out_side", [("up", 8), ("down", 2),
                                            ("none", 4)])
@pytest.mark.parametrize("shortcut_kernel", [1, 3])
def test_resnet_block_layers(scale, out_side, shortcut_kernel):
  x = jax.ShapeDtypeStruct((2, 4, 4, 6), jnp.float32)
  block = blocks.ResNetBlock(5, scale, normalizers.BatchNorm,
                             shortcut_kernel=shortcut_kernel)
  params = _param_shapes(block, x)
  assert params["conv1"]["kernel"] == (3, 3, 6, 5)
  assert params["conv2"]["kernel"] == (3, 3, 5, 5)
  assert params["shortcut"]["kernel"] == (shortcut_kernel, shortcut_kernel,
                                          6, 5)
  assert params["bn1"]["scale"] == (6,) and params["bn2"]["scale"] == (5,)
  out = jax.eval_shape(
      lambda x: block.apply(block.init(jax.random.key(0), x, train=False), x,
                            train=False), x)
  assert out.shape == (2, out_side, out_side, 5)


def test_resnet_block_skip_variants():
  x = np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype(np.float32)
  for shortcut in ("identity", "none"):
    block = blocks.ResNetBlock(3, "down", shortcut=shortcut)
    variables = block.init(jax.random.key(0), x, train=False)
    assert "shortcut" not in variables["params"]
    # With the second conv zeroed, only the skip connection is left.
    params = jax.tree.map(jnp.zeros_like, variables["params"])
    out = block.apply({"params": params}, x, train=False)
    expected = blocks.downsample(x) if shortcut == "identity" else 0 * out
    np.testing.assert_allclose(out, expected, atol=1e-6)
  with pytest.raises(ValueError, match="identity shortcut"):
    blocks.ResNetBlock(4, shortcut="identity").init(jax.random.key(0), x,
                                                    train=False)


def test_resnet_block_conditions_its_normalizers():
  x = jax.ShapeDtypeStruct((2, 4, 4, 6), jnp.float32)
  y = jax.ShapeDtypeStruct((2, 7), jnp.float32)
  block = blocks.ResNetBlock(5, "up", normalizers.ConditionalBatchNorm)
  params = _param_shapes(block, x, y=y)
  assert params["bn1"]["gamma"]["kernel"] == (7, 6)
  assert params["bn2"]["beta"]["kernel"] == (7, 5)


def _conv3x3(x, kernel, bias):
  """NumPy "SAME" 3×3 convolution, NHWC × HWIO."""
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  h, w = x.shape[1:3]
  return sum(padded[:, i:i + h, j:j + w] @ kernel[i, j]
             for i in range(3) for j in range(3)) + bias


def _pool(x):
  n, h, w, c = x.shape
  return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def test_a_block_without_preactivation_convolves_the_image_itself():
  """A D's first block: conv → ReLU → conv → pool + pool(conv(x)), with no
  ReLU on x (which would zero the negative pixels of the residual branch)."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
  block = blocks.ResNetBlock(5, "down", normalizers.BatchNorm,
                             preactivate=False)
  variables = jax.eval_shape(
      lambda: block.init(jax.random.key(0), x, train=False))
  params = jax.tree.map(lambda v: rng.normal(size=v.shape).astype(np.float32),
                        variables["params"])
  assert set(params) == {"conv1", "bn2", "conv2", "shortcut"}
  stats = jax.tree.map(lambda v: np.ones(v.shape, np.float32),
                       variables["batch_stats"])
  out, _ = jax.jit(lambda p: block.apply(
      {"params": p, "batch_stats": stats}, x, train=True,
      mutable=["batch_stats"]))(params)
  p = jax.tree.map(np.asarray, params)
  h = _conv3x3(x, p["conv1"]["kernel"], p["conv1"]["bias"])
  h = (h - h.mean((0, 1, 2))) / np.sqrt(h.var((0, 1, 2)) + 1e-5)
  h = np.maximum(h * p["bn2"]["scale"] + p["bn2"]["offset"], 0)
  h = _pool(_conv3x3(h, p["conv2"]["kernel"], p["conv2"]["bias"]))
  expected = h + _pool(_conv3x3(x, p["shortcut"]["kernel"],
                                p["shortcut"]["bias"]))
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
