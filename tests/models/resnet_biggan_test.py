"""Tests of ganjax.models.resnet_biggan: layer tables, parameter counts, heads.

Shapes and parameter counts come from `jax.eval_shape`, so the full-size
models are never compiled; only tiny ones (ch = 4) run.
"""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import normalizers
from ganjax.models import resnet_biggan

# Compare GAN's z sizes: num_blocks + 1 chunks of 20 at 128, 256 and 512.
_Z_DIM = {32: 120, 64: 120, 128: 120, 256: 140, 512: 160}
# Compare GAN's published counts (resnet_biggan.py docstring and test):
# (G, D), conditional on 1000 classes, ch = 96.
_PUBLISHED = {128: (70_433_988, 87_982_370), 256: (82_097_604, 98_635_298),
              512: (82_468_068, 98_801_378)}


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _shapes(module, *inputs, train=False):
  """(variables, output, state) shapes of init and apply; nothing compiled."""
  variables = jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)
  out, state = jax.eval_shape(
      lambda v, *a: module.apply(v, *a, train=train, mutable=True),
      variables, *inputs)
  return variables, out, state


def _count(tree):
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def _flat_shapes(tree):
  return {"/".join(k): v.shape
          for k, v in flax.traverse_util.flatten_dict(tree).items()}


@pytest.mark.parametrize("side", [128, 256, 512])
def test_parameter_counts_match_compare_gan(side):
  generator = resnet_biggan.Generator(output_shape=(side, side, 3),
                                      num_classes=1000)
  discriminator = resnet_biggan.Discriminator(num_classes=1000)
  y = _spec(2, 1000)
  g_vars, images, _ = _shapes(generator, _spec(2, _Z_DIM[side]), y)
  d_vars, logits, _ = _shapes(discriminator, images, y)
  assert images.shape == (2, side, side, 3) and logits.shape == (2, 1)
  # Trainable parameters only: spectral-norm vectors and batch statistics
  # live in other collections (as Compare GAN's non-trainable variables).
  assert (_count(g_vars["params"]), _count(d_vars["params"])) == (
      _PUBLISHED[side])
  assert set(g_vars) == {"params", "batch_stats", "spectral_norm"}
  assert set(d_vars) == {"params", "spectral_norm"}


def test_layer_table_at_128():
  generator = resnet_biggan.Generator(output_shape=(128, 128, 3),
                                      num_classes=1000)
  g_vars, _, _ = _shapes(generator, _spec(2, 120), _spec(2, 1000))
  g = _flat_shapes(g_vars["params"])
  assert g["embed_y/kernel"] == (1000, 128) and "embed_y/bias" not in g
  assert g["fc_noise/kernel"] == (20, 4 * 4 * 1536)
  # Conditional BN: γ, β are bias-free linear maps of [z chunk (20), embed].
  assert g["B1/bn1/gamma/kernel"] == (148, 1536)
  assert g["B5/bn2/beta/kernel"] == (148, 96)
  assert not any(k.startswith("B") and "bn" in k and k.endswith("bias")
                 for k in g)
  # 1×1 shortcuts; channels 1536 → 1536 → 768 → 384 → 192 → 96.
  assert g["B1/shortcut/kernel"] == (1, 1, 1536, 1536)
  assert g["B5/conv1/kernel"] == (3, 3, 192, 96)
  # Attention after B4 (64×64, 192 channels), without biases.
  assert g["non_local_B4/theta/kernel"] == (1, 1, 192, 24)
  assert g["non_local_B4/sigma"] == ()
  assert not any(k.startswith("non_local") and k.endswith("bias") for k in g)
  # Unconditional final batch norm with γ and β.
  assert g["final_norm/scale"] == (96,) and g["final_norm/offset"] == (96,)
  assert g["final_conv/kernel"] == (3, 3, 96, 3)

  discriminator = resnet_biggan.Discriminator(num_classes=1000)
  d_vars, _, _ = _shapes(discriminator, _spec(2, 128, 128, 3),
                         _spec(2, 1000))
  d = _flat_shapes(d_vars["params"])
  assert d["B1/shortcut/kernel"] == (1, 1, 3, 96)
  assert d["non_local_B1/g/kernel"] == (1, 1, 96, 48)
  # The last block keeps 1536 channels: no shortcut.
  assert d["B6/conv1/kernel"] == (3, 3, 1536, 1536)
  assert not any(k.startswith("B6/shortcut") for k in d)
  assert d["final_fc/kernel"] == (1536, 1)
  assert d["ClassHeads_0/embed/kernel"] == (1000, 1536)


@pytest.mark.parametrize("side", [32, 64, 128, 256, 512])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_builds_at_every_resolution(side, num_classes):
  # Without spectral norm, to trace faster; the counts test uses it.
  generator = resnet_biggan.Generator(output_shape=(side, side, 3),
                                      num_classes=num_classes, ch=8,
                                      weight_norm=None)
  discriminator = resnet_biggan.Discriminator(num_classes=num_classes, ch=8,
                                              weight_norm=None)
  labels = (_spec(3, num_classes),) if num_classes else ()
  z = _spec(3, _Z_DIM[side])
  x = _spec(3, side, side, 3)
  g_vars = jax.eval_shape(
      lambda *a: generator.init(jax.random.key(0), *a, train=False), z,
      *labels)
  d_vars = jax.eval_shape(
      lambda *a: discriminator.init(jax.random.key(0), *a, train=False), x,
      *labels)
  for train in (False, True):
    images, g_state = jax.eval_shape(
        lambda v, *a: generator.apply(v, *a, train=train, mutable=True),
        g_vars, z, *labels)
    assert images.shape == (3, side, side, 3)
    logits, d_state = jax.eval_shape(
        lambda v, *a: discriminator.apply(v, *a, train=train, mutable=True),
        d_vars, images, *labels)
    assert logits.shape == (3, 1)
    features = d_state["intermediates"]["features"][0]
    assert features.shape == (3, 8 * resnet_biggan._D_CHANNELS[side][-1])
    assert "batch_stats" in g_state
  # Unconditional: the block normalizers are conditioned on the z chunk.
  chunk = _Z_DIM[side] // len(resnet_biggan._G_CHANNELS[side])
  cond_size = chunk + 128 if num_classes else chunk
  assert g_vars["params"]["B1"]["bn1"]["gamma"]["kernel"].shape[0] == (
      cond_size)
  assert ("embed_y" in g_vars["params"]) == bool(num_classes)
  assert ("ClassHeads_0" in d_vars["params"]) == bool(num_classes)


def test_default_attention_placement():
  expected = {32: ([], ["B1"]), 64: (["B4"], ["B1"]), 128: (["B4"], ["B1"]),
              256: (["B5"], ["B2"]), 512: (["B4"], ["B3"])}
  for side, (g_blocks, d_blocks) in expected.items():
    g_vars = jax.eval_shape(
        lambda z: resnet_biggan.Generator(
            output_shape=(side, side, 3), ch=8).init(
                jax.random.key(0), z, train=False), _spec(1, _Z_DIM[side]))
    d_vars = jax.eval_shape(
        lambda x: resnet_biggan.Discriminator(ch=8).init(
            jax.random.key(0), x, train=False), _spec(1, side, side, 3))
    attention = lambda v: sorted(k[len("non_local_"):] for k in v["params"]
                                 if k.startswith("non_local_"))
    assert (attention(g_vars), attention(d_vars)) == (g_blocks, d_blocks)


def test_clear_errors():
  z = _spec(2, 100)
  with pytest.raises(ValueError, match="6 equal chunks.*multiple of 6"):
    _shapes(resnet_biggan.Generator(output_shape=(128, 128, 3), ch=4), z)
  with pytest.raises(ValueError, match="32, 64, 128, 256, 512; got 96×96"):
    _shapes(resnet_biggan.Generator(output_shape=(96, 96, 3), ch=4),
            _spec(2, 120))
  with pytest.raises(ValueError, match="32, 64, 128, 256, 512; got 48×48"):
    _shapes(resnet_biggan.Discriminator(ch=4), _spec(2, 48, 48, 3))
  with pytest.raises(ValueError, match="B7.*B1 to B5"):
    _shapes(resnet_biggan.Generator(output_shape=(128, 128, 3), ch=4,
                                    blocks_with_attention="B7"),
            _spec(2, 120))
  # Without hierarchical z, any size works.
  _, images, _ = _shapes(resnet_biggan.Generator(
      output_shape=(32, 32, 3), ch=4, hierarchical_z=False), z)
  assert images.shape == (2, 32, 32, 3)


def _numpy_params(shapes, seed, scale=0.3):
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda s: (scale * rng.normal(size=s.shape)).astype(np.float32),
      shapes)


def test_projection_term_by_hand():
  discriminator = resnet_biggan.Discriminator(num_classes=3, ch=4,
                                              weight_norm=None)
  x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype(np.float32)
  y = jax.nn.one_hot(jnp.array([0, 2, 1, 2]), 3)
  shapes = jax.eval_shape(
      lambda: discriminator.init(jax.random.key(0), x, y, train=False))
  params = _numpy_params(shapes["params"], seed=1)
  logits, sown = jax.jit(lambda p: discriminator.apply(
      {"params": p}, x, y, train=False, mutable=["intermediates"]))(params)
  h = np.asarray(sown["intermediates"]["features"][0], np.float64)
  final = params["final_fc"]
  embed = params["ClassHeads_0"]["embed"]["kernel"]
  expected = h @ final["kernel"] + final["bias"] + np.sum(
      (np.asarray(y) @ embed) * h, axis=-1, keepdims=True)
  np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_aux_classifier_sows_class_logits():
  discriminator = resnet_biggan.Discriminator(num_classes=5, ch=4,
                                              aux_classifier=True)
  _, _, state = _shapes(discriminator, _spec(2, 32, 32, 3), _spec(2, 5))
  found = {path[-1]: v[0].shape for path, v in
           flax.traverse_util.flatten_dict(state["intermediates"]).items()}
  assert found == {"features": (2, 8), "class_logits": (2, 5)}


def _numpy_variables(module, *inputs, seed=0):
  """Variables of `module` drawn with numpy: no initializer is compiled."""
  shapes = jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)
  rng = np.random.default_rng(seed)

  def fill(path, s):
    name = jax.tree_util.keystr(path)
    if "batch_stats" in name:
      value = np.ones(s.shape) if name.endswith("var']") else np.zeros(s.shape)
    elif "params" in name:
      value = 0.1 * rng.normal(size=s.shape)
    else:  # Spectral-norm vectors.
      value = rng.normal(size=s.shape)
    return value.astype(np.float32)

  return jax.tree_util.tree_map_with_path(fill, shapes)


@pytest.mark.parametrize("num_classes", [0, 4])
def test_tiny_models_run(num_classes):
  generator = resnet_biggan.Generator(output_shape=(32, 32, 3),
                                      num_classes=num_classes, ch=4,
                                      blocks_with_attention="B2",
                                      upsample="zeros")
  discriminator = resnet_biggan.Discriminator(num_classes=num_classes, ch=4)
  z = np.random.default_rng(0).normal(size=(4, 120)).astype(np.float32)
  labels = (jax.nn.one_hot(jnp.arange(4) % 4, 4),) if num_classes else ()
  g_vars = _numpy_variables(generator, z, *labels, seed=1)
  d_vars = _numpy_variables(discriminator, np.zeros((4, 32, 32, 3),
                                                    np.float32), *labels,
                            seed=2)

  @jax.jit
  def run(g_vars, d_vars):
    images, g_state = generator.apply(g_vars, z, *labels, train=True,
                                      mutable=["batch_stats",
                                               "spectral_norm"])
    logits, d_state = discriminator.apply(d_vars, images, *labels,
                                          train=True,
                                          mutable=["spectral_norm"])
    return images, logits, g_state, d_state

  images, logits, g_state, d_state = run(g_vars, d_vars)
  assert np.all(np.abs(images) <= 1.0) and np.std(images) > 0
  assert np.all(np.isfinite(logits))
  # Training mode updates batch statistics and spectral-norm vectors.
  assert not np.allclose(jax.tree.leaves(g_state["batch_stats"])[0],
                         jax.tree.leaves(g_vars["batch_stats"])[0])
  assert not np.allclose(
      jax.tree.leaves(d_state["spectral_norm"])[-1],
      jax.tree.leaves(d_vars["spectral_norm"])[-1])


def test_identity_skip_option():
  plain = resnet_biggan.Discriminator(ch=4, identity_skip=True,
                                      weight_norm=normalizers.SpectralNorm)
  d_vars, logits, _ = _shapes(plain, _spec(2, 512, 512, 3))
  # Same parameters: the skip of a block that keeps its channels is free.
  assert logits.shape == (2, 1) and "shortcut" not in d_vars["params"]["B2"]


def _conv(k, cin, cout):
  return k * k * cin * cout + cout


@pytest.mark.parametrize("num_classes", [0, 10])
def test_biggan_pytorch_layout_at_32(num_classes):
  # data-efficient-gans' CIFAR D (BigGAN-PyTorch's D_arch[32], D_ch = 64):
  # four blocks of 256 channels, the first two downsampling with a 1×1
  # shortcut, the last two with an identity one; counted from D_arch.
  c = 256
  expected = (_conv(3, 3, c) + _conv(3, c, c) + _conv(1, 3, c)
              + 2 * _conv(3, c, c) + _conv(1, c, c)
              + 2 * 2 * _conv(3, c, c)
              + c + 1 + num_classes * c)
  discriminator = resnet_biggan.Discriminator(
      ch=64, num_classes=num_classes, layout="biggan_pytorch",
      blocks_with_attention="")
  y = (_spec(2, num_classes),) if num_classes else ()
  d_vars, logits, _ = _shapes(discriminator, _spec(2, 32, 32, 3), *y)
  assert logits.shape == (2, 1) and _count(d_vars["params"]) == expected
  assert {k for k, v in d_vars["params"].items()
          if "shortcut" in v} == {"B1", "B2"}
  # Two halvings: the last blocks run at 8×8 (Compare GAN's layout: 4×4).
  features = jax.eval_shape(
      lambda v, x: discriminator.apply(
          v, x, *([jnp.zeros((2, num_classes))] if num_classes else []),
          train=False, capture_intermediates=True,
          mutable=["intermediates"])[1]["intermediates"]["B4"],
      d_vars, _spec(2, 32, 32, 3))
  assert features["__call__"][0].shape == (2, 8, 8, c)


def test_unknown_layout_is_named():
  discriminator = resnet_biggan.Discriminator(ch=4, layout="studiogan")
  with pytest.raises(ValueError, match="layout = 'studiogan'"):
    _shapes(discriminator, _spec(2, 32, 32, 3))
