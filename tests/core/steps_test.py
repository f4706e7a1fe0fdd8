"""Tests of ganjax.core.steps: D/G updates, disc_iters, EMA, tracing,
determinism."""

import dataclasses
import functools

import chex
import flax.linen as nn
import gin
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ganjax.core import gan as gan_lib
from ganjax.core import losses
from ganjax.core import penalties
from ganjax.core import regularizers
from ganjax.core import rotation
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.core import terms
from ganjax.data import dataset
from ganjax.data import digits
from ganjax.models import dcgan
from ganjax.models import mlp
from ganjax.models import normalizers

_BATCH = 8
_Z_DIM = 4


def _make_gan(disc_iters=1, ema_decay=0.9, ema_start_step=2):
  return gan_lib.GAN(
      generator=mlp.Generator(output_shape=(2,), hidden_dims=(16, 16)),
      discriminator=mlp.Discriminator(hidden_dims=(16, 16), maxout_pieces=2),
      loss=losses.non_saturating, penalty=penalties.r1, penalty_weight=0.1,
      g_optimizer=optax.adam(1e-2), d_optimizer=optax.adam(1e-2),
      z_dim=_Z_DIM, prior="normal", disc_iters=disc_iters,
      ema_decay=ema_decay, ema_start_step=ema_start_step)


# Built once: GAN is static under jit, so each distinct GAN compiles anew.
_GAN = _make_gan()
_GAN_K3 = _make_gan(disc_iters=3)


@functools.lru_cache(maxsize=None)
def _jitted(gan):
  return jax.jit(functools.partial(steps.train_step, gan))


@functools.lru_cache(maxsize=None)
def _initial_state(gan):
  return jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (2,), _BATCH))()


def _batch(index, gan=_GAN):
  rng = np.random.default_rng(index)
  x = rng.normal(size=(gan.disc_iters * _BATCH, 2)).astype(np.float32)
  return {"x": x}


def _run(gan, num_steps, state=None, rng=None):
  state = _initial_state(gan) if state is None else state
  rng = jax.random.key(1) if rng is None else rng
  states = [state]
  for i in range(num_steps):
    state, _ = _jitted(gan)(state, _batch(i, gan), rng)
    states.append(state)
  return states


def _adam_count(opt_state):
  return int(opt_state[0].count)


def _assert_trees_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


def _trees_differ_everywhere(a, b):
  return all(not np.array_equal(x, y)
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_step_counter_and_optimizer_counts_with_disc_iters():
  states = _run(_GAN_K3, 4)
  for g_steps, state in enumerate(states):
    assert int(state.step) == g_steps
    assert _adam_count(state.g_opt_state) == g_steps
    assert _adam_count(state.d_opt_state) == 3 * g_steps


def test_disc_iters_1_counts():
  state = _run(_GAN, 3)[-1]
  assert int(state.step) == 3
  assert _adam_count(state.g_opt_state) == 3
  assert _adam_count(state.d_opt_state) == 3


def test_train_step_is_d_steps_on_slices_then_g_step():
  # The documented recipe, spelled out: fold the step into the base key,
  # split it for D and G, D update i on examples i, i + 3, … with
  # fold_in(d_rng, i), then the G update on the last D update's examples.
  gan = _GAN_K3
  state = _run(gan, 1)[-1]
  rng = jax.random.key(1)
  batch = _batch(7, gan)
  got, _ = _jitted(gan)(state, batch, rng)

  @jax.jit
  def by_hand(state, x):
    d_rng, g_rng = jax.random.split(jax.random.fold_in(rng, state.step))
    slices = [x[i::3] for i in range(3)]
    for i in range(3):
      state, _ = steps.d_step(gan, state, slices[i], None,
                              jax.random.fold_in(d_rng, i))
    state, _ = steps.g_step(gan, state, slices[2], None, g_rng)
    return state

  want = by_hand(state, batch["x"])
  jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-6,
                                 atol=1e-7), got, want)


def test_indivisible_batch_raises():
  state = _initial_state(_GAN_K3)
  with pytest.raises(ValueError, match="disc_iters=3"):
    steps.train_step(_GAN_K3, state, {"x": np.zeros((10, 2), np.float32)},
                     jax.random.key(0))


def test_lazy_reg_updates_take_their_own_optimizer_steps_where_due():
  lazy = dataclasses.replace(_GAN, penalty_every=2, lazy_reg_updates=True)
  states = _run(lazy, 4)
  # D: one step per update, plus the penalty's in updates 0 and 2; G has no
  # regularizer.
  assert [_adam_count(s.d_opt_state) for s in states] == [0, 2, 3, 5, 6]
  assert _adam_count(states[-1].g_opt_state) == 4
  # Where the penalty is not due the update is the loss's alone.
  plain = dataclasses.replace(lazy, penalty=penalties.none)
  rng = jax.random.key(1)
  after_lazy, _ = _jitted(lazy)(states[1], _batch(1), rng)
  after_plain, _ = _jitted(plain)(states[1], _batch(1), rng)
  chex.assert_trees_all_close(after_lazy.d_params, after_plain.d_params,
                              rtol=1e-6, atol=1e-7)
  after_lazy, metrics = _jitted(lazy)(states[2], _batch(2), rng)
  after_plain, _ = _jitted(plain)(states[2], _batch(2), rng)
  assert float(metrics["penalty"]) > 0
  assert _trees_differ_everywhere(after_lazy.d_params, after_plain.d_params)


@pytest.mark.parametrize("unrolled", [False, True])
def test_micro_batches_give_the_update_of_the_whole_batch(unrolled):
  # No batch norm and no random draw inside the networks or the objective:
  # the micro-batches' mean gradient is the whole batch's. R1 (lazy, as its
  # own step) included, and LeCam's anchors: a term's state, updated from
  # the whole batch (weight 0: its loss uses the batch's mean logits, a
  # batch-level statistic that micro-batches change).
  gan = dataclasses.replace(
      _GAN, generator=mlp.Generator(output_shape=(2,), hidden_dims=(16, 16),
                                    batch_norm=False),
      terms=(regularizers.LeCam(weight=0.0),), penalty_every=2,
      lazy_reg_updates=True, ema_decay=0.5, ema_start_step=0)
  state = _initial_state(gan)
  whole, accumulated = state, state
  accumulate = jax.jit(functools.partial(
      steps.train_step, gan, accumulate_steps=4, unrolled=unrolled))
  for i in range(3):
    whole, whole_metrics = _jitted(gan)(whole, _batch(i), jax.random.key(1))
    accumulated, metrics = accumulate(accumulated, _batch(i),
                                      jax.random.key(1))
  # Adam divides by the root of tiny second moments: float noise grows to
  # ~3e-6 of steps of 1e-2.
  chex.assert_trees_all_close(accumulated, whole, rtol=1e-4, atol=1e-5)
  assert int(accumulated.d_opt_state[0].count) == 5  # 3 steps, 2 R1 steps.
  for name in ("d_loss", "g_loss", "penalty", "d_grad_norm"):
    np.testing.assert_allclose(metrics[name], whole_metrics[name], rtol=2e-5)


def test_accumulation_must_divide_the_batch():
  with pytest.raises(ValueError, match="accumulate_steps = 3 must be >= 1 "
                     "and divide the batch of 8"):
    jax.eval_shape(functools.partial(steps.train_step, _GAN,
                                     accumulate_steps=3),
                   _initial_state(_GAN), _batch(0), jax.random.key(0))


def test_d_step_updates_only_d_and_g_step_only_g():
  state = _run(_GAN, 1)[-1]
  x = _batch(3)["x"]
  d_step = jax.jit(functools.partial(steps.d_step, _GAN))
  g_step = jax.jit(functools.partial(steps.g_step, _GAN))

  after_d, d_metrics = d_step(state, x, None, jax.random.key(2))
  assert _trees_differ_everywhere(after_d.d_params, state.d_params)
  _assert_trees_equal(after_d.g_params, state.g_params)
  _assert_trees_equal(after_d.g_opt_state, state.g_opt_state)
  _assert_trees_equal(after_d.ema_params, state.ema_params)
  assert int(after_d.step) == int(state.step)
  assert _adam_count(after_d.d_opt_state) == _adam_count(state.d_opt_state) + 1
  # The D loss is the sum of its parts and the penalty is reported apart.
  np.testing.assert_allclose(d_metrics["d_loss"], d_metrics["d_loss_real"] +
                             d_metrics["d_loss_fake"], rtol=1e-6)
  assert float(d_metrics["penalty"]) > 0.0

  after_g, g_metrics = g_step(state, x, None, jax.random.key(3))
  assert _trees_differ_everywhere(after_g.g_params, state.g_params)
  _assert_trees_equal(after_g.d_params, state.d_params)
  _assert_trees_equal(after_g.d_opt_state, state.d_opt_state)
  assert int(after_g.step) == int(state.step) + 1
  assert _adam_count(after_g.g_opt_state) == _adam_count(state.g_opt_state) + 1
  assert np.isfinite(g_metrics["g_loss"])


def test_train_step_is_traced_once():
  traces = []

  @chex.assert_max_traces(n=1)
  def counted(state, batch, rng):
    traces.append(None)
    return steps.train_step(_GAN, state, batch, rng)

  # Donated as in the training loop.
  train_step = jax.jit(counted, donate_argnums=0)
  state = jax.tree.map(jnp.copy, _initial_state(_GAN))
  rng = jax.random.key(0)
  for i in range(4):
    state, metrics = train_step(state, _batch(i), rng)
  assert len(traces) == 1
  assert int(state.step) == 4
  assert set(metrics) == {"d_loss", "d_loss_real", "d_loss_fake", "penalty",
                          "d_real", "d_fake", "d_total", "d_grad_norm",
                          "g_loss", "g_total", "g_grad_norm", "all_finite"}
  assert bool(metrics["all_finite"])


_JIT_STEP = jax.jit(functools.partial(steps.train_step, _GAN))


def test_lr_scale_scales_both_updates():
  state = _initial_state(_GAN)
  frozen, _ = _JIT_STEP(state.replace(lr_scale=jnp.float32(0)), _batch(0),
                        jax.random.key(0))
  for before, after in ((state.g_params, frozen.g_params),
                        (state.d_params, frozen.d_params)):
    jax.tree.map(np.testing.assert_array_equal, after, before)
  moved, _ = _JIT_STEP(state, _batch(0), jax.random.key(0))
  assert not np.array_equal(jax.tree.leaves(moved.g_params)[0],
                            jax.tree.leaves(state.g_params)[0])


def test_nonfinite_state_is_reported():
  state = _initial_state(_GAN)
  broken = state.replace(d_params=jax.tree.map(lambda p: p * jnp.nan,
                                               state.d_params))
  _, metrics = _JIT_STEP(broken, _batch(0), jax.random.key(0))
  assert not bool(metrics["all_finite"])


def test_ema_copies_then_averages():
  decay, start = _GAN.ema_decay, _GAN.ema_start_step
  states = _run(_GAN, 4)
  # The initial EMA is G's initial weights.
  _assert_trees_equal(states[0].ema_params, states[0].g_params)
  for before, after in zip(states[:-1], states[1:]):
    if int(before.step) < start:
      # G updates 0 .. start - 1: the EMA copies G.
      _assert_trees_equal(after.ema_params, after.g_params)
    else:
      want = jax.tree.map(
          lambda old, new: decay * np.asarray(old, np.float64) +
          (1 - decay) * np.asarray(new, np.float64),
          before.ema_params, after.g_params)
      jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-5,
                                     atol=1e-7), after.ema_params, want)
      assert _trees_differ_everywhere(after.ema_params, after.g_params)
  assert int(states[-1].step) == start + 2  # Two averaged updates checked.


def test_ema_by_half_life_with_ramp_up():
  """stylegan2-ada-pytorch's EMA: decay 0.5^(B / h), h = min(half-life,
  images seen before the update · ramp-up)."""
  gan = dataclasses.replace(_GAN, ema_decay=None, ema_half_life_images=100.0,
                            ema_rampup=0.05)
  old, new = {"w": np.zeros(2, np.float32)}, {"w": np.ones(2, np.float32)}
  for step, half_life in ((0, 0.0), (10, 2.0), (1000, 100.0)):
    decay = 0.0 if not half_life else 0.5 ** (4 / half_life)
    got = steps.ema_update(gan, old, new, jnp.int32(step), batch_size=4)
    np.testing.assert_allclose(got["w"], 1 - decay, rtol=1e-6)
  no_ramp = dataclasses.replace(gan, ema_rampup=None)
  np.testing.assert_allclose(
      steps.ema_update(no_ramp, old, new, jnp.int32(0), 4)["w"],
      1 - 0.5 ** 0.04, rtol=1e-6)
  assert gan.keeps_ema and not dataclasses.replace(
      gan, ema_half_life_images=None).keeps_ema


def test_no_ema():
  gan = _make_gan(ema_decay=None)
  state = jax.eval_shape(lambda: state_lib.create_state(
      gan, jax.random.key(0), (2,), _BATCH))
  assert state.ema_params is None
  assert steps.ema_update(gan, None, {"w": np.ones(2)}, 5) is None


def test_determinism():
  state = _run(_GAN, 2)[-1]
  batch = _batch(11)
  a, metrics_a = _jitted(_GAN)(state, batch, jax.random.key(5))
  b, metrics_b = _jitted(_GAN)(state, batch, jax.random.key(5))
  _assert_trees_equal(a, b)
  _assert_trees_equal(metrics_a, metrics_b)
  # Whole runs from the same initial state and key agree bit for bit.
  _assert_trees_equal(_run(_GAN, 3)[-1], _run(_GAN, 3)[-1])
  # Another key gives other latents, hence other parameters.
  c, _ = _jitted(_GAN)(state, batch, jax.random.key(6))
  assert _trees_differ_everywhere(a.g_params, c.g_params)


def test_make_gan_from_gin(clean_gin):
  gin.parse_config([
      "GAN.generator = @models.mlp.Generator",
      "GAN.discriminator = @models.mlp.Discriminator",
      "GAN.g_optimizer = @generator/optax.adam()",
      "GAN.d_optimizer = @discriminator/optax.adam()",
      "generator/optax.adam.learning_rate = 1e-3",
      "discriminator/optax.adam.learning_rate = 1e-3",
      "models.mlp.Generator.hidden_dims = (8, 8)",
      "models.mlp.Discriminator.hidden_dims = (16,)",
      "models.mlp.Discriminator.num_packed = 2",
      "GAN.loss = @losses.hinge",
      "GAN.penalty = @penalties.wgan_gp",
      "GAN.disc_iters = 2",
      "GAN.z_dim = 3",
  ])
  gan = gan_lib.make_gan(dataset.DataSpec((2,), None, False))
  assert gan.generator.output_shape == (2,)
  assert tuple(gan.generator.hidden_dims) == (8, 8)
  assert gan.discriminator.num_packed == 2
  # gin hands over its wrappers of the registered functions: compare values.
  d_real = np.array([[0.5], [-2.0]], np.float32)
  d_fake = np.array([[1.5], [-0.2]], np.float32)
  np.testing.assert_allclose(gan.loss(d_real, d_fake).d_loss,
                             np.mean([0.5, 3.0]) + np.mean([2.5, 0.8]),
                             rtol=1e-6)
  assert gan.penalty.__name__ == "wgan_gp"
  assert gan.disc_iters == 2 and gan.z_dim == 3
  state = jax.eval_shape(lambda: state_lib.create_state(
      gan, jax.random.key(0), (2,), 4))
  assert state.g_params["Dense_0"]["kernel"].shape == (8, 2)
  # A full step's shapes: D sees packed pairs.
  out_state, metrics = jax.eval_shape(
      lambda s, x: steps.train_step(gan, s, {"x": x}, jax.random.key(0)),
      state, jax.ShapeDtypeStruct((8, 2), np.float32))
  assert out_state.step.shape == () and metrics["g_loss"].shape == ()


@pytest.mark.parametrize("kwargs,match", [
    (dict(prior="cauchy"), "prior"),
    (dict(disc_iters=0), "disc_iters"),
    (dict(ema_decay=1.0), "ema_decay"),
])
def test_make_gan_validation(kwargs, match):
  with pytest.raises(ValueError, match=match):
    gan_lib.make_gan(dataset.DataSpec((2,), None, False),
                     generator=mlp.Generator, discriminator=mlp.Discriminator,
                     g_optimizer=optax.sgd(0.1), d_optimizer=optax.sgd(0.1),
                     **kwargs)


def test_sample_z_priors():
  gan = _make_gan()
  z = np.asarray(gan.sample_z(jax.random.key(0), 4000))
  assert z.shape == (4000, _Z_DIM)
  np.testing.assert_allclose(z.mean(), 0.0, atol=0.05)
  np.testing.assert_allclose(z.std(), 1.0, atol=0.05)
  uniform = gan_lib.GAN(**{**gan.__dict__, "prior": "uniform"})
  u = np.asarray(uniform.sample_z(jax.random.key(0), 4000))
  assert u.min() >= -1.0 and u.max() <= 1.0
  np.testing.assert_allclose(u.std(), np.sqrt(1 / 3), atol=0.02)


def _dot_operand_dtypes(jaxpr) -> list[tuple[str, ...]]:
  """Operand dtypes of every dot_general in `jaxpr` and its sub-jaxprs."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "dot_general":
      found.append(tuple(str(v.aval.dtype) for v in eqn.invars))
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      found.extend(_dot_operand_dtypes(sub))
  return found


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_state():
  gan = dataclasses.replace(_make_gan(), compute_dtype="bfloat16")
  state = _initial_state(_GAN)
  x = jnp.ones((_BATCH, 2))
  jaxpr = jax.make_jaxpr(lambda p: gan.call(
      gan.discriminator, p, state.d_collections, x, train=True))(
          state.d_params)
  dots = _dot_operand_dtypes(jaxpr.jaxpr)
  assert len(dots) == 3  # Two maxout layers and the output layer.
  assert set(dots) == {("bfloat16", "bfloat16")}
  logits, _ = gan.call(gan.discriminator, state.d_params, state.d_collections,
                       x, train=True)
  assert logits.dtype == jnp.float32

  new_state, metrics = jax.jit(functools.partial(steps.train_step, gan))(
      state, _batch(0), jax.random.key(1))
  float_leaves = [leaf for leaf in jax.tree.leaves(new_state)
                  if jnp.issubdtype(leaf.dtype, jnp.floating)]
  assert {leaf.dtype for leaf in float_leaves} == {jnp.dtype(jnp.float32)}
  assert bool(metrics["all_finite"])
  # The same losses as in float32, to bfloat16's precision. (Not the same
  # parameters: Adam's first step is ±lr by the sign of each gradient, and
  # near-zero gradients flip sign.)
  _, want = _jitted(_GAN)(state, _batch(0), jax.random.key(1))
  for name in ("d_loss", "g_loss", "penalty"):
    np.testing.assert_allclose(metrics[name], want[name], rtol=2e-2,
                               err_msg=name)


def test_spectral_norm_iterates_in_float32_under_bfloat16():
  gan = dataclasses.replace(
      _make_gan(), compute_dtype="bfloat16",
      discriminator=mlp.Discriminator(
          hidden_dims=(16, 16), maxout_pieces=2,
          weight_norm=normalizers.SpectralNorm))
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (2,), _BATCH))()
  jaxpr = jax.make_jaxpr(lambda p: gan.call(
      gan.discriminator, p, state.d_collections, jnp.ones((_BATCH, 2)),
      train=True))(state.d_params)
  dots = _dot_operand_dtypes(jaxpr.jaxpr)
  # The layers multiply in bfloat16. The power iterations (u·Wᵀ, v·W and
  # the σ estimate, four products per layer) multiply the float32 u and v
  # with the (bfloat16-rounded) kernel in float32.
  assert dots.count(("bfloat16", "bfloat16")) == 3
  power = [d for d in dots if d != ("bfloat16", "bfloat16")]
  assert len(power) == 3 * 4
  assert all("float32" in dtypes for dtypes in power)


_SGD_LR = 1e-7


def _self_supervised_gan(**kwargs):
  """A tiny conditional DCGAN on 16×16 digits with 20 % of the labels."""
  spec = dataset.DataSpec((16, 16, 1), 10, True, partially_labeled=True)
  return gan_lib.make_gan(**{
      "data_spec": spec,
      "generator": functools.partial(dcgan.Generator, width=4),
      "discriminator": functools.partial(dcgan.Discriminator, width=4),
      "g_optimizer": optax.sgd(_SGD_LR), "d_optimizer": optax.sgd(_SGD_LR),
      "z_dim": 8, "conditional": True, "ema_decay": None,
      "penalty": penalties.r1, **kwargs})


_S3GAN_WEIGHTS = dict(penalty_weight=0.5, terms=[
    terms.LabelPredictor(weight=0.3),
    terms.Rotation(weight_d=0.7, weight_g=0.2, rotated_batch_size=8)])


def _partially_labeled_batch():
  """The first batch of 8 digits, at 20 % labels, with both kinds."""
  data = digits.digits(seed=0, size=16, labeled_fraction=0.2)
  for index in range(len(data) // _BATCH):
    batch = data.batch(index, _BATCH, 0)
    if (batch["label"] == -1).any() and (batch["label"] >= 0).any():
      return batch


def test_self_supervised_losses_add_up_and_are_what_is_minimized():
  """S3GAN with rotation and R1: D minimizes loss + λ·penalty (which
  Compare GAN's S3GAN left out) + w_D·rotation + w_c·class loss, G its loss
  + w_G·rotation; each update descends the reported total."""
  gan = _self_supervised_gan(**_S3GAN_WEIGHTS)
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (16, 16, 1), _BATCH))()
  batch = _partially_labeled_batch()
  rng = jax.random.key(3)
  d_step = jax.jit(functools.partial(steps.d_step, gan))
  after, m = d_step(state, batch["x"], batch["label"], rng)
  assert m["penalty"] > 0 and m["d_rotation_loss"] > 0
  np.testing.assert_allclose(
      m["d_total"], m["d_loss"] + 0.5 * m["penalty"] +
      0.7 * m["d_rotation_loss"] + 0.3 * m["d_class_loss"], rtol=1e-5)
  # SGD: the step is -lr·∇d_total, so d_total falls by ≈ lr·‖∇‖².
  moved = sum(float(jnp.sum((a - b) ** 2)) for a, b in zip(
      jax.tree.leaves(state.d_params), jax.tree.leaves(after.d_params)))
  _, m_after = d_step(after.replace(d_collections=state.d_collections,
                                    g_collections=state.g_collections),
                      batch["x"], batch["label"], rng)
  np.testing.assert_allclose(m["d_total"] - m_after["d_total"],
                             moved / _SGD_LR, rtol=0.05)
  g_step = jax.jit(functools.partial(steps.g_step, gan))
  _, g = g_step(state, batch["x"], batch["label"], rng)
  np.testing.assert_allclose(
      g["g_total"], g["g_loss"] + 0.2 * g["g_rotation_loss"], rtol=1e-5)
  assert "g_class_loss" not in g  # The predictor does not train G.


def test_rotation_only_drops_the_gan_losses_and_the_penalty():
  """As Compare GAN's SSGAN zeroes D's loss after adding λ·penalty."""
  gan = _self_supervised_gan(
      terms=[terms.LabelPredictor(), terms.Rotation()],
      adversarial_weight=0.0, penalty_weight=0.5)
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (16, 16, 1), _BATCH))()
  batch = _partially_labeled_batch()
  _, m = jax.jit(functools.partial(steps.d_step, gan))(
      state, batch["x"], batch["label"], jax.random.key(3))
  assert m["penalty"] > 0
  np.testing.assert_allclose(
      m["d_total"], m["d_rotation_loss"] + m["d_class_loss"], rtol=1e-5)
  _, g = jax.jit(functools.partial(steps.g_step, gan))(
      state, batch["x"], batch["label"], jax.random.key(3))
  np.testing.assert_allclose(g["g_total"], 0.2 * g["g_rotation_loss"],
                             rtol=1e-5)


def test_rotated_copies_go_to_d_with_their_own_labels():
  """D sees [real, real rotated, fake, fake rotated] with the labels of the
  images rotated: a rotated fake keeps its fake label (Compare GAN's SSGAN
  paired rotated fakes with real labels)."""
  gan = _self_supervised_gan(terms=[
      terms.LabelPredictor(), terms.Rotation(rotated_batch_size=8)])
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), (16, 16, 1), _BATCH))()
  seen = []

  def record(next_fun, args, kwargs, context):
    if (isinstance(context.module, dcgan.Discriminator) and
        context.method_name == "__call__"):
      seen.append(args)
    return next_fun(*args, **kwargs)

  real = jnp.asarray(_partially_labeled_batch()["x"])
  fake = -real
  y_real = jax.nn.one_hot(jnp.arange(_BATCH) % 10, 10)
  y_fake = jax.nn.one_hot(jnp.arange(_BATCH) % 3 + 5, 10)
  with nn.intercept_methods(record):
    out, _ = steps._discriminate(gan, state.d_params, state.d_collections,
                                 real, fake, y_real, y_fake, {},
                                 jax.random.key(0))
  (x, y), = seen
  assert x.shape[0] == y.shape[0] == 2 * (_BATCH + 6)
  np.testing.assert_array_equal(x[2 * _BATCH + 6:2 * _BATCH + 8],
                                rotation.rotate(fake[-2:], 1))
  np.testing.assert_array_equal(y[:_BATCH], y_real)
  np.testing.assert_array_equal(y[_BATCH:_BATCH + 6],
                                jnp.tile(y_real[-2:], (3, 1)))
  np.testing.assert_array_equal(y[_BATCH + 6:2 * _BATCH + 6], y_fake)
  np.testing.assert_array_equal(y[-6:], jnp.tile(y_fake[-2:], (3, 1)))
  assert out.d_real.shape == out.d_fake.shape == (_BATCH, 1)
  assert out.heads_real["class_logits"][:_BATCH].shape == (_BATCH, 10)
  assert (out.heads_real["rotation_logits"].shape ==
          out.heads_fake["rotation_logits"].shape == (_BATCH + 6, 4))


def test_gradient_norms_and_learning_rates_are_reported():
  """For TensorBoard: each update's gradient norm, and the learning rate of
  an optimizer that keeps it in its state, times the roll-back scale."""
  gan = dataclasses.replace(
      _GAN, g_optimizer=optax.inject_hyperparams(optax.adam)(
          learning_rate=optax.linear_schedule(0.01, 0.0, 10)),
      d_optimizer=optax.inject_hyperparams(optax.sgd)(learning_rate=0.5))
  state = _initial_state(gan).replace(lr_scale=jnp.float32(0.25))
  state = state.replace(d_opt_state=gan.d_optimizer.init(state.d_params),
                        g_opt_state=gan.g_optimizer.init(state.g_params))
  batch = _batch(0)
  after, metrics = steps.d_step(gan, state, batch["x"], None,
                                jax.random.key(0))
  np.testing.assert_allclose(metrics["d_lr"], 0.5 * 0.25)
  # SGD moved D by lr · lr_scale · gradient.
  moved = optax.tree.norm(jax.tree.map(
      lambda a, b: a - b, state.d_params, after.d_params))
  np.testing.assert_allclose(moved, 0.125 * metrics["d_grad_norm"],
                             rtol=1e-5)
  _, metrics = steps.g_step(gan, after, batch["x"], None, jax.random.key(1))
  np.testing.assert_allclose(metrics["g_lr"], 0.01 * 0.25)
  assert metrics["g_grad_norm"] > 0


@pytest.mark.parametrize("separate", [False, True])
def test_separate_d_calls_keep_the_reals_out_of_the_fakes_statistics(
    separate):
  """The progressive GAN's minibatch standard deviation of a fake must not
  depend on the reals beside it (its code calls D on each separately)."""
  from ganjax.models import pggan  # pylint: disable=g-import-not-at-top
  gan = dataclasses.replace(
      _GAN, discriminator=pggan.Discriminator(fmap_base=16, fmap_max=4),
      separate_d_calls=separate)
  d_vars = gan.discriminator.init(jax.random.key(0),
                                  jnp.zeros((4, 8, 8, 1)), train=False)
  rng = np.random.default_rng(0)
  fake = jnp.asarray(rng.uniform(-1, 1, (4, 8, 8, 1)), jnp.float32)
  fake_logits = []
  for real in (np.zeros((4, 8, 8, 1)), rng.uniform(-1, 1, (4, 8, 8, 1))):
    out, _ = steps._discriminate(gan, d_vars["params"], {},
                                 jnp.asarray(real, jnp.float32), fake,
                                 None, None, {}, jax.random.key(0))
    fake_logits.append(out.d_fake)
  # With separate calls the fakes' logits are those of D on the fakes alone.
  alone = gan.discriminator.apply(d_vars, fake, train=True)
  if separate:
    np.testing.assert_array_equal(fake_logits[0], fake_logits[1])
    np.testing.assert_allclose(fake_logits[0], alone, rtol=1e-6)
  else:  # One call mixes reals and fakes in every group of 4.
    assert np.abs(fake_logits[0] - fake_logits[1]).max() > 1e-3


def test_all_finite_checks_inexact_leaves_only():
  tree = {"a": jnp.ones(3), "b": (jnp.zeros((2, 2)), jnp.int32(7))}
  assert bool(jax.jit(steps.all_finite)(tree))
  for bad in (jnp.nan, jnp.inf, -jnp.inf):
    broken = {**tree, "a": tree["a"].at[1].set(bad)}
    assert not bool(jax.jit(steps.all_finite)(broken))
  assert bool(steps.all_finite({"step": jnp.int32(1)}))
