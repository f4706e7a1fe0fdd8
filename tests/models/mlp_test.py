"""Tests of ganjax.models.mlp: shapes, packing, the maxout layer and bias
initialization."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import mlp
from ganjax.models import normalizers

_SMALL = dict(hidden_dims=(8, 16))


def _shapes(module, x, train):
  """Shapes of (variables, output, updated collections); nothing compiled."""
  variables = jax.eval_shape(
      lambda x: module.init(jax.random.key(0), x, train=False), x)
  out, updates = jax.eval_shape(
      lambda v, x: module.apply(v, x, train=train, mutable=["batch_stats"]),
      variables, x)
  return variables, out, updates


@pytest.mark.parametrize("output_shape", [(2,), (28, 28, 1), (32, 32, 3),
                                          (64, 64, 3)])
@pytest.mark.parametrize("train", [True, False])
def test_generator_output_shape(output_shape, train):
  generator = mlp.Generator(output_shape=output_shape, **_SMALL)
  z = jax.ShapeDtypeStruct((3, 4), jnp.float32)
  variables, out, updates = _shapes(generator, z, train)
  assert out.shape == (3, *output_shape)
  assert variables["params"]["Dense_0"]["kernel"].shape == (
      16, int(np.prod(output_shape)))
  assert jax.tree.map(np.shape, updates["batch_stats"]) == jax.tree.map(
      np.shape, variables["batch_stats"])


def test_generator_runs_on_vectors():
  generator = mlp.Generator(output_shape=(2,), **_SMALL)
  z = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)

  @jax.jit
  def run():
    variables = generator.init(jax.random.key(1), z, train=False)
    return generator.apply(variables, z, train=True, mutable=["batch_stats"])

  out, updates = run()
  assert out.shape == (5, 2)
  assert np.all(np.isfinite(out)) and np.std(out) > 0
  # Batch statistics moved from their initial (0, 1) by (1 - momentum).
  mean = (updates["batch_stats"]["_HiddenLayers_0"]["BatchNorm_0"]
          ["Standardize_0"]["moments"]["mean"])
  assert mean.shape == (8,) and np.any(np.asarray(mean) != 0.0)


def test_generator_tanh_output_is_tanh_of_linear_output():
  z = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
  linear = mlp.Generator(output_shape=(2,), batch_norm=False, **_SMALL)
  squashed = mlp.Generator(output_shape=(2,), batch_norm=False,
                           output_activation="tanh", **_SMALL)
  variables = jax.jit(lambda: linear.init(jax.random.key(1), z,
                                          train=False))()
  variables = jax.tree.map(lambda p: 50.0 * p, variables)  # Saturate.
  out = jax.jit(lambda v: linear.apply(v, z, train=False))(variables)
  got = jax.jit(lambda v: squashed.apply(v, z, train=False))(variables)
  np.testing.assert_allclose(got, np.tanh(np.asarray(out)), rtol=1e-5,
                             atol=1e-6)
  assert np.all(np.abs(got) <= 1.0)


def test_generator_unknown_output_activation_raises():
  generator = mlp.Generator(output_shape=(2,), output_activation="sigmoid",
                            **_SMALL)
  with pytest.raises(ValueError, match="output_activation"):
    jax.eval_shape(lambda z: generator.init(jax.random.key(0), z,
                                            train=False),
                   jax.ShapeDtypeStruct((2, 4), jnp.float32))


@pytest.mark.parametrize("activation", ["maxout", "relu", "leaky_relu",
                                        "tanh"])
@pytest.mark.parametrize("num_packed", [1, 2, 4])
def test_discriminator_output_shape(activation, num_packed):
  discriminator = mlp.Discriminator(hidden_activation=activation,
                                    maxout_pieces=3, num_packed=num_packed,
                                    **_SMALL)
  x = jax.ShapeDtypeStruct((8, 2), jnp.float32)
  variables, out, _ = _shapes(discriminator, x, True)
  assert out.shape == (8 // num_packed, 1)
  # The first layer sees m packed examples of dimension 2.
  first = jax.tree.leaves(variables["params"]["_HiddenLayers_0"])
  assert any(p.ndim == 2 and p.shape[0] == 2 * num_packed for p in first)


def test_discriminator_on_images_flattens():
  discriminator = mlp.Discriminator(num_packed=2, maxout_pieces=2, **_SMALL)
  x = jax.ShapeDtypeStruct((4, 28, 28, 1), jnp.float32)
  variables, out, _ = _shapes(discriminator, x, False)
  assert out.shape == (2, 1)
  assert variables["params"]["_HiddenLayers_0"]["Maxout_0"]["Dense_0"][
      "kernel"].shape == (2 * 28 * 28, 8 * 2)


def test_packed_discriminator_sees_concatenated_examples():
  # With m = 2, D(x) on [N, 2] equals an unpacked D on the [N/2, 4] rows
  # (x[2i], x[2i+1]) concatenated, with the same parameters.
  packed = mlp.Discriminator(num_packed=2, maxout_pieces=2, **_SMALL)
  unpacked = mlp.Discriminator(num_packed=1, maxout_pieces=2, **_SMALL)
  x = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
  variables = jax.jit(lambda: packed.init(jax.random.key(0), x,
                                          train=False))()
  got = packed.apply(variables, x, train=False)
  want = unpacked.apply(variables, x.reshape(3, 4), train=False)
  np.testing.assert_allclose(got, want, rtol=1e-6)


def test_maxout_is_max_over_pieces():
  features, pieces = 4, 3
  layer = mlp.Maxout(features, pieces)
  x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
  variables = jax.eval_shape(
      lambda x: layer.init(jax.random.key(0), x, train=False), x)
  rng = np.random.default_rng(1)
  kernel = rng.normal(size=(5, features * pieces)).astype(np.float32)
  bias = rng.normal(size=features * pieces).astype(np.float32)
  params = {"Dense_0": {"kernel": kernel, "bias": bias}}
  assert jax.tree.map(np.shape, variables["params"]) == jax.tree.map(
      np.shape, params)
  got = layer.apply({"params": params}, x, train=False)
  dense = x.astype(np.float64) @ kernel + bias
  want = np.zeros((6, features))
  for f in range(features):
    # Unit f owns the `pieces` consecutive columns of the dense output.
    want[:, f] = np.max(dense[:, f * pieces:(f + 1) * pieces], axis=1)
  assert got.shape == (6, features)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_spectral_norm_wraps_every_layer():
  discriminator = mlp.Discriminator(hidden_dims=(8, 8),
                                    weight_norm=normalizers.SpectralNorm)
  x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
  variables = discriminator.init(jax.random.key(0), x, train=False)
  # Two maxout layers and the output layer, each with its own u vector.
  before = {path: u for path, u in flax.traverse_util.flatten_dict(
      variables["spectral_norm"]).items() if path[-1].endswith("/u")}
  assert len(before) == 3
  # Training steps the power iteration of each.
  _, updated = discriminator.apply(variables, x, train=True,
                                   mutable=["spectral_norm"])
  after = flax.traverse_util.flatten_dict(updated["spectral_norm"])
  for path, u in before.items():
    assert not np.allclose(after[path], u), path


@pytest.mark.parametrize("activation", ["relu", "maxout"])
def test_bias_init_sets_hidden_biases_only(activation):
  x = jax.ShapeDtypeStruct((4, 2), jnp.float32)
  init = jax.nn.initializers.constant(0.5)
  for module in (mlp.Generator(output_shape=(2,), batch_norm=False,
                               hidden_activation=activation,
                               maxout_pieces=2, bias_init=init, **_SMALL),
                 mlp.Discriminator(hidden_activation=activation,
                                   maxout_pieces=2, bias_init=init,
                                   **_SMALL)):
    params = flax.traverse_util.flatten_dict(jax.jit(
        lambda x, m=module: m.init(jax.random.key(0), x, train=False))(
            np.zeros(x.shape, x.dtype))["params"])
    biases = {k: v for k, v in params.items() if k[-1] == "bias"}
    hidden = [v for k, v in biases.items() if k[0] == "_HiddenLayers_0"]
    output = [v for k, v in biases.items() if k[0] != "_HiddenLayers_0"]
    assert len(hidden) == 2 and len(output) == 1
    for b in hidden:
      np.testing.assert_array_equal(b, 0.5)
    np.testing.assert_array_equal(output[0], 0.0)


def test_random_biases_make_relu_generator_not_homogeneous():
  # With zero biases a ReLU G is positively homogeneous, G(2z) = 2 G(z)
  # (samples on rays through the origin); random biases break that.
  z = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
  for bias_init, homogeneous in ((jax.nn.initializers.zeros, True),
                                 (jax.nn.initializers.normal(1.0), False)):
    generator = mlp.Generator(output_shape=(2,), batch_norm=False,
                              kernel_init=jax.nn.initializers.he_normal(),
                              bias_init=bias_init, **_SMALL)
    variables = generator.init(jax.random.key(0), z, train=False)
    # Only the hidden layers matter; zero the output bias for the check.
    variables["params"]["Dense_0"]["bias"] = jnp.zeros(2)
    g = lambda z, v=variables: generator.apply(v, z, train=False)
    assert np.allclose(g(2 * z), 2 * g(z), atol=1e-5) == homogeneous


def test_conditional_nets_read_each_example_with_its_label():
  # A conditional net equals the unconditional net of the same weights
  # applied to [input, one-hot y]; with packing, each packed example keeps
  # its own label beside it.
  rng = np.random.default_rng(0)
  z = rng.normal(size=(4, 3)).astype(np.float32)
  x = rng.normal(size=(4, 2, 2, 1)).astype(np.float32)
  y = jax.nn.one_hot(np.array([0, 2, 1, 2]), 3)
  generator = mlp.Generator(output_shape=(2,), num_classes=3, **_SMALL)
  discriminator = mlp.Discriminator(num_classes=3, num_packed=2, **_SMALL)
  for module, inputs, joined in (
      (generator, z, np.concatenate([z, y], -1)),
      (discriminator, x, np.concatenate([x.reshape(4, -1), y], -1))):
    variables = module.init(jax.random.key(0), inputs, y, train=False)
    plain = module.clone(num_classes=0)
    np.testing.assert_allclose(
        module.apply(variables, inputs, y, train=False),
        plain.apply(variables, joined, train=False), rtol=1e-6)
  d_variables = discriminator.init(jax.random.key(0), x, y, train=False)
  swapped = y[jnp.array([1, 0, 2, 3])]  # Labels of the first pair swapped.
  assert not np.allclose(
      discriminator.apply(d_variables, x, y, train=False)[0],
      discriminator.apply(d_variables, x, swapped, train=False)[0])


def test_conditional_nets_need_labels():
  generator = mlp.Generator(output_shape=(2,), num_classes=3, **_SMALL)
  with pytest.raises(ValueError, match="class-conditional"):
    generator.init(jax.random.key(0), np.zeros((4, 3), np.float32),
                   train=False)
