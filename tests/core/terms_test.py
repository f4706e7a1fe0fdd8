"""Tests of ganjax.core.terms: the objectives are the sums of their terms,
and a term plugs in without the step knowing it."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ganjax.core import gan as gan_lib
from ganjax.core import losses
from ganjax.core import penalties
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.core import terms
from ganjax.data import dataset
from ganjax.models import mlp
from tests.core import term_outputs

_BATCH = 8


@dataclasses.dataclass(frozen=True)
class _LogitsSquared(terms.Term):
  """A user's term: D pays weight · mean(D(real)²), G nothing; its D sows
  nothing and it adds no examples."""
  weight: float = 0.5

  def d_loss(self, out):
    value = jnp.mean(out.d_real ** 2)
    return self.weight * value, {"d_logits_squared": value}


def _gan(**kwargs):
  spec = dataset.DataSpec((2,), None, False)
  return gan_lib.make_gan(**{
      "data_spec": spec,
      "generator": functools.partial(mlp.Generator, hidden_dims=(8,)),
      "discriminator": functools.partial(mlp.Discriminator, hidden_dims=(8,)),
      "g_optimizer": optax.sgd(1e-3), "d_optimizer": optax.sgd(1e-3),
      "z_dim": 4, "ema_decay": None, "loss": losses.hinge,
      "penalty": penalties.r1, "penalty_weight": 0.25, **kwargs})


def _steps(gan):
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (2,), _BATCH))()
  real = jax.random.normal(jax.random.key(1), (_BATCH, 2))
  d = jax.jit(functools.partial(steps.d_step, gan))(state, real, None,
                                                    jax.random.key(2))[1]
  g = jax.jit(functools.partial(steps.g_step, gan))(state, real, None,
                                                    jax.random.key(3))[1]
  return d, g


def test_a_new_term_adds_to_d_s_objective_only():
  d, g = _steps(_gan(terms=[_LogitsSquared()]))
  np.testing.assert_allclose(
      d["d_total"], d["d_loss"] + 0.25 * d["penalty"] +
      0.5 * d["d_logits_squared"], rtol=1e-5)
  # A mean of squares is at least the square of the mean.
  assert d["d_logits_squared"] >= d["d_real"] ** 2 - 1e-6
  np.testing.assert_allclose(g["g_total"], g["g_loss"], rtol=1e-6)


def test_orthogonal_term_adds_beta_times_the_penalty_to_g():
  gan = _gan(terms=[terms.Orthogonal(weight=0.01)])
  d, g = _steps(gan)
  state = state_lib.create_state(gan, jax.random.key(0), (2,), _BATCH)
  np.testing.assert_allclose(g["g_orthogonal"],
                             penalties.orthogonal(state.g_params), rtol=1e-5)
  np.testing.assert_allclose(g["g_total"],
                             g["g_loss"] + 0.01 * g["g_orthogonal"],
                             rtol=1e-5)
  assert "g_orthogonal" not in d


def test_adversarial_weight_zero_keeps_only_the_other_terms():
  d, g = _steps(_gan(terms=[_LogitsSquared()], adversarial_weight=0.0))
  assert d["d_loss"] != 0 and d["penalty"] > 0  # Computed, not added.
  np.testing.assert_allclose(d["d_total"], 0.5 * d["d_logits_squared"],
                             rtol=1e-6)
  assert float(g["g_total"]) == 0.0


def test_total_sums_the_terms_in_order():
  class Constant(terms.Term):
    def d_loss(self, out):
      del out
      return jnp.float32(2.0), {"two": jnp.float32(2.0)}

  summed, metrics = terms.total((Constant(), terms.Term(), Constant()),
                                lambda t: t.d_loss(None))
  assert float(summed) == 4.0 and metrics == {"two": 2.0}


def test_labeled_class_loss_ignores_withheld_labels():
  logits = jnp.asarray(np.random.default_rng(0).normal(size=(6, 4)),
                       jnp.float32)
  labels = jnp.array([0, -1, 2, -1, 3, 1])
  loss, accuracy = terms.labeled_class_loss(logits, labels)
  labeled = np.asarray(labels) >= 0
  want = optax.softmax_cross_entropy_with_integer_labels(
      logits[labeled], labels[labeled]).mean()
  np.testing.assert_allclose(loss, want, rtol=1e-6)
  np.testing.assert_allclose(accuracy, np.mean(
      np.argmax(logits[labeled], -1) == np.asarray(labels)[labeled]))
  grads = jax.grad(lambda v: terms.labeled_class_loss(v, labels)[0])(logits)
  np.testing.assert_array_equal(grads[~labeled], 0.0)
  assert np.all(np.abs(grads[labeled]) > 0)
  none, _ = terms.labeled_class_loss(logits, jnp.full((6,), -1))
  assert float(none) == 0.0


def _r1_outputs(scale, d_updates):
  """Outputs whose D is scale · Σx² (R1 = ½ mean ‖2 · scale · x‖²) on
  fixed reals, and the non-saturating loss at 0 logits (2 log 2)."""
  real = jnp.arange(8.0).reshape(4, 2) / 8
  return term_outputs.outputs(
      real=real, discriminator=lambda x, y=None: scale * jnp.sum(x * x, -1),
      penalty_weight=jnp.float32(0.5), d_updates=d_updates)


def _r1(scale):
  real = np.arange(8.0).reshape(4, 2) / 8
  return 0.5 * np.mean(np.sum((2 * scale * real) ** 2, -1))


def test_lazy_r1_counts_k_times_every_k_th_d_update_in_one_program():
  lazy = terms.Adversarial(penalty=penalties.r1, penalty_every=4)
  eager = terms.Adversarial(penalty=penalties.r1)
  nsgan = 2 * np.log(2)
  both = lambda term, out: term.d_loss(out)[0] + term.d_regularizer(out)[0]
  loss = jax.jit(lambda scale, n: both(lazy, _r1_outputs(scale, n)))
  np.testing.assert_allclose(loss(1.5, 8), nsgan + 0.5 * 4 * _r1(1.5),
                             rtol=1e-6)
  np.testing.assert_allclose(loss(1.5, 9), nsgan, rtol=1e-6)
  assert loss._cache_size() == 1  # pylint: disable=protected-access
  # The penalty is D's regularizer, due in every 4th D update only.
  np.testing.assert_allclose(lazy.d_loss(_r1_outputs(1.5, 8))[0], nsgan,
                             rtol=1e-6)
  assert [bool(lazy.reg_due("d", _r1_outputs(1.5, n))) for n in (8, 9)] == [
      True, False]
  assert not lazy.reg_due("g", _r1_outputs(1.5, 8))
  assert not terms.Adversarial().reg_due("d", _r1_outputs(1.5, 8))
  # Lazy with k = 1 is R1.
  for term in (eager, terms.Adversarial(penalty=penalties.r1,
                                        penalty_every=1)):
    np.testing.assert_allclose(both(term, _r1_outputs(1.5, 9)),
                               nsgan + 0.5 * _r1(1.5), rtol=1e-6)
  # The gradient of the penalty, k times, on due updates only: d/ds of
  # λ k ½ mean ‖2 s x‖² = λ k · 4 s mean ‖x‖².
  grad = jax.grad(loss)
  mean_sq = np.mean(np.sum((np.arange(8.0).reshape(4, 2) / 8) ** 2, -1))
  np.testing.assert_allclose(grad(1.5, 8), 0.5 * 4 * 4 * 1.5 * mean_sq,
                             rtol=1e-5)
  assert grad(1.5, 9) == 0


def test_penalty_every_is_checked():
  with pytest.raises(ValueError, match="penalty_every must be >= 1"):
    _gan(penalty_every=0)


def test_ema_half_life_and_rampup_are_checked():
  with pytest.raises(ValueError, match="ema_half_life_images must be > 0"):
    _gan(ema_half_life_images=0.0)
  with pytest.raises(ValueError, match="ema_rampup needs"):
    _gan(ema_rampup=0.05)
  assert _gan(ema_half_life_images=10.0, ema_rampup=0.05).keeps_ema
