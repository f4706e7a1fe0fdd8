"""The D update, the G update and the train step: pure functions of the state.

`train_step(gan, state, batch, rng)` runs `gan.disc_iters` D updates, each on
its own slice of the batch and with fresh latents, then one G update on the
last slice. Randomness is `fold_in(rng, state.step)`: the key passed in is the
run's constant base key, so a resumed run draws the same numbers.
"""

import jax
import jax.numpy as jnp
import optax

from ganjax import gan as gan_lib
from ganjax import state as state_lib

Metrics = dict[str, jax.Array]


def _d_logits(gan: gan_lib.GAN, d_params, collections, real, fake):
  """D on concat(real, fake) in one call, as Compare GAN does (one BN batch)."""
  logits, collections = gan_lib.apply_model(
      gan.discriminator, d_params, collections,
      jnp.concatenate([real, fake]), train=True)
  d_real, d_fake = jnp.split(logits, 2)
  return d_real, d_fake, collections


def d_step(gan: gan_lib.GAN, state: state_lib.GANState, real: jax.Array,
           rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """One D update on `real` against fresh fakes."""
  z_rng, penalty_rng = jax.random.split(rng)
  fake, g_collections = gan_lib.apply_model(
      gan.generator, state.g_params, state.g_collections,
      gan.sample_z(z_rng, real.shape[0]), train=True)
  fake = jax.lax.stop_gradient(fake)

  def loss_fn(d_params):
    d_real, d_fake, d_collections = _d_logits(
        gan, d_params, state.d_collections, real, fake)
    loss = gan.loss(d_real, d_fake)
    penalty = gan.penalty(
        discriminator=lambda x: gan_lib.apply_model(
            gan.discriminator, d_params, state.d_collections, x,
            train=True)[0],
        d_params=d_params, real=real, fake=fake, rng=penalty_rng)
    metrics = {"d_loss": loss.d_loss, "d_loss_real": loss.d_loss_real,
               "d_loss_fake": loss.d_loss_fake, "penalty": penalty,
               "d_real": jnp.mean(d_real), "d_fake": jnp.mean(d_fake)}
    return loss.d_loss + gan.penalty_weight * penalty, (d_collections,
                                                        metrics)

  grads, (d_collections, metrics) = jax.grad(loss_fn, has_aux=True)(
      state.d_params)
  updates, d_opt_state = gan.d_optimizer.update(
      grads, state.d_opt_state, state.d_params)
  return state.replace(
      d_params=optax.apply_updates(state.d_params, updates),
      d_opt_state=d_opt_state, d_collections=d_collections,
      g_collections=g_collections), metrics


def ema_update(gan: gan_lib.GAN, ema_params, g_params, step: jax.Array):
  """EMA of G's weights; before `ema_start_step` it copies them (decay 0)."""
  if gan.ema_decay is None:
    return None
  decay = jnp.where(step >= gan.ema_start_step, gan.ema_decay, 0.0)
  return optax.incremental_update(g_params, ema_params, 1.0 - decay)


def g_step(gan: gan_lib.GAN, state: state_lib.GANState, real: jax.Array,
           rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """One G update; `real` feeds D's batch statistics and relativistic losses."""
  z = gan.sample_z(rng, real.shape[0])

  def loss_fn(g_params):
    fake, g_collections = gan_lib.apply_model(
        gan.generator, g_params, state.g_collections, z, train=True)
    d_real, d_fake, d_collections = _d_logits(
        gan, state.d_params, state.d_collections, real, fake)
    return gan.loss(d_real, d_fake).g_loss, (g_collections, d_collections)

  (g_loss, (g_collections, d_collections)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.g_params)
  updates, g_opt_state = gan.g_optimizer.update(
      grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  return state.replace(
      step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state,
      g_collections=g_collections, d_collections=d_collections,
      ema_params=ema_update(gan, state.ema_params, g_params, state.step),
  ), {"g_loss": g_loss}


def train_step(gan: gan_lib.GAN, state: state_lib.GANState,
               batch: dict[str, jax.Array],
               rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """`disc_iters` D updates then one G update.

  Args:
    gan: the GAN.
    state: the train state.
    batch: {"x": [disc_iters * batch_size, ...]}; D update i gets slice i.
    rng: the run's base key.

  Returns:
    The new state and the step's metrics (D's averaged over its updates).
  """
  d_rng, g_rng = jax.random.split(jax.random.fold_in(rng, state.step))
  x = batch["x"]
  if x.shape[0] % gan.disc_iters:
    raise ValueError(f"A batch of {x.shape[0]} examples cannot be split into "
                     f"disc_iters={gan.disc_iters} equal slices.")
  slices = x.reshape(gan.disc_iters, -1, *x.shape[1:])

  # Unrolled as in Compare GAN: on XLA:CPU a lax.scan over the D updates made
  # the whole step about 5x slower (measured on the quickstart DCGAN).
  d_metrics = []
  for i in range(gan.disc_iters):
    state, metrics = d_step(gan, state, slices[i],
                            jax.random.fold_in(d_rng, i))
    d_metrics.append(metrics)
  state, g_metrics = g_step(gan, state, slices[-1], g_rng)
  d_means = {k: jnp.mean(jnp.stack([m[k] for m in d_metrics]))
             for k in d_metrics[0]}
  return state, {**d_means, **g_metrics}
