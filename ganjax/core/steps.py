"""The D update, the G update and the train step: pure functions of the state.

`train_step(gan, state, batch, rng)` runs `gan.disc_iters` D updates, each on
its own slice of the batch and with fresh latents, then one G update on the
last slice. G reuses that slice's reals (for D's batch statistics and
relativistic losses; its latents are fresh), as Compare GAN does on GPUs,
where a step is one batch; Compare GAN's unrolled TPU step instead gives G a
sub-batch of its own (batch × (disc_iters + 1) real images per step).
Randomness is `fold_in(rng, state.step)`: the key passed in is the
run's constant base key, so a resumed run draws the same numbers.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ganjax.core import gan as gan_lib
from ganjax.core import penalties
from ganjax.core import rotation
from ganjax.core import state as state_lib

Metrics = dict[str, jax.Array]


class _DOutputs(NamedTuple):
  """D's outputs on one D batch, each [real half, fake half]."""
  d_real: jax.Array
  d_fake: jax.Array
  class_real: jax.Array | None
  class_fake: jax.Array | None
  rotation_real: jax.Array | None
  rotation_fake: jax.Array | None


def _call_d(gan: gan_lib.GAN, d_params, collections, x, y, sown
            ) -> tuple[jax.Array, gan_lib.Collections]:
  """D on `x` in training mode: (logits, updated collections).

  With `gan.separate_d_calls` the first and second halves of `x` (reals,
  fakes) go through D in two calls, reals first, the second call starting
  from the collections the first updated; the outputs and sown heads are
  concatenated back. Otherwise one call on the whole batch.
  """
  if not gan.separate_d_calls:
    return gan.call(gan.discriminator, d_params, collections, x, y,
                    train=True, sown=sown)
  outputs, halves = [], []
  for x_half, y_half in zip(jnp.split(x, 2),
                            [None, None] if y is None else jnp.split(y, 2)):
    half_sown = None if sown is None else {}
    out, collections = gan.call(gan.discriminator, d_params, collections,
                                x_half, y_half, train=True, sown=half_sown)
    outputs.append(out)
    halves.append(half_sown)
  if sown is not None:
    sown.update(jax.tree.map(lambda a, b: jnp.concatenate([a, b]), *halves))
  return jnp.concatenate(outputs), collections


def _discriminate(gan: gan_lib.GAN, d_params, collections, real, fake,
                  y_real, y_fake) -> tuple[_DOutputs, gan_lib.Collections]:
  """D on concat(real, fake): in one call, as Compare GAN does (one BN batch),
  or in one call per half with `gan.separate_d_calls` (`_call_d`).

  `y_real` and `y_fake` are one-hot labels (None when unconditional). With
  rotation self-supervision each half first gets its rotated copies
  (`rotation.with_rotations`; a rotated fake keeps its own label, where
  Compare GAN's SSGAN gave it a real one); the GAN logits and class logits
  returned are those of the unrotated images, the rotation logits those of
  whole halves. Class logits are returned when D has a class head.
  """
  batch = real.shape[0]
  num_rotated = gan.num_rotated(batch)
  if num_rotated:
    real, fake = (rotation.with_rotations(v, num_rotated)
                  for v in (real, fake))
    y_real, y_fake = (rotation.with_rotated_labels(v, num_rotated)
                      for v in (y_real, y_fake))
  y = None if y_real is None else jnp.concatenate([y_real, y_fake])
  sown = {} if gan.classifier or num_rotated else None
  logits, collections = _call_d(gan, d_params, collections,
                                jnp.concatenate([real, fake]), y, sown)
  d_real, d_fake = (v[:batch] for v in jnp.split(logits, 2))
  class_real = class_fake = rotation_real = rotation_fake = None
  if gan.classifier:
    class_logits = gan_lib.sown_head(sown, "class_logits",
                                     "set its aux_classifier = True")
    class_real, class_fake = (v[:batch] for v in jnp.split(class_logits, 2))
  if num_rotated:
    rotation_real, rotation_fake = jnp.split(gan_lib.sown_head(
        sown, "rotation_logits", "set its rotation_head = True"), 2)
  return _DOutputs(d_real, d_fake, class_real, class_fake, rotation_real,
                   rotation_fake), collections


def _class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      class_logits, labels))


def _labeled_class_loss(class_logits: jax.Array,
                        labels: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Cross-entropy and accuracy over the labeled examples only (labels ≥ 0;
  withheld ones are −1); both 0 for a batch without labels."""
  labeled = labels >= 0
  count = jnp.maximum(jnp.sum(labeled), 1)
  losses = optax.softmax_cross_entropy_with_integer_labels(
      class_logits, jnp.where(labeled, labels, 0))
  correct = jnp.argmax(class_logits, -1) == labels
  return (jnp.sum(jnp.where(labeled, losses, 0.0)) / count,
          jnp.sum(labeled & correct) / count)


def _update_metrics(net: str, grads, opt_state,
                    lr_scale: jax.Array) -> Metrics:
  """The gradient's global norm and, for an optimizer that keeps it in its
  state (gin's `optax.*`), the learning rate it used, scaled as applied."""
  metrics = {f"{net}_grad_norm": optax.tree.norm(grads)}
  learning_rate = getattr(opt_state, "hyperparams", {}).get("learning_rate")
  if learning_rate is not None:
    metrics[f"{net}_lr"] = learning_rate * lr_scale
  return metrics


def _gan_weight(gan: gan_lib.GAN) -> float:
  """The GAN losses' (and the penalty's) weight: 0 when training the
  rotation task alone."""
  return 0.0 if gan.self_supervision == "rotation_only" else 1.0


def d_step(gan: gan_lib.GAN, state: state_lib.GANState, real: jax.Array,
           real_labels: jax.Array | None,
           rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """One D update on `real` (and its labels) against fresh fakes."""
  z_rng, label_rng, penalty_rng = jax.random.split(rng, 3)
  fake_labels = gan.sample_labels(label_rng, real.shape[0], real_labels)
  y_real, y_fake = gan.one_hot(real_labels), gan.one_hot(fake_labels)
  fake, g_collections = gan.call(
      gan.generator, state.g_params, state.g_collections,
      gan.sample_z(z_rng, real.shape[0]), y_fake, train=True)
  fake = jax.lax.stop_gradient(fake)

  def loss_fn(d_params):
    out, d_collections = _discriminate(
        gan, d_params, state.d_collections, real, fake, y_real, y_fake)
    loss = gan.loss(out.d_real, out.d_fake)
    # As in Compare GAN, the penalty's D calls get the real labels. Unlike
    # Compare GAN's S3GAN, every GAN class adds the penalty.
    penalty = gan.penalty(
        discriminator=lambda x: gan.call(
            gan.discriminator, d_params, state.d_collections, x, y_real,
            train=True)[0],
        d_params=d_params, real=real, fake=fake, rng=penalty_rng)
    # rotation_only drops the penalty with the loss, as Compare GAN does.
    total = _gan_weight(gan) * (loss.d_loss + state.penalty_weight * penalty)
    metrics = {"d_loss": loss.d_loss, "d_loss_real": loss.d_loss_real,
               "d_loss_fake": loss.d_loss_fake, "penalty": penalty,
               "d_real": jnp.mean(out.d_real), "d_fake": jnp.mean(out.d_fake)}
    if gan.aux_classifier_weight:
      class_loss = (_class_loss(out.class_real, real_labels) +
                    _class_loss(out.class_fake, fake_labels))
      total += gan.aux_classifier_weight * class_loss
      metrics["d_class_loss"] = class_loss
    if gan.label_predictor_weight:
      class_loss, class_accuracy = _labeled_class_loss(out.class_real,
                                                       real_labels)
      total += gan.label_predictor_weight * class_loss
      metrics.update(d_class_loss=class_loss,
                     d_class_accuracy=class_accuracy)
    if out.rotation_real is not None:
      num_rotated = gan.num_rotated(real.shape[0])
      rotation_loss = rotation.loss(out.rotation_real, num_rotated)
      total += gan.rotation_weight_d * rotation_loss
      metrics.update(
          d_rotation_loss=rotation_loss,
          d_rotation_accuracy=rotation.accuracy(out.rotation_real,
                                                num_rotated))
    metrics["d_total"] = total
    return total, (d_collections, metrics)

  grads, (d_collections, metrics) = jax.grad(loss_fn, has_aux=True)(
      state.d_params)
  updates, d_opt_state = gan.d_optimizer.update(
      grads, state.d_opt_state, state.d_params)
  updates = optax.tree_utils.tree_scale(state.lr_scale, updates)
  metrics.update(_update_metrics("d", grads, d_opt_state, state.lr_scale))
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
           real_labels: jax.Array | None,
           rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """One G update; `real` feeds D's batch statistics and relativistic losses."""
  z_rng, label_rng = jax.random.split(rng)
  z = gan.sample_z(z_rng, real.shape[0])
  fake_labels = gan.sample_labels(label_rng, real.shape[0], real_labels)
  y_real, y_fake = gan.one_hot(real_labels), gan.one_hot(fake_labels)

  def loss_fn(g_params):
    fake, g_collections = gan.call(
        gan.generator, g_params, state.g_collections, z, y_fake, train=True)
    out, d_collections = _discriminate(
        gan, state.d_params, state.d_collections, real, fake, y_real, y_fake)
    metrics = {"g_loss": gan.loss(out.d_real, out.d_fake).g_loss}
    loss = _gan_weight(gan) * metrics["g_loss"]
    if out.rotation_fake is not None:
      rotation_loss = rotation.loss(out.rotation_fake,
                                    gan.num_rotated(real.shape[0]))
      loss += gan.rotation_weight_g * rotation_loss
      metrics["g_rotation_loss"] = rotation_loss
    if gan.aux_classifier_weight:
      class_loss = _class_loss(out.class_fake, fake_labels)
      loss += gan.aux_classifier_weight * class_loss
      metrics["g_class_loss"] = class_loss
    if gan.g_orthogonal_weight:
      ortho = penalties.orthogonal(g_params)
      loss += gan.g_orthogonal_weight * ortho
      metrics["g_orthogonal"] = ortho
    metrics["g_total"] = loss
    return loss, (g_collections, d_collections, metrics)

  (_, (g_collections, d_collections, metrics)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.g_params)
  updates, g_opt_state = gan.g_optimizer.update(
      grads, state.g_opt_state, state.g_params)
  updates = optax.tree_utils.tree_scale(state.lr_scale, updates)
  metrics.update(_update_metrics("g", grads, g_opt_state, state.lr_scale))
  g_params = optax.apply_updates(state.g_params, updates)
  return state.replace(
      step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state,
      g_collections=g_collections, d_collections=d_collections,
      ema_params=ema_update(gan, state.ema_params, g_params, state.step),
  ), metrics


def _interleaved(x: jax.Array, num: int) -> jax.Array:
  """[num, N/num, ...]: slice i holds examples i, i + num, i + 2·num, ….

  With the batch sharded along its first axis, every slice is then spread
  evenly over the devices (and hosts) that hold the batch, so each D update
  is data-parallel without moving examples between devices.
  """
  return jnp.swapaxes(x.reshape(-1, num, *x.shape[1:]), 0, 1)


def train_step(gan: gan_lib.GAN, state: state_lib.GANState,
               batch: dict[str, jax.Array],
               rng: jax.Array) -> tuple[state_lib.GANState, Metrics]:
  """`disc_iters` D updates then one G update.

  Args:
    gan: the GAN.
    state: the train state.
    batch: {"x": [disc_iters * batch_size, ...]} and, for a conditional GAN,
      {"label": [disc_iters * batch_size]}; D update i gets examples i,
      i + disc_iters, … (`_interleaved`), G's update the last D's.
    rng: the run's base key.

  Returns:
    The new state and the step's metrics (D's averaged over its updates),
    with `all_finite`: whether every metric and the whole new state are
    finite (`run/guard.py` acts on it).
  """
  d_rng, g_rng = jax.random.split(jax.random.fold_in(rng, state.step))
  x = batch["x"]
  if x.shape[0] % gan.disc_iters:
    raise ValueError(f"A batch of {x.shape[0]} examples cannot be split into "
                     f"disc_iters={gan.disc_iters} equal slices.")
  if gan.conditional and "label" not in batch:
    raise ValueError("A conditional GAN needs labeled batches ('label').")
  slices = _interleaved(x, gan.disc_iters)
  label_slices = (_interleaved(batch["label"], gan.disc_iters)
                  if gan.conditional else [None] * gan.disc_iters)

  # Unrolled as in Compare GAN: on XLA:CPU a lax.scan over the D updates made
  # the whole step about 5x slower (measured on a width-16 DCGAN at 28×28).
  d_metrics = []
  for i in range(gan.disc_iters):
    state, metrics = d_step(gan, state, slices[i], label_slices[i],
                            jax.random.fold_in(d_rng, i))
    d_metrics.append(metrics)
  state, g_metrics = g_step(gan, state, slices[-1], label_slices[-1], g_rng)
  d_means = {k: jnp.mean(jnp.stack([m[k] for m in d_metrics]))
             for k in d_metrics[0]}
  metrics = {**d_means, **g_metrics}
  return state, {**metrics, "all_finite": all_finite(metrics, state)}


def all_finite(*trees: Any) -> jax.Array:
  """True (a device scalar) when every inexact leaf of `trees` is finite."""
  checks = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(trees)
            if jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.inexact)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.bool_(True)
