"""Tests of ganjax.core.state: the hyperparameters the step reads from the
state."""

import dataclasses

import chex
import gin
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ganjax.core import penalties
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.run import registry  # pylint: disable=unused-import
from tests.core import steps_test


def _gin_optimizer(*bindings):
  """G's optimizer as gin's `optax.*` builds it."""
  gin.clear_config()
  try:
    gin.parse_config(["GAN.g_optimizer = @generator/optax.adam()", *bindings])
    return gin.query_parameter("GAN.g_optimizer").scoped_configurable_fn()
  finally:
    gin.clear_config()


def _init(gan):
  return jax.jit(lambda: state_lib.create_state(gan, jax.random.key(0), (2,),
                                                steps_test._BATCH))()


def test_gins_optimizers_keep_their_numbers_in_the_state():
  gan = dataclasses.replace(
      steps_test._make_gan(), penalty_weight=2.5,
      g_optimizer=_gin_optimizer("generator/optax.adam.learning_rate = 3e-4",
                                 "generator/optax.adam.b1 = 0.5"),
      d_optimizer=optax.adam(1e-3))  # Not from gin: its numbers are code.
  values = state_lib.hyperparams(gan)
  np.testing.assert_allclose(values["g_optimizer"]["learning_rate"], 3e-4)
  np.testing.assert_allclose(values["g_optimizer"]["b1"], 0.5)
  assert values["g_optimizer"]["learning_rate"].dtype == jnp.float32
  assert values["d_optimizer"] == {}
  np.testing.assert_allclose(values["penalty_weight"], 2.5)
  state = _init(gan)
  chex.assert_trees_all_equal(state.hyperparams, values)


def test_a_scheduled_learning_rate_is_not_a_state_value():
  optimizer = _gin_optimizer(
      "generator/optax.adam.learning_rate = @optax.linear_schedule()",
      "optax.linear_schedule.init_value = 1e-3",
      "optax.linear_schedule.end_value = 0.0",
      "optax.linear_schedule.transition_steps = 10")
  values = state_lib.hyperparams(dataclasses.replace(
      steps_test._make_gan(), g_optimizer=optimizer))
  assert "learning_rate" not in values["g_optimizer"]
  assert "b1" in values["g_optimizer"]


def test_the_step_uses_the_states_learning_rate_and_penalty_weight():
  gan = dataclasses.replace(
      steps_test._make_gan(),
      g_optimizer=_gin_optimizer("generator/optax.adam.learning_rate = 1e-2"),
      d_optimizer=_gin_optimizer("generator/optax.adam.learning_rate = 1e-2"))
  state = _init(gan)
  values = state_lib.hyperparams(gan)
  frozen = state.with_hyperparams({
      **values, "g_optimizer": {**values["g_optimizer"],
                                "learning_rate": jnp.float32(0.0)}})
  batch, rng = steps_test._batch(0, gan), jax.random.key(1)
  step = jax.jit(lambda s: steps.train_step(gan, s, batch, rng))
  moved, _ = step(state)
  still, _ = step(frozen)
  chex.assert_trees_all_equal(still.g_params, state.g_params)
  assert not np.allclose(moved.g_params["Dense_0"]["kernel"],
                         state.g_params["Dense_0"]["kernel"])
  # λ = 0 in the state: D's update is that without a penalty.
  unpenalized = state.with_hyperparams({**values,
                                        "penalty_weight": jnp.float32(0.0)})
  none = dataclasses.replace(gan, penalty=penalties.none)
  chex.assert_trees_all_close(
      step(unpenalized)[0].d_params,
      jax.jit(steps.train_step, static_argnums=0)(none, state, batch,
                                                  rng)[0].d_params, rtol=1e-5,
      atol=1e-7)
