"""Tests of ganjax.models.infogan: shapes, layer table, normalizers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import infogan
from ganjax.models import normalizers


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _init_shapes(module, *inputs):
  return jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)


def _count(tree):
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def test_layer_table_at_28():
  g_vars = _init_shapes(infogan.Generator(output_shape=(28, 28, 1)),
                        _spec(2, 64))
  d_vars = _init_shapes(infogan.Discriminator(), _spec(2, 28, 28, 1))
  hidden = 128 * 7 * 7
  g_expected = (64 * 1024 + 1024 + 2 * 1024
                + 1024 * hidden + hidden + 2 * hidden
                + 16 * 64 * 128 + 64 + 2 * 64
                + 16 * 1 * 64 + 1)
  d_expected = (16 * 1 * 64 + 64 + 16 * 64 * 128 + 128
                + hidden * 1024 + 1024 + 1024 + 1)
  assert _count(g_vars["params"]) == g_expected
  assert _count(d_vars["params"]) == d_expected
  assert g_vars["params"]["deconv3"]["kernel"].shape == (4, 4, 64, 128)
  # D's normalizer is none by default (Compare GAN's D.batch_norm_fn).
  assert "batch_stats" not in d_vars
  with_bn = _init_shapes(infogan.Discriminator(norm=normalizers.BatchNorm),
                         _spec(2, 28, 28, 1))
  assert with_bn["params"]["bn3"]["scale"].shape == (1024,)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_builds(shape, num_classes):
  generator = infogan.Generator(output_shape=shape, num_classes=num_classes,
                                ch=4)
  discriminator = infogan.Discriminator(num_classes=num_classes, ch=4)
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
    assert state["intermediates"]["features"][0].shape == (2, 64)
  # A conditional G uses conditional batch norm.
  assert ("gamma" in g_vars["params"]["bn1"]) == bool(num_classes)


def test_sides_must_be_divisible_by_4():
  with pytest.raises(ValueError, match="divisible by 4; got 30×30"):
    _init_shapes(infogan.Generator(output_shape=(30, 30, 1), ch=4),
                 _spec(2, 16))


def test_tiny_run():
  generator = infogan.Generator(output_shape=(28, 28, 1), ch=4)
  discriminator = infogan.Discriminator(ch=4)
  z = np.random.default_rng(0).normal(size=(4, 16)).astype(np.float32)
  rng = np.random.default_rng(1)
  fill = lambda s: (0.3 * rng.normal(size=s.shape)).astype(np.float32)
  g_shapes = _init_shapes(generator, z)
  g_vars = {"params": jax.tree.map(fill, g_shapes["params"]),
            "batch_stats": jax.tree.map(lambda s: np.ones(s.shape, np.float32),
                                        g_shapes["batch_stats"])}
  d_params = jax.tree.map(
      fill, _init_shapes(discriminator, _spec(4, 28, 28, 1))["params"])

  @jax.jit
  def run(g_vars, d_params):
    images, _ = generator.apply(g_vars, z, train=True,
                                mutable=["batch_stats"])
    return images, discriminator.apply({"params": d_params}, images,
                                       train=True)

  images, logits = run(g_vars, d_params)
  assert np.all(np.abs(images) <= 1.0) and np.std(images) > 0
  assert logits.shape == (4, 1) and np.all(np.isfinite(logits))
