"""Tests of ganjax.models.normalizers against direct numpy computations."""

import functools

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import normalizers

_X = jax.random.normal(jax.random.key(0), (8, 4, 4, 3)) * 3.0 + 1.0
_Y = jax.nn.one_hot(jnp.arange(8) % 3, 3)
_Z = jax.random.normal(jax.random.key(1), (8, 5))


def _run(module, x=_X, train=True, **kwargs):
  variables = module.init(jax.random.key(2), x, train=train, **kwargs)
  out, updated = module.apply(variables, x, train=train, mutable=True,
                              **kwargs)
  return variables, out, updated


def _standardized(x, epsilon=1e-5):
  x = np.asarray(x, np.float64)
  axes = tuple(range(x.ndim - 1))
  return (x - x.mean(axes)) / np.sqrt(x.var(axes) + epsilon)


@pytest.mark.parametrize("cls", [normalizers.StandardizeNorm,
                                 normalizers.BatchNorm,
                                 normalizers.ConditionalBatchNorm])
def test_batch_norms_standardize_at_initialization(cls):
  # Conditional batch norm starts as identity after standardization: γ = 1 +
  # W_γ y with W_γ = 0, β = 0.
  _, out, _ = _run(cls(), y=_Y)
  np.testing.assert_allclose(out, _standardized(_X), rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_is_a_per_class_affine_map():
  module = normalizers.ConditionalBatchNorm()
  variables = module.init(jax.random.key(2), _X, train=True, y=_Y)
  gamma_w = jax.random.normal(jax.random.key(3), (3, 3))
  beta_w = jax.random.normal(jax.random.key(4), (3, 3))
  params = {"gamma": {"kernel": gamma_w}, "beta": {"kernel": beta_w}}
  out, _ = module.apply({**variables, "params": params}, _X, train=True,
                        y=_Y, mutable=True)
  gamma = 1.0 + np.asarray(_Y @ gamma_w)[:, None, None, :]
  beta = np.asarray(_Y @ beta_w)[:, None, None, :]
  np.testing.assert_allclose(out, _standardized(_X) * gamma + beta,
                             rtol=1e-4, atol=1e-4)


def test_compare_gan_gamma_starts_near_zero():
  _, out, _ = _run(normalizers.ConditionalBatchNorm(compare_gan_gamma=True),
                   y=_Y)
  # γ = W_γ y with W ~ N(0, 0.02²): the features start scaled down ~50x.
  assert float(jnp.std(out)) < 0.1


def test_conditioning_inputs_are_required():
  with pytest.raises(ValueError, match="conditioning vector"):
    _run(normalizers.ConditionalBatchNorm())
  with pytest.raises(ValueError, match="latent z"):
    _run(normalizers.SelfModulatedBatchNorm())


def test_self_modulated_batch_norm_shapes_and_start():
  variables, out, _ = _run(normalizers.SelfModulatedBatchNorm(), z=_Z)
  params = variables["params"]
  assert params["hidden"]["kernel"].shape == (5, 32)
  assert params["gamma"]["kernel"].shape == (32, 3)
  np.testing.assert_array_equal(params["gamma"]["bias"], np.ones(3))
  # γ ≈ 1, β ≈ 0 at the start: close to plain standardization.
  np.testing.assert_allclose(out, _standardized(_X), atol=0.1)


def test_moving_averages_and_inference():
  module = normalizers.BatchNorm(momentum=0.5)
  variables, _, updated = _run(module)
  stats = updated["batch_stats"]["Standardize_0"]["moments"]
  x = np.asarray(_X, np.float64)
  np.testing.assert_allclose(stats["mean"], 0.5 * x.mean((0, 1, 2)),
                             rtol=1e-5)
  np.testing.assert_allclose(stats["var"], 0.5 + 0.5 * x.var((0, 1, 2)),
                             rtol=1e-5)
  # Inference normalizes with the moving averages.
  out = module.apply({**variables, **updated}, _X, train=False)
  expected = (x - stats["mean"]) / np.sqrt(np.asarray(stats["var"]) + 1e-5)
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_group_statistics_are_those_of_each_group():
  module = normalizers.StandardizeNorm(group_size=4)
  _, out, updated = _run(module)
  groups = np.asarray(_X).reshape(2, 4, 4, 4, 3)
  expected = np.concatenate([_standardized(g) for g in groups])
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
  # The moving averages take the mean of the groups' statistics.
  stats = updated["batch_stats"]["Standardize_0"]["moments"]
  np.testing.assert_allclose(
      stats["mean"], 0.1 * groups.mean((1, 2, 3)).mean(0), rtol=1e-5)
  np.testing.assert_allclose(
      stats["var"], 0.9 + 0.1 * groups.var((1, 2, 3)).mean(0), rtol=1e-5)


def test_bfloat16_activations_get_float32_statistics():
  module = normalizers.StandardizeNorm()
  x = _X.astype(jnp.bfloat16)
  _, out, updated = _run(module, x=x)
  assert out.dtype == jnp.bfloat16
  stats = updated["batch_stats"]["Standardize_0"]["moments"]
  assert stats["mean"].dtype == jnp.float32
  np.testing.assert_allclose(np.asarray(out, np.float32),
                             _standardized(x.astype(jnp.float32)),
                             rtol=2e-2, atol=2e-2)


def test_group_size_must_divide_the_batch():
  module = normalizers.StandardizeNorm(group_size=3)
  with pytest.raises(ValueError, match="group_size 3 does not divide"):
    module.init(jax.random.key(0), _X, train=True)


def test_layer_norm_and_pixel_norm():
  _, out, _ = _run(normalizers.LayerNorm())
  x = np.asarray(_X, np.float64)
  mean = x.mean((1, 2, 3), keepdims=True)
  std = np.sqrt(x.var((1, 2, 3), keepdims=True) + 1e-12)
  np.testing.assert_allclose(out, (x - mean) / std, rtol=1e-4, atol=1e-5)
  # TF's ε (1e-12), not flax's 1e-6: visible on nearly constant features.
  flat = _X[:, :1, :1, :1] * 1e-4
  _, out, _ = _run(normalizers.LayerNorm(), x=flat + jnp.array([0.0, 1e-4]))
  x = np.asarray(flat + jnp.array([0.0, 1e-4]), np.float64)
  expected = (x - x.mean((1, 2, 3), keepdims=True)) / np.sqrt(
      x.var((1, 2, 3), keepdims=True) + 1e-12)
  np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-3)
  _, out, _ = _run(normalizers.PixelNorm())
  np.testing.assert_allclose(jnp.mean(jnp.square(out), -1), 1.0, rtol=1e-4)


class _Wrapped(nn.Module):
  weight_norm: type[nn.Module] | None
  features: int = 7

  @nn.compact
  def __call__(self, x, *, train):
    return normalizers.wrap(
        self.weight_norm,
        nn.Conv(self.features, (3, 3), kernel_init=nn.initializers.he_normal()),
        x, train=train)


def test_spectral_norm_converges_to_the_largest_singular_value():
  module = _Wrapped(normalizers.SpectralNorm)
  variables = module.init(jax.random.key(0), _X, train=True)
  kernel = np.asarray(variables["params"]["Conv_0"]["kernel"])
  sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]),
                        compute_uv=False)[0]
  apply = jax.jit(lambda v: module.apply(v, _X, train=True,
                                         mutable=["spectral_norm"]))
  for _ in range(50):  # One power iteration per training call.
    out, updated = apply(variables)
    variables = {**variables, **updated}
  # The stored u (left space, Compare GAN's default) is then the top left
  # singular vector, and ‖u·W‖ the estimate of σ.
  (u,) = jax.tree.leaves(variables["spectral_norm"])
  estimate = np.linalg.norm(
      np.asarray(u) @ kernel.reshape(-1, kernel.shape[-1]))
  np.testing.assert_allclose(estimate, sigma, rtol=1e-3)
  # The layer uses W / σ: its output is the plain layer's divided by σ.
  plain = _Wrapped(None).apply({"params": variables["params"]}, _X,
                               train=True)
  bias = variables["params"]["Conv_0"]["bias"]
  np.testing.assert_allclose(out - bias, (plain - bias) / sigma, rtol=1e-3,
                             atol=1e-4)


@pytest.mark.parametrize("singular_value", ["left", "right", "auto"])
def test_spectral_norm_iterates_as_compare_gan(singular_value):
  """One training call: Compare GAN's power-iteration step from the stored
  u (in the kernel's input space for "left", its output space for "right";
  "auto": the smaller, here the output's 7 < 27), and W / σ."""
  module = _Wrapped(functools.partial(normalizers.SpectralNorm,
                                      singular_value=singular_value))
  variables = module.init(jax.random.key(0), _X, train=False)
  kernel = np.asarray(variables["params"]["Conv_0"]["kernel"], np.float64)
  w = kernel.reshape(-1, 7)
  (u0,) = [np.asarray(v, np.float64) for k, v in
           jax.tree_util.tree_leaves_with_path(variables["spectral_norm"])
           if jax.tree_util.keystr(k).endswith("u']")]
  unit = lambda a: a / np.linalg.norm(a)
  if singular_value == "left":
    assert u0.shape == (1, 27)
    v = unit(w.T @ u0[0])
    u = unit(w @ v)
    sigma = u @ w @ v
  else:
    assert u0.shape == (1, 7)
    v = unit(w @ u0[0])
    u = unit(w.T @ v)
    sigma = v @ w @ u
  out, updated = module.apply(variables, _X, train=True,
                              mutable=["spectral_norm"])
  (u1,) = [v for k, v in jax.tree_util.tree_leaves_with_path(
      updated["spectral_norm"]) if jax.tree_util.keystr(k).endswith("u']")]
  np.testing.assert_allclose(u1[0], u, rtol=1e-4, atol=1e-6)
  plain = _Wrapped(None).apply({"params": variables["params"]}, _X,
                               train=True)
  bias = variables["params"]["Conv_0"]["bias"]
  np.testing.assert_allclose(out - bias, (plain - bias) / sigma, rtol=1e-4,
                             atol=1e-5)


def test_spectral_norm_inference_leaves_u_alone():
  module = _Wrapped(normalizers.SpectralNorm)
  variables = module.init(jax.random.key(0), _X, train=True)
  _, updated = module.apply(variables, _X, train=False,
                            mutable=["spectral_norm"])
  jax.tree.map(np.testing.assert_array_equal, updated["spectral_norm"],
               variables["spectral_norm"])


def test_weight_norm_starts_with_unit_norm_filters():
  variables, out, _ = _run(_Wrapped(normalizers.WeightNorm))
  kernel = np.asarray(variables["params"]["Conv_0"]["kernel"])
  np.testing.assert_allclose(np.linalg.norm(kernel.reshape(-1, 7), axis=0),
                             1.0, rtol=1e-5)
  (scale,) = jax.tree.leaves(variables["params"]["WeightNorm_0"])
  np.testing.assert_array_equal(scale, np.ones(7))
  plain = _Wrapped(None).apply(
      {"params": {"Conv_0": variables["params"]["Conv_0"]}}, _X, train=True)
  np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-5)


def test_equalized_lr_stores_unit_variance_weights():
  module = _Wrapped(normalizers.EqualizedLR, features=256)
  variables, out, _ = _run(module)
  kernel = variables["params"]["Conv_0"]["kernel"]
  # He-normal init divided by c = √2 / √fan_in: N(0, 1).
  assert abs(float(jnp.std(kernel)) - 1.0) < 0.05
  fan_in = 3 * 3 * 3
  plain = _Wrapped(None, features=256).apply(
      {"params": {"Conv_0": {
          "kernel": kernel * np.sqrt(2.0 / fan_in),
          "bias": variables["params"]["Conv_0"]["bias"]}}}, _X, train=True)
  np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-5)


def test_standing_statistics_average_the_batch_statistics():
  module = normalizers.BatchNorm(momentum=0.99)
  variables = module.init(jax.random.key(0), _X, train=True)
  params = variables["params"]
  collections = {"batch_stats": variables["batch_stats"]}
  batches = [(_X * (i + 1) + i,) for i in range(3)]
  standing = normalizers.standing_statistics(module, params, collections,
                                             batches)
  stats = standing["batch_stats"]["Standardize_0"]["moments"]
  x = [np.asarray(b[0], np.float64) for b in batches]
  np.testing.assert_allclose(
      stats["mean"], np.mean([b.mean((0, 1, 2)) for b in x], 0), rtol=1e-5)
  np.testing.assert_allclose(
      stats["var"], np.mean([b.var((0, 1, 2)) for b in x], 0), rtol=1e-5)
  assert "standing_stats" not in standing


def test_gin_bindings_reach_normalizers_built_by_default(clean_gin):
  # Models name their default normalizer classes directly (not through
  # "@normalizers.…"), so the bindings must apply on every construction.
  gin.parse_config("normalizers.batch_norm.momentum = 0.5\n"
                   "normalizers.spectral_norm.power_iterations = 3")
  assert normalizers.BatchNorm().momentum == 0.5
  assert normalizers.SpectralNorm(layer=nn.Dense(2)).power_iterations == 3
