"""Tests of ganjax.core.augment_terms: D sees every image augmented, ADA's p
follows the overfitting heuristic, lives in the state and resumes exactly."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ganjax.core import augment_terms
from ganjax.core import gan as gan_lib
from ganjax.core import penalties
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.core import terms
from ganjax.data import dataset
from ganjax.models import mlp
from tests import workdirs
from tests.core import term_outputs


@dataclasses.dataclass(frozen=True)
class _Blank(terms.Term):
  """An augmentation that blanks every image."""

  def augment(self, x, rng, state):
    return jnp.zeros_like(x)


def _gan(term):
  return gan_lib.make_gan(
      data_spec=dataset.DataSpec((4, 4, 1), None, False),
      generator=functools.partial(mlp.Generator, hidden_dims=(8,)),
      discriminator=functools.partial(mlp.Discriminator, hidden_dims=(8,)),
      g_optimizer=optax.sgd(1e-3), d_optimizer=optax.sgd(1e-3), z_dim=4,
      ema_decay=None, penalty=penalties.r1, terms=[term])


def test_every_image_d_sees_is_augmented_in_both_updates():
  gan = _gan(_Blank())
  state = state_lib.create_state(gan, jax.random.key(0), (4, 4, 1), 8)
  real = jax.random.normal(jax.random.key(1), (8, 4, 4, 1))
  _, d = steps.d_step(gan, state, real, None, jax.random.key(2))
  _, g = steps.g_step(gan, state, real, None, jax.random.key(3))
  # D judged only blank images: one logit for reals and fakes alike, and
  # R1's gradient, taken through the augmentation, is 0.
  assert d["d_real"] == d["d_fake"] and d["penalty"] == 0
  blank = gan.call(gan.discriminator, state.d_params, state.d_collections,
                   jnp.zeros((1, 4, 4, 1)), train=True)[0]
  np.testing.assert_allclose(d["d_real"], blank[0], rtol=1e-6)
  np.testing.assert_allclose(g["g_grad_norm"], 0.0, atol=1e-7)


def _adapt(term, logit, updates, p=None):
  state = term.init_state()
  if p is not None:
    state = {**state, "p": jnp.float32(p)}
  history = []
  for _ in range(updates):
    state = term.d_update(state, term_outputs.outputs(
        d_real=jnp.full((64,), logit)))
    history.append(float(state["p"]))
  return history


def test_ada_p_rises_when_d_overfits_and_falls_when_it_does_not():
  term = augment_terms.ADA(interval=4, kimg=1.0)
  step = 4 * 64 / 1000  # Images per adjustment / (kimg · 1000).
  rising = _adapt(term, 3.0, 8)
  np.testing.assert_allclose(rising, [0, 0, 0, step, step, step, step,
                                      2 * step], rtol=1e-6)
  falling = _adapt(term, -3.0, 12, p=0.6)
  np.testing.assert_allclose(falling[3], 0.6 - step, rtol=1e-5)
  assert falling[-1] == 0.0  # Floored at 0.
  # r_t = 0.5 < 0.6: a D that is right on 3 of 4 reals still lowers p.
  mixed = augment_terms.ADA(interval=1, kimg=1.0).d_update(
      {"p": jnp.float32(0.5), "signs": jnp.float32(0),
       "images": jnp.float32(0), "updates": jnp.int32(0)},
      term_outputs.outputs(d_real=jnp.array([1.0, 1.0, 1.0, -1.0])))
  np.testing.assert_allclose(mixed["p"], 0.5 - 4 / 1000, rtol=1e-6)


def test_fixed_p_does_not_move():
  assert _adapt(augment_terms.ADA(target=None, initial_p=0.3), 3.0,
                8) == pytest.approx([0.3] * 8)


def test_bad_settings_are_refused():
  with pytest.raises(ValueError, match="pipeline 'bgcfx'"):
    augment_terms.ADA(pipeline="bgcfx")
  with pytest.raises(ValueError, match="interval >= 1"):
    augment_terms.ADA(interval=0)
  with pytest.raises(ValueError, match="'rotate' .*not known"):
    augment_terms.DiffAugment(policy="color,rotate")


_BINDINGS = [
    "datasets.digits.size = 8",
    "GAN.generator = @models.mlp.Generator",
    "GAN.discriminator = @models.mlp.Discriminator",
    "models.mlp.Generator.hidden_dims = (16,)",
    "models.mlp.Discriminator.hidden_dims = (16,)",
    "GAN.z_dim = 4",
    "GAN.ema_decay = None",
    "GAN.terms = [@terms.ADA()]",
    "terms.ADA.initial_p = 0.2",
    "terms.ADA.interval = 1",
    "terms.ADA.kimg = 0.2",
    "experiment.batch_size = 16",
    "train.log_every = 2",
    "train.sample_every = 0",
    "train.checkpoint_every = 3",
]


def _train(workdir, num_steps):
  return workdirs.train_in_process(
      workdir, ["base.gin", "datasets/digits.gin"], _BINDINGS, num_steps)


def test_ada_resumes_mid_adaptation_bit_for_bit(tmp_path):
  whole = _train(str(tmp_path / "whole"), 6)
  halves = str(tmp_path / "halves")
  first = _train(halves, 3)
  assert float(first.terms["ADA"]["p"]) != pytest.approx(0.2)  # It moved.
  resumed = _train(halves, 6)
  assert int(resumed.step) == 6
  assert jax.tree.structure(resumed) == jax.tree.structure(whole)
  jax.tree.map(np.testing.assert_array_equal, resumed, whole)
  assert float(whole.terms["ADA"]["p"]) != float(first.terms["ADA"]["p"])
