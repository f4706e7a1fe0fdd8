"""Tests of ganjax.models.pggan: levels, fade-in, equalized learning rate,
pixel norm and the minibatch standard deviation."""

import math

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import blocks
from ganjax.models import pggan

_Z = 8
_SIDE = 16  # Levels 0 to 2: 4, 8 and 16 pixels.
_LEVELS = range(3)
_G = pggan.Generator(output_shape=(_SIDE, _SIDE, 3), fmap_base=64,
                     fmap_max=16)
_D = pggan.Discriminator(fmap_base=64, fmap_max=16)


@pytest.fixture(scope="module")
def variables():
  """G's initial variables and D's of the same shapes, drawn here: compiling
  the random initializers is most of these tests' time on a CPU."""
  g_vars = jax.jit(lambda: _G.init(jax.random.key(0), jnp.zeros((4, _Z)),
                                   train=False))()
  shapes = jax.eval_shape(lambda: _D.init(
      jax.random.key(1), jnp.zeros((4, _SIDE, _SIDE, 3)), train=False))
  rng = np.random.default_rng(1)
  d_vars = jax.tree.map(lambda s: jnp.asarray(
      rng.normal(size=s.shape), s.dtype), shapes)
  return g_vars, d_vars


def _z(n=4):
  return jax.random.normal(jax.random.key(2), (n, _Z))


def _images(n=4, side=_SIDE):
  return jax.random.uniform(jax.random.key(3), (n, side, side, 3),
                            minval=-1.0, maxval=1.0)


def _used(apply, params):
  """The top-level parameter groups that the output depends on: those whose
  change (all weights + 1) changes it."""
  apply = jax.jit(apply)  # One compile for all the changes.
  out = apply(params)
  return {name for name in params if not np.array_equal(out, apply({
      **params, name: jax.tree.map(lambda v: v + 1.0, params[name])}))}


def test_one_parameter_set_serves_every_level(variables):
  g_vars, d_vars = variables
  assert set(g_vars["params"]) == {
      "dense", "conv_0", *(f"conv_{k}{ab}" for k in (1, 2) for ab in "ab"),
      *(f"to_rgb_{k}" for k in _LEVELS)}
  assert set(d_vars["params"]) == {
      "logit", "dense_0", "conv_0",
      *(f"conv_{k}{ab}" for k in (1, 2) for ab in "ab"),
      *(f"from_rgb_{k}" for k in _LEVELS)}
  for level in _LEVELS:
    side = 4 * 2 ** level
    out = jax.eval_shape(lambda level=level: _G.clone(level=level).apply(
        g_vars, _z(), train=False))
    assert out.shape == (4, side, side, 3)
    assert jax.eval_shape(lambda out=out: _D.apply(
        d_vars, jnp.zeros(out.shape), train=False)).shape == (4, 1)
  for level in _LEVELS[-1:]:  # Mid-fade at the top level.
    side = 4 * 2 ** level
    g = _G.clone(level=level, fade=0.5)
    # Mid-fade, a level uses its blocks and the previous level's toRGB.
    blocks_up_to = {f"conv_{k}{ab}" for k in range(1, level + 1)
                    for ab in "ab"}
    rgb = {f"to_rgb_{level}"} | ({f"to_rgb_{level - 1}"} if level else set())
    assert _used(lambda p, g=g: g.apply({"params": p}, _z(), train=False),
                 g_vars["params"]) == {"dense", "conv_0"} | blocks_up_to | rgb
    d = _D.clone(fade=0.5)
    x = _images(side=side)
    from_rgb = {f"from_rgb_{level}"} | (
        {f"from_rgb_{level - 1}"} if level else set())
    assert _used(lambda p, d=d, x=x: d.apply({"params": p}, x, train=False),
                 d_vars["params"]) == (
                     {"logit", "dense_0", "conv_0"} | blocks_up_to | from_rgb)


@pytest.mark.parametrize("level", [1, 2])
def test_fade_0_is_the_previous_level_and_fade_1_the_new_block(variables,
                                                               level):
  g_vars, d_vars = variables
  z = _z()
  previous = _G.clone(level=level - 1).apply(g_vars, z, train=False)
  faded_out = _G.clone(level=level, fade=0.0).apply(g_vars, z, train=False)
  np.testing.assert_array_equal(faded_out,
                                blocks.upsample(previous, "nearest"))
  # At fade 1 the previous level's toRGB does not matter.
  new = _G.clone(level=level, fade=1.0)
  changed = flax.core.copy(g_vars, {})
  changed = jax.tree_util.tree_map_with_path(
      lambda path, v: v + 1.0 if path[1].key == f"to_rgb_{level - 1}" else v,
      changed)
  np.testing.assert_array_equal(new.apply(g_vars, z, train=False),
                                new.apply(changed, z, train=False))
  assert not np.allclose(
      _G.clone(level=level, fade=0.5).apply(g_vars, z, train=False),
      _G.clone(level=level, fade=0.5).apply(changed, z, train=False))

  # D at fade 0 is D one level down on the downsampled images.
  x = _images(side=4 * 2 ** level)
  np.testing.assert_array_equal(
      _D.clone(fade=0.0).apply(d_vars, x, train=False),
      _D.apply(d_vars, blocks.downsample(x), train=False))
  changed = jax.tree_util.tree_map_with_path(
      lambda path, v: v + 1.0 if path[1].key == f"from_rgb_{level - 1}"
      else v, d_vars)
  np.testing.assert_array_equal(
      _D.clone(fade=1.0).apply(d_vars, x, train=False),
      _D.clone(fade=1.0).apply(changed, x, train=False))


def test_a_traced_fade_gives_the_same_outputs(variables):
  g_vars, _ = variables
  z = _z()
  traced = jax.jit(lambda fade: _G.clone(level=2, fade=fade).apply(
      g_vars, z, train=False))
  np.testing.assert_allclose(
      traced(0.25), _G.clone(level=2, fade=0.25).apply(g_vars, z, train=False),
      rtol=1e-5, atol=1e-6)


def test_weights_are_unit_normal_and_scaled_at_run_time(variables):
  g_vars, _ = variables
  params = g_vars["params"]
  # Stored weights are N(0, 1) whatever the layer's fan-in.
  for name in ("conv_2a", "dense"):
    kernel = np.asarray(params[name]["kernel"])
    assert abs(kernel.std() - 1.0) < 0.1 and abs(kernel.mean()) < 0.1
  # The first layer computes pixelnorm(z) · W · (√2/4)/√fan_in + b.
  z = _z()
  _, state = _G.apply(g_vars, z, train=False, capture_intermediates=True)
  dense_out = state["intermediates"]["equalized_dense"]["__call__"][0]
  normalized = z / jnp.sqrt(jnp.mean(z ** 2, axis=-1, keepdims=True) + 1e-8)
  scale = math.sqrt(2.0) / 4 / math.sqrt(_Z)
  np.testing.assert_allclose(
      dense_out, normalized @ params["dense"]["kernel"] * scale
      + params["dense"]["bias"], rtol=1e-5, atol=1e-6)


def test_pixel_norm_gives_unit_feature_vectors(variables):
  g_vars, _ = variables
  _, state = _G.apply(g_vars, _z() * 5.0, train=False,
                      capture_intermediates=True)
  normalized = [v["__call__"][0] for k, v in state["intermediates"].items()
                if k.startswith("PixelNorm")]
  assert len(normalized) == 1 + 2 + 2 * 2  # z, the 4×4 block, 2 blocks.
  for h in normalized:
    np.testing.assert_allclose(jnp.mean(h ** 2, axis=-1), 1.0, rtol=1e-4)


def test_minibatch_stddev_appends_the_group_statistic():
  x = np.random.default_rng(0).normal(size=(8, 3, 3, 5)).astype(np.float32)
  out = np.asarray(pggan.minibatch_stddev(jnp.asarray(x), group_size=4))
  assert out.shape == (8, 3, 3, 6)
  np.testing.assert_array_equal(out[..., :5], x)
  # Groups of 4: examples {0, 2, 4, 6} and {1, 3, 5, 7}.
  for i in range(8):
    group = x[i % 2::2]
    want = np.mean(np.sqrt(np.var(group, axis=0) + 1e-8))
    np.testing.assert_allclose(out[i, ..., 5], want, rtol=1e-5)
  with pytest.raises(ValueError, match="do not divide the batch of 6"):
    pggan.minibatch_stddev(jnp.zeros((6, 2, 2, 1)), group_size=4)


def test_resolutions_must_be_powers_of_two():
  assert pggan.num_levels(4) == 1 and pggan.num_levels(1024) == 9
  with pytest.raises(ValueError, match="pad or resize the data"):
    pggan.num_levels(28)


def _equalized(kernel, gain=math.sqrt(2.0)):
  """The paper code's run-time weight scaling: kernel · gain/√fan_in."""
  return kernel * gain / math.sqrt(np.prod(kernel.shape[:-1]))


def _np_conv(x, kernel, stride=1):
  """A TF "SAME" convolution in NumPy, NHWC × HWIO."""
  k, side = kernel.shape[0], x.shape[1]
  out = -(-side // stride)
  total = max((out - 1) * stride + k - side, 0)
  pads = (total // 2, total - total // 2)
  padded = np.pad(x, ((0, 0), pads, pads, (0, 0)))
  span = stride * (out - 1) + 1
  return sum(padded[:, i:i + span:stride, j:j + span:stride] @ kernel[i, j]
             for i in range(k) for j in range(k))


def _np_conv_downscale(x, kernel):
  """networks.py `conv2d_downscale2d`: the 3×3 kernel padded to 5×5, its
  four 4×4 shifts averaged, one stride-2 convolution."""
  w = np.pad(_equalized(kernel), ((1, 1), (1, 1), (0, 0), (0, 0)))
  w = (w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]) * 0.25
  return _np_conv(x, w, stride=2)


def test_d_matches_the_paper_code_with_fused_downscaling(variables):
  """D at 8×8 mid-fade against the paper code's `D_paper` (fused_scale=True,
  the default) in NumPy: lReLU(conv_downscale(h) + b), not pool(lReLU(…))."""
  _, d_vars = variables
  p = jax.tree.map(lambda v: np.asarray(v, np.float64), d_vars["params"])
  x = np.asarray(_images(side=8), np.float64)
  fade = 0.37
  act = lambda h: np.maximum(h, 0.2 * h)
  conv = lambda h, name: (_np_conv(h, _equalized(p[name]["kernel"]))
                          + p[name]["bias"])
  h = act(conv(x, "from_rgb_1"))
  h = act(conv(h, "conv_1a"))
  h = act(_np_conv_downscale(h, p["conv_1b"]["kernel"]) + p["conv_1b"]["bias"])
  pooled = x.reshape(4, 4, 2, 4, 2, 3).mean(axis=(2, 4))
  lower = act(conv(pooled, "from_rgb_0"))
  h = h + (lower - h) * (1.0 - fade)  # lerp_clip(x, y, lod_in - lod).
  stat = np.mean(np.sqrt(np.var(h, axis=0) + 1e-8))
  h = np.concatenate([h, np.full((*h.shape[:3], 1), stat)], -1)
  h = act(conv(h, "conv_0")).reshape(4, -1)
  dense = lambda h, name, gain=math.sqrt(2.0): (
      h @ _equalized(p[name]["kernel"], gain) + p[name]["bias"])
  expected = dense(act(dense(h, "dense_0")), "logit", gain=1.0)
  out = _D.clone(fade=fade).apply(d_vars, jnp.asarray(x, jnp.float32),
                                  train=False)
  np.testing.assert_allclose(out, expected, rtol=1e-4,
                             atol=1e-4 * np.abs(expected).max())
