"""Tests of ganjax.models.sndcgan: shapes, layer table, spectral norm."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import normalizers
from ganjax.models import sndcgan


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _init_shapes(module, *inputs):
  return jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)


def _count(tree):
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def test_layer_table_at_32():
  g_vars = _init_shapes(sndcgan.Generator(output_shape=(32, 32, 3)),
                        _spec(2, 128))
  d_vars = _init_shapes(sndcgan.Discriminator(), _spec(2, 32, 32, 3))
  fc = 4 * 4 * 512
  g_expected = (128 * fc + fc + 2 * fc  # FC, then batch norm on the vector.
                + 16 * 512 * 256 + 256 + 2 * 256
                + 16 * 256 * 128 + 128 + 2 * 128
                + 16 * 128 * 64 + 64 + 2 * 64
                + 9 * 64 * 3 + 3)
  d_expected = sum(k * k * a * b + b for k, a, b in (
      (3, 3, 64), (4, 64, 128), (3, 128, 128), (4, 128, 256), (3, 256, 256),
      (4, 256, 512), (3, 512, 512))) + fc + 1
  assert _count(g_vars["params"]) == g_expected
  assert _count(d_vars["params"]) == d_expected
  # Transposed-conv kernels are [KH, KW, out, in] (TensorFlow's layout).
  assert g_vars["params"]["deconv2"]["kernel"].shape == (4, 4, 256, 512)
  assert g_vars["params"]["deconv5"]["kernel"].shape == (3, 3, 3, 64)
  assert d_vars["params"]["conv2"]["kernel"].shape == (4, 4, 64, 128)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (48, 48, 3),
                                   (64, 64, 3), (128, 128, 3), (40, 24, 3)])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_builds(shape, num_classes):
  generator = sndcgan.Generator(output_shape=shape, num_classes=num_classes,
                                ch=4)
  discriminator = sndcgan.Discriminator(num_classes=num_classes, ch=4)
  labels = (_spec(2, num_classes),) if num_classes else ()
  z = _spec(2, 16)
  g_vars = _init_shapes(generator, z, *labels)
  d_vars = _init_shapes(discriminator, _spec(2, *shape), *labels)
  for train in (False, True):
    images, _ = jax.eval_shape(
        lambda v, *a: generator.apply(v, *a, train=train, mutable=True),
        g_vars, z, *labels)
    assert images.shape == (2, *shape)
    logits, state = jax.eval_shape(
        lambda v, *a: discriminator.apply(v, *a, train=train, mutable=True),
        d_vars, images, *labels)
    assert logits.shape == (2, 1)
    side = lambda s: -(-s // 8)
    assert state["intermediates"]["features"][0].shape == (
        2, side(shape[0]) * side(shape[1]) * 32)
  assert ("ClassHeads_0" in d_vars["params"]) == bool(num_classes)


def test_spectral_norm_on_every_layer_and_a_tiny_run():
  generator = sndcgan.Generator(output_shape=(28, 28, 1), ch=4,
                                weight_norm=normalizers.SpectralNorm)
  discriminator = sndcgan.Discriminator(ch=4,
                                        weight_norm=normalizers.SpectralNorm)
  z = np.random.default_rng(0).normal(size=(4, 16)).astype(np.float32)
  g_shapes = _init_shapes(generator, z)
  d_shapes = _init_shapes(discriminator, _spec(4, 28, 28, 1))
  # One u vector per kernel: FC + 4 transposed convs; 7 convs + FC.
  u_count = lambda v: sum(
      jax.tree_util.keystr(path).endswith("/u']") for path, _ in
      jax.tree_util.tree_leaves_with_path(v["spectral_norm"]))
  assert (u_count(g_shapes), u_count(d_shapes)) == (5, 8)

  rng = np.random.default_rng(1)

  def fill(path, s):
    name = jax.tree_util.keystr(path)
    if name.endswith("var']"):
      return np.ones(s.shape, np.float32)
    if "batch_stats" in name:
      return np.zeros(s.shape, np.float32)
    return rng.normal(size=s.shape).astype(np.float32)

  g_vars = jax.tree_util.tree_map_with_path(fill, g_shapes)
  d_vars = jax.tree_util.tree_map_with_path(fill, d_shapes)

  @jax.jit
  def run(g_vars, d_vars):
    images, _ = generator.apply(g_vars, z, train=True, mutable=True)
    return images, discriminator.apply(d_vars, images, train=True,
                                       mutable=True)[0]

  images, logits = run(g_vars, d_vars)
  assert images.shape == (4, 28, 28, 1) and np.std(images) > 0
  assert np.all(np.abs(images) <= 1.0) and np.all(np.isfinite(logits))
