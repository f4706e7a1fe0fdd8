"""Tests of ganjax.models.dcgan: shapes, output range and packing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import dcgan
from ganjax.models import normalizers

_WIDTH = 4


def _init_and_apply_shapes(module, x, train):
  """Shapes of (variables, output) without compiling anything."""
  variables = jax.eval_shape(
      lambda x: module.init(jax.random.key(0), x, train=False), x)
  if train:
    out = jax.eval_shape(
        lambda v, x: module.apply(v, x, train=True, mutable=["batch_stats"])[0],
        variables, x)
  else:
    out = jax.eval_shape(lambda v, x: module.apply(v, x, train=False),
                         variables, x)
  return variables, out


@pytest.mark.parametrize("output_shape", [(28, 28, 1), (32, 32, 3),
                                          (64, 64, 3)])
@pytest.mark.parametrize("train", [True, False])
def test_generator_output_shape(output_shape, train):
  generator = dcgan.Generator(output_shape=output_shape, width=_WIDTH)
  z = jax.ShapeDtypeStruct((3, 8), jnp.float32)
  variables, out = _init_and_apply_shapes(generator, z, train)
  assert out.shape == (3, *output_shape)
  assert out.dtype == jnp.float32
  # The FC layer makes a ⌈H/16⌉×⌈W/16⌉×(8·width) map: 28 → 14 → 7 → 4 → 2.
  side = -(-output_shape[0] // 16)
  assert variables["params"]["Dense_0"]["kernel"].shape == (
      8, side * side * 8 * _WIDTH)


def _numpy_variables(module, x, scale=0.02, seed=0):
  """Variables of `module` filled from numpy: no initializer to compile."""
  shapes = jax.eval_shape(
      lambda x: module.init(jax.random.key(0), x, train=False), x)
  rng = np.random.default_rng(seed)
  params = jax.tree.map(
      lambda s: (scale * rng.normal(size=s.shape)).astype(np.float32),
      shapes["params"])
  stats = jax.tree.map(lambda s: np.ones(s.shape, np.float32),
                       shapes.get("batch_stats", {}))
  return {"params": params, "batch_stats": stats} if stats else {
      "params": params}


def test_generator_output_in_range():
  generator = dcgan.Generator(output_shape=(28, 28, 1), width=_WIDTH)
  z = np.random.default_rng(1).uniform(-1, 1, (2, 8)).astype(np.float32)
  # Large weights saturate tanh; the output must still lie in [-1, 1].
  small = _numpy_variables(generator, z, scale=0.02)
  big = _numpy_variables(generator, z, scale=10.0)
  apply = jax.jit(lambda v, train: generator.apply(
      v, z, train=train, mutable=["batch_stats"])[0], static_argnums=1)
  outs = {(name, train): np.asarray(apply(v, train))
          for name, v in (("small", small), ("big", big))
          for train in (True, False)}
  for out in outs.values():
    assert out.shape == (2, 28, 28, 1)
    assert np.all(out >= -1.0) and np.all(out <= 1.0)
  assert np.max(np.abs(outs["big", True])) > 0.99
  # Images are not constant: the generator uses its input.
  assert np.std(outs["small", True]) > 0


def test_discriminator_runs():
  discriminator = dcgan.Discriminator(width=_WIDTH, num_packed=2)
  x = np.random.default_rng(0).normal(size=(4, 28, 28, 1)).astype(np.float32)
  variables = _numpy_variables(discriminator, x)
  out, updates = jax.jit(lambda v: discriminator.apply(
      v, x, train=True, mutable=["batch_stats"]))(variables)
  assert out.shape == (2, 1)
  assert np.all(np.isfinite(out))
  assert set(updates) == {"batch_stats"}


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3),
                                         (64, 64, 3)])
@pytest.mark.parametrize("num_packed", [1, 2, 4])
def test_discriminator_output_shape(image_shape, num_packed):
  discriminator = dcgan.Discriminator(width=_WIDTH, num_packed=num_packed)
  x = jax.ShapeDtypeStruct((8, *image_shape), jnp.float32)
  for train in (True, False):
    variables, out = _init_and_apply_shapes(discriminator, x, train)
    assert out.shape == (8 // num_packed, 1)
  # The first conv sees m·C channels.
  assert variables["params"]["Conv_0"]["kernel"].shape == (
      5, 5, num_packed * image_shape[-1], _WIDTH)


def test_discriminator_normalizer_choice():
  x = jax.ShapeDtypeStruct((2, 28, 28, 1), jnp.float32)
  with_bn = jax.eval_shape(
      lambda x: dcgan.Discriminator(width=_WIDTH).init(
          jax.random.key(0), x, train=False), x)
  without = jax.eval_shape(
      lambda x: dcgan.Discriminator(width=_WIDTH, norm=normalizers.Identity
                                    ).init(jax.random.key(0), x, train=False),
      x)
  # Batch norm on all convs but the first.
  assert sorted(k for k in with_bn["params"] if "BatchNorm" in k) == [
      "BatchNorm_0", "BatchNorm_1", "BatchNorm_2"]
  assert "batch_stats" not in without
  assert not any("BatchNorm" in k for k in without["params"])


@pytest.mark.parametrize("aux", [False, True])
def test_conditional_dcgan(aux):
  generator = dcgan.Generator(output_shape=(28, 28, 1), num_classes=3,
                              width=_WIDTH)
  discriminator = dcgan.Discriminator(num_classes=3, width=_WIDTH,
                                      aux_classifier=aux)
  z, y = jnp.ones((2, 8)), jax.nn.one_hot(jnp.array([0, 2]), 3)
  g_vars = generator.init(jax.random.key(0), z, y, train=False)
  # Conditional batch norm: γ and β are projections of the label.
  assert g_vars["params"]["ConditionalBatchNorm_0"]["gamma"]["kernel"].shape[
      0] == 3
  x = generator.apply(g_vars, z, y, train=False)
  d_vars = discriminator.init(jax.random.key(1), x, y, train=False)
  logits, sown = discriminator.apply(d_vars, x, y, train=False,
                                     mutable=["intermediates"])
  features = sown["intermediates"]["features"][0]
  embed = d_vars["params"]["ClassHeads_0"]["embed"]["kernel"]
  unconditional = features @ d_vars["params"]["Dense_0"]["kernel"] + (
      d_vars["params"]["Dense_0"]["bias"])
  # The projection term of Miyato & Koyama: ⟨embed(y), features⟩.
  np.testing.assert_allclose(
      logits, unconditional + jnp.sum((y @ embed) * features, -1,
                                      keepdims=True), rtol=1e-5, atol=1e-6)
  heads = sown["intermediates"].get("ClassHeads_0", {})
  assert ("class_logits" in heads) == aux
  with pytest.raises(ValueError, match="needs one-hot labels"):
    generator.apply(g_vars, z, train=False)