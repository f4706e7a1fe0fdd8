"""Tests of ganjax.models.resnet_biggan_deep: layer tables, counts, skips.

Shapes and parameter counts come from `jax.eval_shape`; only tiny models run.
"""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import resnet_biggan_deep as deep


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _init_shapes(module, *inputs):
  return jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)


def _count(tree):
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def _flat_shapes(tree):
  return {"/".join(k): v.shape
          for k, v in flax.traverse_util.flatten_dict(tree).items()}


def test_parameter_counts_match_compare_gan():
  # Compare GAN's resnet_biggan_deep_test: z_dim 128, 1000 classes, ch 128.
  y = _spec(2, 1000)
  g_vars = _init_shapes(
      deep.Generator(output_shape=(128, 128, 3), num_classes=1000),
      _spec(2, 128), y)
  d_vars = _init_shapes(deep.Discriminator(num_classes=1000),
                        _spec(2, 128, 128, 3), y)
  assert _count(g_vars["params"]) == 50_244_484
  assert _count(d_vars["params"]) == 34_590_210
  g, d = _flat_shapes(g_vars["params"]), _flat_shapes(d_vars["params"])
  # FC from [z, embed(y)]; every normalizer is conditioned on it too.
  assert g["fc_noise/kernel"] == (256, 4 * 4 * 2048)
  assert g["B1/bn1/gamma/kernel"] == (256, 2048)
  # Bottleneck 2048 → 512 → 512 → 512 → 1024 in the first up-block B4.
  assert g["B4/conv1/kernel"] == (1, 1, 2048, 512)
  assert g["B4/conv2/kernel"] == (3, 3, 512, 512)
  assert g["B4/conv4/kernel"] == (1, 1, 512, 1024)
  assert not any("add_channels" in k or "shortcut" in k for k in g)
  # Attention at 64×64: after G's B8 (256 channels) and D's B2.
  assert g["non_local_block/theta/kernel"] == (1, 1, 256, 32)
  assert d["non_local_block/theta/kernel"] == (1, 1, 256, 32)
  # D's skips add the missing channels with a 1×1 conv.
  assert d["initial_conv/kernel"] == (3, 3, 3, 128)
  assert d["B1/add_channels/kernel"] == (1, 1, 128, 128)
  assert "add_channels" not in d_vars["params"]["B2"]
  assert d["ClassHeads_0/embed/kernel"] == (1000, 2048)


@pytest.mark.parametrize("side", [32, 64, 128, 256, 512])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_builds_at_every_resolution(side, num_classes):
  # Without spectral norm, to trace faster; the counts test uses it.
  generator = deep.Generator(output_shape=(side, side, 3),
                             num_classes=num_classes, ch=4,
                             weight_norm=None)
  discriminator = deep.Discriminator(num_classes=num_classes, ch=4,
                                     weight_norm=None)
  labels = (_spec(2, num_classes),) if num_classes else ()
  z, x = _spec(2, 20), _spec(2, side, side, 3)
  g_vars = _init_shapes(generator, z, *labels)
  d_vars = _init_shapes(discriminator, x, *labels)
  for train in (False, True):
    images, _ = jax.eval_shape(
        lambda v, *a: generator.apply(v, *a, train=train, mutable=True),
        g_vars, z, *labels)
    assert images.shape == (2, side, side, 3)
    logits, d_state = jax.eval_shape(
        lambda v, *a: discriminator.apply(v, *a, train=train, mutable=True),
        d_vars, images, *labels)
    assert logits.shape == (2, 1)
    assert d_state["intermediates"]["features"][0].shape == (
        2, 4 * deep._D_CHANNELS[side][-1])
  # Unconditional: the normalizers get z alone.
  cond_size = 20 + 128 if num_classes else 20
  assert g_vars["params"]["B1"]["bn1"]["gamma"]["kernel"].shape[0] == (
      cond_size)
  has_attention = side >= 64
  assert ("non_local_block" in g_vars["params"]) == has_attention
  assert ("non_local_block" in d_vars["params"]) == (side >= 128)


def test_unsupported_resolution():
  with pytest.raises(ValueError, match="32, 64, 128, 256, 512; got 100×100"):
    _init_shapes(deep.Generator(output_shape=(100, 100, 3), ch=4),
                 _spec(2, 20))


@pytest.mark.parametrize("scale,in_channels,features,side", [
    ("up", 8, 4, 8), ("down", 4, 8, 2), ("none", 8, 8, 4)])
def test_bottleneck_skip_keeps_the_input(scale, in_channels, features, side):
  block = deep.BottleneckBlock(features, scale)
  x = np.random.default_rng(0).normal(
      size=(2, 4, 4, in_channels)).astype(np.float32)
  rng = np.random.default_rng(1)
  params = jax.tree.map(
      lambda s: rng.normal(size=s.shape).astype(np.float32),
      _init_shapes(block, x)["params"])
  # With the last 1×1 conv zeroed, only the skip connection is left.
  params["conv4"] = jax.tree.map(np.zeros_like, params["conv4"])
  out = np.asarray(jax.jit(lambda p: block.apply({"params": p}, x,
                                                 train=False))(params))
  assert out.shape == (2, side, side, features)
  kept = min(in_channels, features)
  if scale == "up":
    expected = np.repeat(np.repeat(x[..., :kept], 2, 1), 2, 2)
  elif scale == "down":
    expected = x.reshape(2, 2, 2, 2, 2, in_channels).mean((2, 4))
  else:
    expected = x
  np.testing.assert_allclose(out[..., :kept], expected, rtol=1e-5, atol=1e-5)
  assert ("add_channels" in params) == (in_channels < features)


def test_projection_term_by_hand():
  discriminator = deep.Discriminator(num_classes=3, ch=4, weight_norm=None)
  x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
  y = jax.nn.one_hot(jnp.array([2, 0]), 3)
  shapes = _init_shapes(discriminator, x, y)
  rng = np.random.default_rng(1)
  params = jax.tree.map(
      lambda s: (0.3 * rng.normal(size=s.shape)).astype(np.float32),
      shapes["params"])
  logits, sown = jax.jit(lambda p: discriminator.apply(
      {"params": p}, x, y, train=False, mutable=["intermediates"]))(params)
  h = np.asarray(sown["intermediates"]["features"][0], np.float64)
  embed = params["ClassHeads_0"]["embed"]["kernel"]
  expected = (h @ params["final_fc"]["kernel"] + params["final_fc"]["bias"]
              + np.sum((np.asarray(y) @ embed) * h, -1, keepdims=True))
  np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
