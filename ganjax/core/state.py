"""The train state: everything that changes during training, as one pytree."""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from ganjax.core import gan as gan_lib


class GANState(flax.struct.PyTreeNode):
  """Parameters, collections, optimizer states and EMA of a GAN.

  Attributes:
    step: number of G updates done (D has done `disc_iters` times as many).
    g_params, d_params: the networks' parameters.
    g_collections, d_collections: their other variables (batch statistics…).
    g_opt_state, d_opt_state: the optax states.
    ema_params: exponential moving average of g_params, or None.
    restores: roll-backs after divergence so far (`run/guard.py`); the loop
      folds it into the step's key.
    lr_scale: multiplies both optimizers' updates, i.e. the learning rates;
      lowered by roll-backs.
    penalty_weight: λ, `GAN.penalty_weight`, read from here by the step.
    terms: {term name: state} of the objective's terms that keep one
      (`terms.Term.init_state`: ADA's p, LeCam's anchors), so that a
      resumed run continues with them.
  """
  step: jax.Array
  g_params: Any
  d_params: Any
  g_collections: gan_lib.Collections
  d_collections: gan_lib.Collections
  g_opt_state: Any
  d_opt_state: Any
  ema_params: Any
  restores: jax.Array
  lr_scale: jax.Array
  penalty_weight: jax.Array
  terms: dict[str, Any]

  @property
  def hyperparams(self) -> dict[str, Any]:
    """The values that `hyperparams(gan)` gives, as this state holds them."""
    return {"g_optimizer": _injected(self.g_opt_state),
            "d_optimizer": _injected(self.d_opt_state),
            "penalty_weight": self.penalty_weight}

  def with_hyperparams(self, hyperparams: dict[str, Any]) -> "GANState":
    """This state with the values of `hyperparams(gan)` of another GAN."""
    return self.replace(
        g_opt_state=_with_injected(self.g_opt_state,
                                   hyperparams["g_optimizer"]),
        d_opt_state=_with_injected(self.d_opt_state,
                                   hyperparams["d_optimizer"]),
        penalty_weight=hyperparams["penalty_weight"])


def hyperparams(gan: gan_lib.GAN) -> dict[str, Any]:
  """The hyperparameters that the train step reads from the state, not from
  `gan`: the optimizers' numeric arguments (those of optimizers built by
  `optax.inject_hyperparams`, as gin's `optax.*` are) and λ.

  Runs whose GANs differ only in these values can be stacked and share one
  compiled step (`train.train(..., bindings=...)`).
  """
  return {"g_optimizer": _injected(gan.g_optimizer.init({})),
          "d_optimizer": _injected(gan.d_optimizer.init({})),
          "penalty_weight": jnp.float32(gan.penalty_weight)}


def _injected(opt_state: Any) -> dict[str, jax.Array]:
  """The constant injected hyperparameters of an optimizer's state: not the
  scheduled ones, which the update computes from the step; {} if the
  optimizer was not built by `optax.inject_hyperparams`."""
  scheduled = getattr(opt_state, "hyperparams_states", {})
  return {k: v for k, v in getattr(opt_state, "hyperparams", {}).items()
          if k not in scheduled}


def _with_injected(opt_state: Any, values: dict[str, jax.Array]) -> Any:
  if not values:
    return opt_state
  return opt_state._replace(hyperparams={**opt_state.hyperparams, **values})


def _split(variables: dict[str, Any]) -> tuple[Any, gan_lib.Collections]:
  collections = {k: v for k, v in variables.items() if k != "params"}
  return variables["params"], collections


def create_state(gan: gan_lib.GAN, rng: jax.Array,
                 example_shape: tuple[int, ...], batch_size: int) -> GANState:
  """Initializes the networks and optimizers for batches of `batch_size`."""
  g_rng, d_rng = jax.random.split(rng)
  y = () if not gan.conditional else (jnp.zeros((batch_size,
                                                 gan.num_classes)),)
  z = jnp.zeros((batch_size, gan.z_dim))
  g_params, g_collections = _split(
      gan.generator.init(g_rng, z, *y, train=False))
  x = jnp.zeros((batch_size, *example_shape))
  d_params, d_collections = _split(
      gan.discriminator.init(d_rng, x, *y, train=False))
  return GANState(
      step=jnp.zeros([], jnp.int32),
      g_params=g_params, d_params=d_params,
      g_collections=g_collections, d_collections=d_collections,
      g_opt_state=gan.g_optimizer.init(g_params),
      d_opt_state=gan.d_optimizer.init(d_params),
      # A copy: the state is donated to the step, and no buffer may appear twice.
      ema_params=(None if not gan.keeps_ema else
                  jax.tree.map(jnp.copy, g_params)),
      restores=jnp.zeros([], jnp.int32), lr_scale=jnp.ones([], jnp.float32),
      penalty_weight=jnp.float32(gan.penalty_weight),
      terms=initial_term_states(gan))


def initial_term_states(gan: gan_lib.GAN) -> dict[str, Any]:
  """{term name: its state at step 0} of the GAN's terms that keep one."""
  states = {term.name: term.init_state() for term in gan.terms}
  return {name: state for name, state in states.items()
          if state is not None}
