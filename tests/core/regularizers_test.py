"""Tests of ganjax.core.regularizers: bCR, zCR and LeCam values and
gradients against formulas written out here, on linear networks."""

import jax
import jax.numpy as jnp
import numpy as np

from ganjax.core import regularizers
from ganjax.core import terms
from tests.core import term_outputs

_N = 4


def _linear_d(w):
  return lambda x, y=None: x.reshape(x.shape[0], -1) @ w


def test_bcr_value_and_gradient():
  term = regularizers.BCR(weight_real=2.0, weight_fake=3.0)
  real = jax.random.normal(jax.random.key(0), (_N, 8, 8, 1))
  fake = jax.random.normal(jax.random.key(1), (_N, 8, 8, 1))
  w = jax.random.normal(jax.random.key(2), (64,))

  def loss(w):
    d = _linear_d(w)
    return term.d_loss(term_outputs.outputs(
        real=real, fake=fake, d_real=d(real), d_fake=d(fake),
        discriminator=d))[0]

  probe = term_outputs.outputs()
  real_rng, fake_rng = jax.random.split(terms.term_key(probe, term))
  dx_real = np.asarray(real - regularizers.consistency_transform(
      real, real_rng)).reshape(_N, -1)
  dx_fake = np.asarray(fake - regularizers.consistency_transform(
      fake, fake_rng)).reshape(_N, -1)
  w_np = np.asarray(w)
  want = (2.0 * np.mean((dx_real @ w_np) ** 2) +
          3.0 * np.mean((dx_fake @ w_np) ** 2))
  want_grad = (2.0 * 2 / _N * (dx_real @ w_np) @ dx_real +
               3.0 * 2 / _N * (dx_fake @ w_np) @ dx_fake)
  np.testing.assert_allclose(loss(w), want, rtol=1e-5)
  np.testing.assert_allclose(jax.grad(loss)(w), want_grad, rtol=1e-4,
                             atol=1e-5)
  assert term.g_loss(probe)[0] == 0


def test_bcr_transform_flips_and_moves():
  x = jax.random.normal(jax.random.key(3), (64, 16, 16, 1)) + 10
  moved = np.asarray(regularizers.consistency_transform(x, jax.random.key(4)))
  zero_rows = (moved == 0).all(axis=(2, 3)).sum(1)
  zero_cols = (moved == 0).all(axis=(1, 3)).sum(1)
  assert zero_rows.max() == 2 and zero_cols.max() == 2  # round(16 / 8).
  assert (zero_rows + zero_cols == 0).any()


def test_zcr_values_and_gradients():
  term = regularizers.ZCR(weight_d=5.0, weight_g=0.5, sigma=0.1)
  z = jax.random.normal(jax.random.key(0), (_N, 3))
  a = jax.random.normal(jax.random.key(1), (3, 6))
  w = jax.random.normal(jax.random.key(2), (6,))
  eps = np.asarray(jax.random.normal(
      terms.term_key(term_outputs.outputs(), term), z.shape))
  a_np, w_np = np.asarray(a), np.asarray(w)
  delta = 0.1 * eps @ a_np  # G(z') − G(z) for G(z) = z A.

  def d_loss(w):
    d = _linear_d(w)
    return term.d_loss(term_outputs.outputs(
        z=z, fake=z @ a, d_fake=d(z @ a), discriminator=d,
        generator=lambda z, y: z @ a))[0]

  def g_loss(a):
    return term.g_loss(term_outputs.outputs(
        z=z, fake=z @ a, generator=lambda z, y: z @ a))[0]

  np.testing.assert_allclose(d_loss(w), 5.0 * np.mean((delta @ w_np) ** 2),
                             rtol=1e-4)
  np.testing.assert_allclose(jax.grad(d_loss)(w),
                             5.0 * 2 / _N * (delta @ w_np) @ delta,
                             rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(g_loss(a), -0.5 * np.mean(delta ** 2),
                             rtol=1e-4)
  # d/dA of −λ mean((σ ε A)²) = −λ · 2σ² εᵀ(ε A) / (N · 6).
  np.testing.assert_allclose(
      jax.grad(g_loss)(a), -0.5 * 2 * 0.01 * eps.T @ (eps @ a_np) / (_N * 6),
      rtol=1e-4, atol=1e-7)


def test_lecam_anchors_are_tf_s_zero_debiased_averages():
  term = regularizers.LeCam(weight=1.0, decay=0.9)
  state = term.init_state()
  biased, rng = np.zeros(2), np.random.default_rng(0)
  for step in range(1, 6):
    d_real, d_fake = rng.normal(size=_N), rng.normal(size=_N)
    out = term_outputs.outputs(d_real=jnp.asarray(d_real, jnp.float32),
                               d_fake=jnp.asarray(d_fake, jnp.float32),
                               term_states={"LeCam": state})
    # TF's assign_moving_average(zero_debias=True), updated before use.
    biased = biased - (biased - [d_real.mean(), d_fake.mean()]) * 0.1
    alpha_real, alpha_fake = biased / (1 - 0.9 ** step)
    want = (np.mean(np.maximum(d_real - alpha_fake, 0) ** 2) +
            np.mean(np.maximum(alpha_real - d_fake, 0) ** 2))
    loss, metrics = term.d_loss(out)
    np.testing.assert_allclose(loss, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        [metrics["lecam_alpha_real"], metrics["lecam_alpha_fake"]],
        [alpha_real, alpha_fake], rtol=1e-5)
    state = term.d_update(state, out)


def test_lecam_gradient_treats_the_anchors_as_constants():
  term = regularizers.LeCam(weight=2.0, decay=0.99)
  state = {"real": jnp.float32(0.5 * 0.01), "fake": jnp.float32(-0.5 * 0.01),
           "count": jnp.int32(1)}
  d_real = jnp.array([1.0, -1.0, 0.2, 0.0])
  d_fake = jnp.array([0.3, -2.0, 1.0, 0.1])

  def loss(d_real, d_fake):
    return term.d_loss(term_outputs.outputs(
        d_real=d_real, d_fake=d_fake, term_states={"LeCam": state}))[0]

  biased = np.array([0.5 * 0.01, -0.5 * 0.01]) * 0.99 + 0.01 * np.array(
      [np.mean(d_real), np.mean(d_fake)])
  alpha_real, alpha_fake = biased / (1 - 0.99 ** 2)
  g_real, g_fake = jax.grad(loss, argnums=(0, 1))(d_real, d_fake)
  np.testing.assert_allclose(
      g_real, 2.0 * 2 / _N * np.maximum(np.asarray(d_real) - alpha_fake, 0),
      rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(
      g_fake, -2.0 * 2 / _N * np.maximum(alpha_real - np.asarray(d_fake), 0),
      rtol=1e-5, atol=1e-7)
