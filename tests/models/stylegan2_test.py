"""Tests of ganjax.models.stylegan2: parameter counts against the official
configurations, w_avg, truncation, style mixing, noise, and bad input.

The official counts were printed by stylegan2-ada-pytorch (NVlabs, commit
d72cc7d, `training/networks.py`, built as its `train.py` builds each
config; torch 2.13 on CPU): sum of `p.numel()` over `G.parameters()` and
`D.parameters()`.
"""

import flax
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import stylegan2

# config: (side, channel_base, G mapping layers, classes, D architecture,
#          mbstd group, official G params, official D params)
_OFFICIAL = {
    "cifar (conditional)": (32, 32768, 2, 10, "orig", 32, 20_215_315,
                            23_089_664),
    "cifar": (32, 32768, 2, 0, "orig", 32, 19_947_539, 20_720_641),
    "paper256": (256, 16384, 8, 0, "resnet", 8, 24_767_458, 24_001_089),
    "stylegan2 (config F, 1024)": (1024, 32768, 8, 0, "resnet", 4,
                                   30_370_060, 29_012_513),
}


def _formula_counts(side, channel_base, channel_max, mapping_layers,
                    classes, architecture, w_dim=512, z_dim=512, colors=3):
  """(G, D) parameters of the reference's networks, layer by layer."""
  ch = lambda r: min(channel_base // r, channel_max)
  dense = lambda i, o: i * o + o
  g = dense(classes, w_dim) if classes else 0
  g += dense(z_dim + (w_dim if classes else 0), w_dim) + (
      mapping_layers - 1) * dense(w_dim, w_dim)
  layer = lambda i, o: dense(w_dim, i) + 9 * i * o + 1 + o
  to_rgb = lambda i: dense(w_dim, i) + i * colors + colors
  g += 16 * ch(4) + layer(ch(4), ch(4)) + to_rgb(ch(4))
  r = 8
  while r <= side:
    g += layer(ch(r // 2), ch(r)) + layer(ch(r), ch(r)) + to_rgb(ch(r))
    r *= 2
  d = dense(colors, ch(side))  # fromRGB (1×1).
  r = side
  while r >= 8:
    tmp, out = ch(r), ch(r // 2)
    d += 9 * tmp * tmp + tmp + 9 * tmp * out + out
    d += tmp * out if architecture == "resnet" else 0
    r //= 2
  c4 = ch(4)
  cmap = c4 if classes else 1
  d += 9 * (c4 + 1) * c4 + c4 + dense(16 * c4, c4) + dense(c4, cmap)
  if classes:
    d += dense(classes, cmap) + 8 * dense(cmap, cmap)
  return g, d


def _counts(side, channel_base, mapping_layers, classes, architecture,
            mbstd, channel_max=512, w_dim=512):
  g = stylegan2.Generator(output_shape=(side, side, 3), num_classes=classes,
                          w_dim=w_dim, mapping_layers=mapping_layers,
                          channel_base=channel_base, channel_max=channel_max)
  d = stylegan2.Discriminator(num_classes=classes, architecture=architecture,
                              channel_base=channel_base,
                              channel_max=channel_max, mbstd_group_size=mbstd)
  y = (jnp.zeros((mbstd, classes)),) if classes else ()
  g_vars = jax.eval_shape(lambda: g.init(
      jax.random.key(0), jnp.zeros((mbstd, w_dim)), *y, train=False))
  d_vars = jax.eval_shape(lambda: d.init(
      jax.random.key(0), jnp.zeros((mbstd, side, side, 3)), *y, train=False))
  count = lambda v: sum(int(np.prod(a.shape))
                        for a in jax.tree.leaves(v["params"]))
  return count(g_vars), count(d_vars)


@pytest.mark.parametrize("config", list(_OFFICIAL))
def test_parameter_counts_equal_the_official_configs(config):
  side, base, layers, classes, arch, mbstd, g_want, d_want = _OFFICIAL[config]
  got = _counts(side, base, layers, classes, arch, mbstd)
  print(f"{config}: G {got[0]:,}, D {got[1]:,} parameters")
  assert got == (g_want, d_want)
  assert got == _formula_counts(side, base, 512, layers, classes, arch)


@pytest.mark.parametrize("classes,arch", [(0, "resnet"), (3, "orig")])
def test_parameter_counts_at_a_small_size(classes, arch):
  got = _counts(16, 256, 2, classes, arch, 4, channel_max=32, w_dim=16)
  print(f"small ({classes} classes, {arch}): G {got[0]:,}, D {got[1]:,}")
  assert got == _formula_counts(16, 256, 32, 2, classes, arch, w_dim=16,
                                z_dim=16)


_SIDE, _W = 16, 16
_G = stylegan2.Generator(output_shape=(_SIDE, _SIDE, 3), w_dim=_W,
                         mapping_layers=2, channel_base=128, channel_max=16)


@pytest.fixture(scope="module")
def g_vars():
  return jax.jit(lambda: _G.init(jax.random.key(0), jnp.zeros((4, _W)),
                                 train=False))()


def _z(seed=1, n=4):
  return jax.random.normal(jax.random.key(seed), (n, _W))


def _ws(g, variables, z, train=False, rngs=None):
  return g.apply(variables, z, train=train, rngs=rngs,
                 method=stylegan2.Generator.mapping)


def test_w_avg_tracks_the_mean_w_in_training_only(g_vars):
  assert set(g_vars) == {"params", "w_avg"}
  w = _ws(_G, g_vars, _z())[:, 0]
  _, updated = _G.apply(g_vars, _z(), train=True, mutable=["w_avg"],
                        rngs={"noise": jax.random.key(0)})
  # From 0: β·0 + (1 − β)·mean(w).
  np.testing.assert_allclose(updated["w_avg"]["mapping"]["w_avg"],
                             0.005 * np.mean(w, 0), rtol=1e-5, atol=1e-8)
  # G's synthesis (its noise) does not change w_avg; inference mode keeps it.
  _, same = _G.apply(g_vars, _z(), train=False, mutable=["w_avg"],
                     rngs={"noise": jax.random.key(0)})
  np.testing.assert_array_equal(same["w_avg"]["mapping"]["w_avg"], 0.0)


def test_truncation_moves_ws_toward_w_avg(g_vars):
  w_avg = np.linspace(-1, 1, _W).astype(np.float32)
  variables = {**g_vars, "w_avg": {"mapping": {"w_avg": w_avg}}}
  ws = _ws(_G, variables, _z())
  assert ws.shape == (4, 6, _W)  # 2·log2(16) − 2 ws.
  for psi, cutoff in ((0.0, None), (0.7, None), (0.5, 2)):
    g = _G.clone(truncation_psi=psi, truncation_cutoff=cutoff)
    got = _ws(g, variables, _z())
    rows = slice(None, cutoff)
    np.testing.assert_allclose(got[:, rows],
                               w_avg + psi * (ws[:, rows] - w_avg),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[:, 6 if cutoff is None else cutoff:],
                                  ws[:, 6 if cutoff is None else cutoff:])


def test_style_mixing_switches_to_a_second_w_from_one_cutoff(g_vars):
  ws = _ws(_G, g_vars, _z())
  mixed = _G.clone(style_mixing_prob=1.0)
  cutoffs = set()
  for seed in range(6):
    got = np.asarray(_ws(mixed, g_vars, _z(), train=True,
                         rngs={"noise": jax.random.key(seed)}))
    same = np.all(np.isclose(got, ws, rtol=1e-6), axis=(0, 2))
    cutoff = int(np.argmin(same))
    # The first `cutoff` ws are the batch's own, the rest another w each.
    assert 1 <= cutoff < 6 and same[:cutoff].all() and not same[cutoff:].any()
    np.testing.assert_allclose(got[:, cutoff:], got[:, -1:].repeat(
        6 - cutoff, 1))
    cutoffs.add(cutoff)
  assert len(cutoffs) > 1
  # Never in inference mode, nor at probability 0.
  np.testing.assert_array_equal(_ws(mixed, g_vars, _z()), ws)
  np.testing.assert_array_equal(
      _ws(_G, g_vars, _z(), train=True, rngs={"noise": jax.random.key(0)}),
      ws)


def test_noise_inputs_and_modconv_implementations(g_vars):
  params = flax.traverse_util.flatten_dict(g_vars["params"])
  params = {k: (np.float32(0.5) if k[-1] == "noise_strength" else v)
            for k, v in params.items()}
  variables = {**g_vars,
               "params": flax.traverse_util.unflatten_dict(params)}
  rngs = lambda k: {"noise": jax.random.key(k)}
  a = _G.apply(variables, _z(), train=False, rngs=rngs(0))
  assert a.shape == (4, _SIDE, _SIDE, 3)
  assert not np.allclose(a, _G.apply(variables, _z(), train=False,
                                     rngs=rngs(1)))
  grouped = _G.clone(modconv="grouped").apply(variables, _z(), train=False,
                                              rngs=rngs(0))
  np.testing.assert_allclose(grouped, a, rtol=1e-4, atol=1e-4)
  with pytest.raises(ValueError, match="rngs"):
    _G.apply(variables, _z(), train=False)
  quiet = _G.clone(use_noise=False)
  quiet_vars = quiet.init(jax.random.key(0), _z(), train=False)
  assert quiet.apply(quiet_vars, _z(), train=False).shape == a.shape
  # noise_mode: "shared" draws one map per layer for the whole batch, so
  # equal zs give equal images; "none" drops the noise.
  same = jnp.repeat(_z(n=1), 4, axis=0)
  shared = _G.clone(noise_mode="shared").apply(variables, same, train=False,
                                               rngs=rngs(0))
  np.testing.assert_allclose(shared, shared[:1].repeat(4, 0), atol=1e-6)
  fresh = _G.apply(variables, same, train=False, rngs=rngs(0))
  assert not np.allclose(fresh, fresh[:1].repeat(4, 0), atol=1e-3)
  silent = {**variables, "params": flax.traverse_util.unflatten_dict(
      {k: (np.float32(0) if k[-1] == "noise_strength" else v)
       for k, v in params.items()})}
  np.testing.assert_array_equal(
      _G.clone(noise_mode="none").apply(variables, _z(), train=False),
      _G.apply(silent, _z(), train=False, rngs=rngs(0)))
  with pytest.raises(ValueError, match="noise_mode must be one of"):
    _G.clone(noise_mode="const").apply(variables, _z(), train=False)


def _conv_dtypes(jaxpr) -> list[str]:
  """Operand dtypes of every convolution in `jaxpr` (and its sub-jaxprs),
  as "lhs,rhs" (on CPU `ops/conv.py` also holds its im2col matmuls)."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "conv_general_dilated":
      found.append(",".join(str(v.aval.dtype) for v in eqn.invars))
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      found.extend(_conv_dtypes(sub))
  return found


def test_bf16_blocks_compute_in_bf16_and_match_float32(g_vars):
  """num_bf16_res: the highest blocks' convolutions in bfloat16, the rest
  (and the parameters, and the outputs) float32; outputs near float32's."""
  z = _z()
  half = _G.clone(num_bf16_res=1, use_noise=False)
  full = _G.clone(use_noise=False)
  out = half.apply(g_vars, z, train=False)
  want = full.apply(g_vars, z, train=False)
  assert out.dtype == jnp.float32
  np.testing.assert_allclose(out, want, atol=0.05 * np.abs(want).max())
  dtypes = _conv_dtypes(jax.make_jaxpr(
      lambda v: half.apply(v, z, train=False))(g_vars).jaxpr)
  # Block 16 (2 modulated convs and a toRGB) runs in bfloat16; blocks 4
  # and 8 in float32.
  assert dtypes.count("bfloat16,bfloat16") == 3, dtypes
  assert "float32,float32" in dtypes
  assert not _conv_dtypes(jax.make_jaxpr(
      lambda v: full.apply(v, z, train=False))(g_vars).jaxpr).count(
          "bfloat16,bfloat16")
  # Gradients reach the float32 parameters through the casts.
  grads = jax.grad(lambda p: jnp.sum(half.apply(
      {**g_vars, "params": p}, z, train=False) ** 2))(g_vars["params"])
  for leaf in jax.tree.leaves(grads):
    assert leaf.dtype == jnp.float32 and np.all(np.isfinite(leaf))
  top = grads["synthesis"]["b16"]["conv1"]["kernel"]
  assert np.abs(top).max() > 0

  d = stylegan2.Discriminator(channel_base=128, channel_max=16)
  images = jax.random.normal(jax.random.key(3), (4, _SIDE, _SIDE, 3))
  d_vars = d.init(jax.random.key(0), images, train=False)
  d_half = d.clone(num_bf16_res=1)
  logits = d_half.apply(d_vars, images, train=False)
  d_want = d.apply(d_vars, images, train=False)
  assert logits.dtype == jnp.float32
  np.testing.assert_allclose(logits, d_want, atol=0.05 * np.abs(
      d_want).max())
  d_dtypes = _conv_dtypes(jax.make_jaxpr(
      lambda v: d_half.apply(v, images, train=False))(d_vars).jaxpr)
  # Block 16: fromRGB, conv0, conv1 and the skip.
  assert d_dtypes.count("bfloat16,bfloat16") == 4, d_dtypes
  with pytest.raises(ValueError, match="num_bf16_res must be >= 0"):
    d.clone(num_bf16_res=-1).apply(d_vars, images, train=False)


def test_bad_input():
  with pytest.raises(ValueError, match="power of two"):
    _G.clone(output_shape=(28, 28, 1)).init(jax.random.key(0), _z(),
                                            train=False)
  d = stylegan2.Discriminator(channel_base=64, channel_max=8)
  with pytest.raises(ValueError, match="at least 8"):
    d.init(jax.random.key(0), jnp.zeros((4, 4, 4, 3)), train=False)
  with pytest.raises(ValueError, match="square"):
    d.init(jax.random.key(0), jnp.zeros((4, 16, 8, 3)), train=False)
  with pytest.raises(ValueError, match="'resnet', 'orig'"):
    d.clone(architecture="skip").init(jax.random.key(0),
                                      jnp.zeros((4, 8, 8, 3)), train=False)
  with pytest.raises(ValueError, match="needs one-hot labels"):
    d.clone(num_classes=3).init(jax.random.key(0), jnp.zeros((4, 8, 8, 3)),
                                train=False)
  with pytest.raises(ValueError, match="do not divide the batch"):
    d.init(jax.random.key(0), jnp.zeros((6, 8, 8, 3)), train=False)
