"""Tests of ganjax.core.penalties against closed forms and finite
differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import penalties
from ganjax.models import mlp

_DIM = 5
_BATCH = 8


def _linear_setup(seed=0):
  rng = np.random.default_rng(seed)
  w = rng.normal(size=(_DIM, 1)).astype(np.float32)
  b = np.float32(0.3)
  real = rng.normal(size=(_BATCH, _DIM)).astype(np.float32)
  fake = rng.normal(size=(_BATCH, _DIM)).astype(np.float32)
  discriminator = lambda x: x @ w + b
  return w, discriminator, real, fake


def _call(penalty, discriminator, real, fake, d_params=None, seed=0):
  return penalty(discriminator=discriminator, d_params=d_params, real=real,
                 fake=fake, rng=jax.random.key(seed))


@pytest.mark.parametrize("penalty", [penalties.wgan_gp, penalties.dragan])
@pytest.mark.parametrize("seed", [0, 1])
def test_slope_penalties_on_linear_d(penalty, seed):
  # ∇ₓ(w·x + b) = w at every point, wherever the penalty evaluates D.
  w, discriminator, real, fake = _linear_setup(seed)
  want = (np.sqrt(1e-4 + np.sum(w.astype(np.float64)**2)) - 1.0)**2
  got = _call(penalty, discriminator, real, fake, seed=seed)
  np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("epsilon", [0.0, 1e-4, 0.5])
def test_wgan_gp_epsilon_on_linear_d(epsilon):
  """√(ε + ‖∇D‖²): Compare GAN's ε = 1e-4, the progressive GAN's 0."""
  w, discriminator, real, fake = _linear_setup(5)
  want = (np.sqrt(epsilon + np.sum(w.astype(np.float64)**2)) - 1.0)**2
  got = penalties.wgan_gp(discriminator=discriminator, d_params=None,
                          real=real, fake=fake, rng=jax.random.key(0),
                          epsilon=epsilon)
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_dragan_with_clip_range_on_linear_d():
  w, discriminator, real, fake = _linear_setup(2)
  want = (np.sqrt(1e-4 + np.sum(w.astype(np.float64)**2)) - 1.0)**2
  got = penalties.dragan(discriminator=discriminator, d_params=None,
                         real=real, fake=fake, rng=jax.random.key(0),
                         clip_range=(-1.0, 1.0))
  np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("penalty", [penalties.r1, penalties.r2])
def test_r1_r2_on_linear_d(penalty):
  w, discriminator, real, fake = _linear_setup(3)
  want = 0.5 * np.sum(w.astype(np.float64)**2)
  np.testing.assert_allclose(_call(penalty, discriminator, real, fake), want,
                             rtol=1e-5)


def test_none_is_zero():
  _, discriminator, real, fake = _linear_setup(4)
  got = _call(penalties.none, discriminator, real, fake)
  assert np.shape(got) == ()
  assert float(got) == 0.0


def test_r1_on_image_batch_sums_over_all_non_batch_axes():
  # D(x) = <W, x> over [H, W, C]: ∇ₓ D = W, so R1 = ½‖W‖² with W summed over
  # every non-batch axis.
  rng = np.random.default_rng(5)
  kernel = rng.normal(size=(3, 4, 2)).astype(np.float32)
  real = rng.normal(size=(6, 3, 4, 2)).astype(np.float32)
  discriminator = lambda x: jnp.sum(x * kernel, axis=(1, 2, 3))[:, None]
  got = _call(penalties.r1, discriminator, real, real)
  np.testing.assert_allclose(got, 0.5 * np.sum(kernel.astype(np.float64)**2),
                             rtol=1e-5)


def test_r1_on_nonlinear_d_matches_finite_differences():
  rng = np.random.default_rng(6)
  w1 = rng.normal(size=(_DIM, 7))
  b1 = rng.normal(size=7)
  w2 = rng.normal(size=(7, 1))
  real = rng.normal(size=(_BATCH, _DIM))

  def d_numpy(x):
    return np.tanh(x @ w1 + b1) @ w2

  def d_jax(x):
    return jnp.tanh(x @ w1.astype(np.float32) +
                    b1.astype(np.float32)) @ w2.astype(np.float32)

  # Central differences in float64, one input coordinate at a time.
  eps = 1e-5
  grads = np.zeros_like(real)
  for j in range(_DIM):
    step = np.zeros(_DIM)
    step[j] = eps
    grads[:, j] = (d_numpy(real + step) - d_numpy(real - step))[:, 0] / (
        2 * eps)
  want = 0.5 * np.mean(np.sum(grads**2, axis=1))
  got = _call(penalties.r1, d_jax, real.astype(np.float32),
              real.astype(np.float32))
  np.testing.assert_allclose(got, want, rtol=1e-4)


def _perturbed_params(module, seed):
  variables = module.init(jax.random.key(seed), jnp.zeros((4, 2)),
                          train=False)
  leaves, treedef = jax.tree.flatten(variables["params"])
  rng = np.random.default_rng(seed)
  # Non-zero biases and scales, so that including them would show.
  leaves = [np.asarray(x) + rng.normal(size=x.shape).astype(np.float32)
            for x in leaves]
  return jax.tree.unflatten(treedef, leaves)


def _assert_l2_is_mean_half_squared_norm(d_params, kernels):
  """penalties.l2 equals the mean over `kernels` of ½‖W‖², by hand."""
  want = np.mean([0.5 * np.sum(np.asarray(k, np.float64)**2)
                  for k in kernels])
  got = penalties.l2(discriminator=None, d_params=d_params, real=None,
                     fake=None, rng=None)
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_l2_on_maxout_discriminator():
  d_params = _perturbed_params(
      mlp.Discriminator(hidden_dims=(8, 16), maxout_pieces=3), 0)
  hidden = d_params["_HiddenLayers_0"]
  kernels = [hidden["Maxout_0"]["Dense_0"]["kernel"],
             hidden["Maxout_1"]["Dense_0"]["kernel"],
             d_params["Dense_0"]["kernel"]]
  assert [k.shape for k in kernels] == [(2, 24), (8, 48), (16, 1)]
  _assert_l2_is_mean_half_squared_norm(d_params, kernels)


def test_l2_excludes_batch_norm_parameters():
  d_params = _perturbed_params(
      mlp.Discriminator(hidden_dims=(8, 16), hidden_activation="relu",
                        batch_norm=True), 1)
  hidden = d_params["_HiddenLayers_0"]
  kernels = [hidden["Dense_0"]["kernel"], hidden["Dense_1"]["kernel"],
             d_params["Dense_0"]["kernel"]]
  _assert_l2_is_mean_half_squared_norm(d_params, kernels)


def test_l2_without_kernels_raises():
  with pytest.raises(ValueError, match="no `kernel`"):
    penalties.l2(discriminator=None,
                 d_params={"Dense_0": {"bias": jnp.ones(3)}}, real=None,
                 fake=None, rng=None)


def test_orthogonal_regularization():
  rng = np.random.default_rng(0)
  conv = rng.normal(size=(3, 3, 4, 5)).astype(np.float32)
  dense = rng.normal(size=(6, 2)).astype(np.float32)
  embed = rng.normal(size=(10, 3)).astype(np.float32)
  params = {"conv": {"kernel": conv, "bias": np.ones(5, np.float32)},
            "dense": {"kernel": dense}, "embed_y": {"kernel": embed}}
  expected = 0.0
  for w in (conv.reshape(-1, 5), dense):
    gram = w.astype(np.float64).T @ w
    expected += 0.5 * np.sum((gram - np.diag(np.diag(gram)))**2)
  np.testing.assert_allclose(penalties.orthogonal(params), expected,
                             rtol=1e-5)
  # The gradient is BigGAN-PyTorch's utils.ortho: 2 (WWᵀ ⊙ (1 − I)) W for W
  # of [out, fan_in] (torch's view of a weight), none for the shared
  # embedding (its blacklist) or biases.
  grads = jax.grad(penalties.orthogonal)(params)
  for name, kernel in (("conv", conv), ("dense", dense)):
    w = kernel.astype(np.float64).reshape(-1, kernel.shape[-1]).T
    gram = w @ w.T
    torch_grad = 2.0 * (gram * (1.0 - np.eye(len(gram)))) @ w
    np.testing.assert_allclose(
        grads[name]["kernel"].reshape(-1, kernel.shape[-1]).T, torch_grad,
        rtol=1e-4, atol=1e-4)
  assert not np.any(grads["embed_y"]["kernel"])
  assert not np.any(grads["conv"]["bias"])
  # Orthogonal filters of any norms are not penalized.
  q, _ = np.linalg.qr(rng.normal(size=(8, 3)))
  scaled = (q * np.array([1.0, 2.0, 3.0])).astype(np.float32)
  assert float(penalties.orthogonal({"kernel": scaled})) < 1e-8
