"""The D update, the G update and the train step: pure functions of the state.

`train_step(gan, state, batch, rng)` runs `gan.disc_iters` D updates, each on
its own slice of the batch and with fresh latents, then one G update on the
last slice. G reuses that slice's reals (for D's batch statistics and
relativistic losses; its latents are fresh), as Compare GAN does on GPUs,
where a step is one batch; Compare GAN's unrolled TPU step instead gives G a
sub-batch of its own (batch × (disc_iters + 1) real images per step).
Randomness is `fold_in(rng, state.step)`: the key passed in is the
run's constant base key, so a resumed run draws the same numbers.

Gradient accumulation (`accumulate_steps` k > 1) splits each update's batch
into k interleaved micro-batches, runs G and D on one at a time (a
`lax.scan`), averages their gradients and takes one optimizer step: the
update of the whole batch, in about 1/k of the activation memory. The
latents and labels are drawn for the whole batch; the networks' collections
(batch-norm statistics, spectral-norm vectors) are computed per micro-batch
and passed from one to the next, as every peer's accumulation does, and so
are batch-level statistics in the objective (relativistic losses' means,
LeCam's anchors, the minibatch standard deviation, the path length's
sub-batch). The other random draws (G's noise, augmentations, penalties'
interpolations) are made per micro-batch. Terms' states are updated once
per update, from D's outputs over the whole batch.
"""

import itertools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ganjax.core import gan as gan_lib
from ganjax.core import state as state_lib
from ganjax.core import terms as terms_lib

Metrics = dict[str, jax.Array]


class _DOutputs(NamedTuple):
  """D's outputs on one D batch: GAN logits of the batch's reals and fakes,
  and the sown heads over each half (`terms.Outputs`)."""
  d_real: jax.Array
  d_fake: jax.Array
  heads_real: dict[str, jax.Array]
  heads_fake: dict[str, jax.Array]


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


def _augmented(gan: gan_lib.GAN, term_states: dict[str, Any], x: jax.Array,
              rng: jax.Array) -> jax.Array:
  """`x` as D sees it: through each term's `augment`, in `gan.terms`' order,
  each with its own key."""
  for i, term in enumerate(gan.terms):
    x = term.augment(x, jax.random.fold_in(rng, i),
                     term_states.get(term.name))
  return x


def _discriminate(gan: gan_lib.GAN, d_params, collections, real, fake,
                  y_real, y_fake, term_states: dict[str, Any],
                  rng: jax.Array) -> tuple[_DOutputs, gan_lib.Collections]:
  """D on concat(real, fake): in one call, as Compare GAN does (one BN batch),
  or in one call per half with `gan.separate_d_calls` (`_call_d`).

  `y_real` and `y_fake` are one-hot labels (None when unconditional). Each
  half is first augmented (`_augmented`, keys folded from `rng`), then the
  terms add their examples to it (`Term.d_inputs`, e.g. rotated copies);
  the GAN logits returned are those of the batch's own examples, the heads
  the terms asked for those of whole halves.
  """
  batch = real.shape[0]
  real = _augmented(gan, term_states, real, jax.random.fold_in(rng, 0))
  fake = _augmented(gan, term_states, fake, jax.random.fold_in(rng, 1))
  for term in gan.terms:
    real, fake, y_real, y_fake = term.d_inputs(real, fake, y_real, y_fake)
  y = None if y_real is None else jnp.concatenate([y_real, y_fake])
  sown = {} if gan.d_heads else None
  logits, collections = _call_d(gan, d_params, collections,
                                jnp.concatenate([real, fake]), y, sown)
  d_real, d_fake = (v[:batch] for v in jnp.split(logits, 2))
  halves = {name: jnp.split(gan_lib.sown_head(sown, name,
                                              f"set its {field} = True"), 2)
            for name, field in gan.d_heads.items()}
  return _DOutputs(d_real, d_fake, {k: v[0] for k, v in halves.items()},
                   {k: v[1] for k, v in halves.items()}), collections


def _augmenting_d(gan: gan_lib.GAN, d_params, collections,
                  term_states: dict[str, Any], y_real, rng: jax.Array):
  """(x, one-hot y = y_real) ↦ D's logits of augmented x in training mode,
  collections left as they are; call i augments with fold_in(rng, i), so
  each call site of a trace draws its own transforms."""
  calls = itertools.count()

  def discriminator(x, y=None):
    x = _augmented(gan, term_states, x, jax.random.fold_in(rng, next(calls)))
    return gan.call(gan.discriminator, d_params, collections, x,
                    y_real if y is None else y, train=True)[0]
  return discriminator


def _generating(gan: gan_lib.GAN, g_params, collections, rng: jax.Array):
  """(z, one-hot y, method=None) ↦ G's output (or its method's) in training
  mode, collections left as they are; call i draws G's noise from
  fold_in(rng, i)."""
  calls = itertools.count()
  return lambda z, y, method=None: gan.call(
      gan.generator, g_params, collections, z, y, train=True,
      rng=jax.random.fold_in(rng, next(calls)), method=method)[0]


def _next_term_states(gan: gan_lib.GAN, out: terms_lib.Outputs
                      ) -> dict[str, Any]:
  """Each stateful term's state after the D update of `out`."""
  constant = out._replace(**jax.lax.stop_gradient(
      {"d_real": out.d_real, "d_fake": out.d_fake,
       "heads_real": out.heads_real, "heads_fake": out.heads_fake}))
  return {term.name: term.d_update(out.term_states[term.name], constant)
          for term in gan.terms if term.name in out.term_states}


def _augment_key(rng: jax.Array) -> jax.Array:
  """The key of an update's augmentations, apart from its other keys (so
  that GANs without augmentation draw what they drew before it)."""
  return jax.random.fold_in(rng, 0x41756720)


def _micro_key(key: jax.Array, index: jax.Array | int,
               num_micro: int) -> jax.Array:
  """The key of micro-batch `index` of `num_micro`: the update's own when
  there is one, so that accumulation off draws what it always drew."""
  return key if num_micro == 1 else jax.random.fold_in(key, index)


def _deinterleaved(x: jax.Array) -> jax.Array:
  """The inverse of `_interleaved`: [num, N/num, ...] → [N, ...]."""
  return jnp.swapaxes(x, 0, 1).reshape(-1, *x.shape[2:])


def _over_micro_batches(fn, carry, examples: dict[str, Any],
                        num_micro: int, unrolled: bool):
  """`fn(carry, micro_examples, index) → (carry, outputs)` over the
  `num_micro` interleaved micro-batches of `examples` (arrays with the batch
  first), carry passed on: (carry, outputs stacked [num_micro, ...]); with
  one micro-batch, `fn`'s own result on the whole batch."""
  if num_micro == 1:
    return fn(carry, examples, 0)
  micro = jax.tree.map(lambda a: _interleaved(a, num_micro), examples)
  return jax.lax.scan(lambda c, xs: fn(c, *xs), carry,
                      (micro, jnp.arange(num_micro)), unroll=unrolled)


def _merged(outputs, metrics, num_micro: int):
  """Per-example outputs of the micro-batches in the batch's order, their
  metrics averaged."""
  if num_micro == 1:
    return outputs, metrics
  return (jax.tree.map(_deinterleaved, outputs),
          jax.tree.map(lambda m: jnp.mean(m, axis=0), metrics))


def _update_metrics(net: str, grads, opt_state,
                    lr_scale: jax.Array) -> Metrics:
  """The gradient's global norm and, for an optimizer that keeps it in its
  state (gin's `optax.*`), the learning rate it used, scaled as applied."""
  metrics = {f"{net}_grad_norm": optax.tree.norm(grads)}
  learning_rate = getattr(opt_state, "hyperparams", {}).get("learning_rate")
  if learning_rate is not None:
    metrics[f"{net}_lr"] = learning_rate * lr_scale
  return metrics


def _objective(gan: gan_lib.GAN, net: str, out: terms_lib.Outputs,
               part: str) -> tuple[jax.Array, Metrics, jax.Array]:
  """(loss, metrics with f"{net}_total", due) of `net`'s objective in the
  update of `out`: "all" of it, its "main" terms (the losses) or its "reg"
  part (the regularizers, `Term.d_regularizer`); `due`: whether any
  regularizer is computed in this update."""
  losses = []
  if part != "reg":
    losses.append(terms_lib.total(
        gan.objective, lambda t: getattr(t, f"{net}_loss")(out)))
  if part != "main":
    losses.append(terms_lib.total(
        gan.objective, lambda t: getattr(t, f"{net}_regularizer")(out)))
  loss = sum(value for value, _ in losses)
  metrics = {k: v for _, m in losses for k, v in m.items()}
  due = jnp.any(jnp.array([jnp.asarray(t.reg_due(net, out))
                           for t in gan.objective]))
  return loss, {**metrics, f"{net}_total": loss}, due


def _grads(loss_fn, params, part: str, examples: dict[str, Any],
           collections, num_micro: int, unrolled: bool):
  """(mean gradient, collections, per-example outputs, metrics, due) of
  `loss_fn` over the micro-batches of `examples` (`_over_micro_batches`)."""

  def one(carry, micro, index):
    collections, total = carry
    grads, (collections, outputs, metrics, due) = jax.grad(
        lambda p: loss_fn(p, part, micro, collections, index),
        has_aux=True)(params)
    total = grads if total is None else jax.tree.map(jnp.add, total, grads)
    return (collections, total), (outputs, metrics, due)

  zeros = None if num_micro == 1 else jax.tree.map(jnp.zeros_like, params)
  (collections, total), (outputs, metrics, due) = _over_micro_batches(
      one, (collections, zeros), examples, num_micro, unrolled)
  outputs, metrics = _merged(outputs, metrics, num_micro)
  if num_micro > 1:
    total = jax.tree.map(lambda g: g / num_micro, total)
    due = jnp.any(due)
  return total, collections, outputs, metrics, due


def _descend(gan: gan_lib.GAN, net: str, loss_fn, params, opt_state,
             lr_scale: jax.Array, examples: dict[str, Any], collections,
             num_micro: int = 1, unrolled: bool = False
             ) -> tuple[Any, Any, Any, Any, Metrics]:
  """One update of `net` ("d" or "g") by its optimizer: (params, optimizer
  state, collections, per-example outputs, metrics).

  `loss_fn(params, part, examples, collections, micro_index)` returns
  (loss, (collections, outputs, metrics, due)) of the part of the objective
  (`_objective`) on a micro-batch of `examples` (`_grads`). The update
  descends all of it; with `gan.lazy_reg_updates` it descends the main
  terms, then, where a regularizer is due, takes a second optimizer step on
  the regularizers alone from the parameters after the first (StyleGAN2's
  phases Dmain, Dreg, Gmain, Greg); collections and outputs are the first
  step's, the metrics both's (the total summed).
  """
  optimizer = gan.d_optimizer if net == "d" else gan.g_optimizer

  def apply(grads, params, opt_state):
    updates, opt_state = optimizer.update(grads, opt_state, params)
    updates = optax.tree_utils.tree_scale(lr_scale, updates)
    return optax.apply_updates(params, updates), opt_state

  first = "main" if gan.lazy_reg_updates else "all"
  grads, new_collections, outputs, metrics, _ = _grads(
      loss_fn, params, first, examples, collections, num_micro, unrolled)
  params, opt_state = apply(grads, params, opt_state)
  metrics.update(_update_metrics(net, grads, opt_state, lr_scale))
  if gan.lazy_reg_updates:
    reg_grads, _, _, reg_metrics, due = _grads(
        loss_fn, params, "reg", examples, collections, num_micro, unrolled)
    params, opt_state = jax.lax.cond(
        due, lambda: apply(reg_grads, params, opt_state),
        lambda: (params, opt_state))
    total = f"{net}_total"
    metrics = {**metrics, **reg_metrics,
               total: metrics[total] + reg_metrics[total]}
  return params, opt_state, new_collections, outputs, metrics


def _fakes(gan: gan_lib.GAN, state: state_lib.GANState, z: jax.Array,
           y_fake: jax.Array | None, noise_rng: jax.Array, num_micro: int,
           unrolled: bool) -> tuple[jax.Array, gan_lib.Collections]:
  """G's samples of `z` for a D update (training mode, no gradient) and G's
  collections after them, a micro-batch at a time."""

  def one(collections, micro, index):
    fake, collections = gan.call(
        gan.generator, state.g_params, collections, micro["z"],
        micro["y_fake"], train=True,
        rng=_micro_key(jax.random.fold_in(noise_rng, 0), index, num_micro))
    return collections, fake

  collections, fake = _over_micro_batches(
      one, state.g_collections, {"z": z, "y_fake": y_fake}, num_micro,
      unrolled)
  fake = fake if num_micro == 1 else _deinterleaved(fake)
  return jax.lax.stop_gradient(fake), collections


def d_step(gan: gan_lib.GAN, state: state_lib.GANState, real: jax.Array,
           real_labels: jax.Array | None, rng: jax.Array,
           index: int = 0, accumulate_steps: int = 1,
           unrolled: bool = False) -> tuple[state_lib.GANState, Metrics]:
  """D update `index` of the step (of `gan.disc_iters`) on `real` (and its
  labels) against fresh fakes: D descends the sum of the GAN's terms
  (`gan.objective`), and the stateful terms update their states. With
  `accumulate_steps` k, over k micro-batches (the module's docstring)."""
  z_rng, label_rng, penalty_rng = jax.random.split(rng, 3)
  aug_rng = _augment_key(rng)
  fake_labels = gan.sample_labels(label_rng, real.shape[0], real_labels)
  z = gan.sample_z(z_rng, real.shape[0])
  noise_rng = gan_lib.noise_key(rng)
  num = accumulate_steps
  fake, g_collections = _fakes(gan, state, z, gan.one_hot(fake_labels),
                               noise_rng, num, unrolled)
  examples = {"real": real, "fake": fake, "real_labels": real_labels,
              "fake_labels": fake_labels, "z": z}

  def outputs(d_params, d_out, ex, micro):
    """The terms' view of D's outputs `d_out` on examples `ex`."""
    y_real = gan.one_hot(ex["real_labels"])
    # As in Compare GAN, the penalty's D calls get the real labels. Unlike
    # Compare GAN's S3GAN, every GAN class adds the penalty.
    return terms_lib.Outputs(
        *d_out, real=ex["real"], fake=ex["fake"],
        real_labels=ex["real_labels"], fake_labels=ex["fake_labels"],
        d_params=d_params, g_params=state.g_params,
        discriminator=_augmenting_d(
            gan, d_params, state.d_collections, state.terms, y_real,
            jax.random.fold_in(_micro_key(aug_rng, micro, num), 2)),
        penalty_weight=state.penalty_weight,
        rng=_micro_key(penalty_rng, micro, num),
        d_updates=state.step * gan.disc_iters + index, g_updates=state.step,
        term_states=state.terms, z=ex["z"], y_real=y_real,
        y_fake=gan.one_hot(ex["fake_labels"]),
        generator=_generating(
            gan, state.g_params, state.g_collections,
            _micro_key(jax.random.fold_in(noise_rng, 1), micro, num)))

  def loss_fn(d_params, part, ex, d_collections, micro):
    d_out, d_collections = _discriminate(
        gan, d_params, d_collections, ex["real"], ex["fake"],
        gan.one_hot(ex["real_labels"]), gan.one_hot(ex["fake_labels"]),
        state.terms, _micro_key(aug_rng, micro, num))
    loss, metrics, due = _objective(
        gan, "d", outputs(d_params, d_out, ex, micro), part)
    return loss, (d_collections, d_out._asdict(), metrics, due)

  d_params, d_opt_state, d_collections, d_out, metrics = _descend(
      gan, "d", loss_fn, state.d_params, state.d_opt_state, state.lr_scale,
      examples, state.d_collections, num, unrolled)
  # The terms' states follow D's outputs over the whole batch.
  term_states = _next_term_states(
      gan, outputs(d_params, _DOutputs(**d_out), examples, 0))
  return state.replace(
      d_params=d_params, d_opt_state=d_opt_state,
      d_collections=d_collections, g_collections=g_collections,
      terms=term_states), metrics


def ema_update(gan: gan_lib.GAN, ema_params, g_params, step: jax.Array,
               batch_size: int = 1):
  """EMA of G's weights after G update `step` of `batch_size` images.

  With `gan.ema_half_life_images` h, the decay is 0.5^(batch_size / h),
  h at most step · batch_size · `gan.ema_rampup` (stylegan2-ada-pytorch's,
  where the images seen are counted before the update, so the first update
  copies G). Otherwise `gan.ema_decay`, from `ema_start_step` on; before
  it the EMA copies G's weights (decay 0).
  """
  if not gan.keeps_ema:
    return None
  if gan.ema_half_life_images is not None:
    half_life = jnp.float32(gan.ema_half_life_images)
    if gan.ema_rampup is not None:
      half_life = jnp.minimum(half_life, (step * batch_size).astype(
          jnp.float32) * gan.ema_rampup)
    decay = 0.5 ** (batch_size / jnp.maximum(half_life, 1e-8))
  else:
    decay = jnp.where(step >= gan.ema_start_step, gan.ema_decay, 0.0)
  return optax.incremental_update(g_params, ema_params, 1.0 - decay)


def g_step(gan: gan_lib.GAN, state: state_lib.GANState, real: jax.Array,
           real_labels: jax.Array | None, rng: jax.Array,
           accumulate_steps: int = 1,
           unrolled: bool = False) -> tuple[state_lib.GANState, Metrics]:
  """One G update, descending the sum of the GAN's terms; `real` feeds D's
  batch statistics and relativistic losses. With `accumulate_steps` k, over
  k micro-batches (the module's docstring)."""
  z_rng, label_rng = jax.random.split(rng)
  aug_rng = _augment_key(rng)
  noise_rng = gan_lib.noise_key(rng)
  num = accumulate_steps
  examples = {"real": real, "real_labels": real_labels,
              "fake_labels": gan.sample_labels(label_rng, real.shape[0],
                                               real_labels),
              "z": gan.sample_z(z_rng, real.shape[0])}

  def loss_fn(g_params, part, ex, collections, micro):
    g_collections, d_collections = collections
    key = lambda k: _micro_key(k, micro, num)
    y_real, y_fake = (gan.one_hot(ex["real_labels"]),
                      gan.one_hot(ex["fake_labels"]))
    fake, g_collections = gan.call(
        gan.generator, g_params, g_collections, ex["z"], y_fake, train=True,
        rng=key(jax.random.fold_in(noise_rng, 0)))
    d_out, d_collections = _discriminate(
        gan, state.d_params, d_collections, ex["real"], fake, y_real, y_fake,
        state.terms, key(aug_rng))
    out = terms_lib.Outputs(
        *d_out, real=ex["real"], fake=fake, real_labels=ex["real_labels"],
        fake_labels=ex["fake_labels"], d_params=state.d_params,
        g_params=g_params,
        discriminator=_augmenting_d(
            gan, state.d_params, state.d_collections, state.terms, y_real,
            jax.random.fold_in(key(aug_rng), 2)),
        penalty_weight=state.penalty_weight,
        rng=jax.random.fold_in(key(aug_rng), 3),
        d_updates=(state.step + 1) * gan.disc_iters, g_updates=state.step,
        term_states=state.terms, z=ex["z"], y_real=y_real, y_fake=y_fake,
        generator=_generating(gan, g_params, state.g_collections,
                              key(jax.random.fold_in(noise_rng, 1))))
    loss, metrics, due = _objective(gan, "g", out, part)
    return loss, ((g_collections, d_collections), {}, metrics, due)

  g_params, g_opt_state, (g_collections, d_collections), _, metrics = (
      _descend(gan, "g", loss_fn, state.g_params, state.g_opt_state,
               state.lr_scale, examples,
               (state.g_collections, state.d_collections), num, unrolled))
  term_states = {term.name: term.g_update(state.terms[term.name], metrics)
                 for term in gan.terms if term.name in state.terms}
  return state.replace(
      step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state,
      g_collections=g_collections, d_collections=d_collections,
      ema_params=ema_update(gan, state.ema_params, g_params, state.step,
                            real.shape[0]),
      terms=term_states), metrics


def _interleaved(x: jax.Array, num: int) -> jax.Array:
  """[num, N/num, ...]: slice i holds examples i, i + num, i + 2·num, ….

  With the batch sharded along its first axis, every slice is then spread
  evenly over the devices (and hosts) that hold the batch, so each D update
  is data-parallel without moving examples between devices.
  """
  return jnp.swapaxes(x.reshape(-1, num, *x.shape[1:]), 0, 1)


def train_step(gan: gan_lib.GAN, state: state_lib.GANState,
               batch: dict[str, jax.Array], rng: jax.Array,
               accumulate_steps: int = 1, unrolled: bool = False
               ) -> tuple[state_lib.GANState, Metrics]:
  """`disc_iters` D updates then one G update.

  Args:
    gan: the GAN.
    state: the train state.
    batch: {"x": [disc_iters * batch_size, ...]} and, for a conditional GAN,
      {"label": [disc_iters * batch_size]}; D update i gets examples i,
      i + disc_iters, … (`_interleaved`), G's update the last D's.
    rng: the run's base key.
    accumulate_steps: micro-batches per update (gradient accumulation; the
      module's docstring); batch_size must be a multiple.
    unrolled: unroll the loop over micro-batches instead of a `lax.scan`.

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
  if accumulate_steps < 1 or (x.shape[0] // gan.disc_iters) % accumulate_steps:
    raise ValueError(
        f"train.accumulate_steps = {accumulate_steps} must be >= 1 and "
        f"divide the batch of {x.shape[0] // gan.disc_iters} examples per "
        "update.")
  slices = _interleaved(x, gan.disc_iters)
  label_slices = (_interleaved(batch["label"], gan.disc_iters)
                  if gan.conditional else [None] * gan.disc_iters)

  # Unrolled as in Compare GAN: on XLA:CPU a lax.scan over the D updates made
  # the whole step about 5x slower (measured on a width-16 DCGAN at 28×28).
  d_metrics = []
  for i in range(gan.disc_iters):
    state, metrics = d_step(gan, state, slices[i], label_slices[i],
                            jax.random.fold_in(d_rng, i), i,
                            accumulate_steps, unrolled)
    d_metrics.append(metrics)
  state, g_metrics = g_step(gan, state, slices[-1], label_slices[-1], g_rng,
                            accumulate_steps, unrolled)
  d_means = {k: jnp.mean(jnp.stack([m[k] for m in d_metrics]))
             for k in d_metrics[0]}
  metrics = {**d_means, **g_metrics}
  return state, {**metrics, "all_finite": all_finite(metrics, state)}


def all_finite(*trees: Any) -> jax.Array:
  """True (a device scalar) when every inexact leaf of `trees` is finite."""
  checks = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(trees)
            if jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.inexact)]
  return jnp.all(jnp.stack(checks)) if checks else jnp.bool_(True)
