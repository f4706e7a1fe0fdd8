"""Progressive growing (Karras et al. 2018): the schedule and a level's step.

Training starts at 4×4 (level 0) and adds one level of detail at a time. A
new level's blocks fade in linearly over `fade_images` real images shown to
D, then train at full weight for `stabilize_images`; the top level trains
until the run ends. Real images are downscaled to the level's resolution and,
while it fades in, blended with their upsampled half-resolution version, as
G's output is. Each level has its batch size and learning-rate multiplier.

The level and the fade are functions of the G step, so the state holds
nothing of growing and a resumed run goes on mid-fade exactly. The train step
is compiled once per level: the fade is traced.
Bind the schedule as `experiment.schedule = @progressive.schedule`, with a
growing model (`models.pggan.*`).
"""

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping

import gin
import jax
import jax.numpy as jnp

from ganjax.core import gan as gan_lib
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.models import blocks
from ganjax.models import pggan


@dataclasses.dataclass(frozen=True)
class Level:
  """One level of detail's part of the run.

  Attributes:
    level: 0 for 4×4, k for 4·2^k pixels a side.
    start: its first G step.
    fade_steps: G steps of its fade-in (0 at level 0).
    batch_size: examples per D update.
    lr_multiplier: multiplies both learning rates.
  """
  level: int
  start: int
  fade_steps: int
  batch_size: int
  lr_multiplier: float

  @property
  def resolution(self) -> int:
    """Pixels a side at this level."""
    return pggan.resolution(self.level)

  def fade(self, step: Any) -> Any:
    """The new level's weight after `step` G steps: rising from 0 at the
    level's start to 1 at the end of its fade-in (traceable)."""
    if not self.fade_steps:
      return jnp.float32(1.0)
    return jnp.clip((step - self.start) / self.fade_steps, 0.0,
                    1.0).astype(jnp.float32)


@dataclasses.dataclass(frozen=True)
class Schedule:
  """The levels of a growing run, in order, and how it resets optimizers."""
  levels: tuple[Level, ...]
  reset_optimizers: bool = True

  def at(self, step: int) -> Level:
    """The level that trains G step `step` (counting from 0)."""
    return [lv for lv in self.levels if lv.start <= step][-1]

  def trained_at(self, done: int) -> tuple[int, float]:
    """(level, fade) of the last of `done` G steps: what the networks last
    trained at (level 0 at full weight before the first step)."""
    last = max(done - 1, 0)
    level = self.at(last)
    return level.level, float(level.fade(last))

  def level_ends(self) -> set[int]:
    """The G steps after which a level is complete (each next one's start)."""
    return {lv.start for lv in self.levels[1:]}

  def examples_before(self, step: int, disc_iters: int) -> int:
    """Real examples drawn before G step `step` (batch sizes vary)."""
    total = 0
    for lv, nxt in zip(self.levels, [*self.levels[1:], None]):
      end = step if nxt is None else min(step, nxt.start)
      total += max(end - lv.start, 0) * lv.batch_size * disc_iters
    return total


@gin.configurable("schedule", module="progressive")
def schedule(resolution: int, batch_size: int,
             stabilize_images: int = 600_000, fade_images: int = 600_000,
             batch_sizes: Mapping[int, int] | None = None,
             lr_multipliers: Mapping[int, float] | None = None,
             reset_optimizers: bool = True, disc_iters: int = 1) -> Schedule:
  """The growing schedule for images of `resolution` pixels a side.

  Args:
    resolution: the data's (top) resolution, a power of two; set by the
      experiment.
    batch_size: the experiment's batch size, for levels not in
      `batch_sizes`; set by the experiment.
    stabilize_images: real images shown to D while a level trains at full
      weight (the top level trains on to the end of the run).
    fade_images: real images shown to D while a new level fades in.
    batch_sizes: resolution → batch size (the paper's minibatch_dict).
    lr_multipliers: resolution → factor on both learning rates (the paper's
      G_lrate_dict / D_lrate_dict over their base rate).
    reset_optimizers: fresh optimizer moments when a level starts to fade in
      and again when it starts to train at full weight, as the paper's code
      does (reset_opt_for_new_lod: whenever floor(lod) or ceil(lod) changes).
    disc_iters: D updates per G step (each draws a batch); set by the
      experiment.

  Returns:
    The schedule.
  """
  batch_sizes, lr_multipliers = dict(batch_sizes or {}), dict(
      lr_multipliers or {})
  top = pggan.num_levels(resolution) - 1
  sides = {pggan.resolution(k) for k in range(top + 1)}
  for name, table in (("batch_sizes", batch_sizes),
                      ("lr_multipliers", lr_multipliers)):
    unknown = set(table) - sides
    if unknown:
      raise ValueError(f"progressive.schedule.{name} has resolutions "
                       f"{sorted(unknown)}; the levels have {sorted(sides)}.")
  levels, start = [], 0
  for k in range(top + 1):
    side = pggan.resolution(k)
    size = batch_sizes.get(side, batch_size)
    per_step = size * disc_iters
    fade = math.ceil(fade_images / per_step) if k else 0
    levels.append(Level(k, start, fade, size, lr_multipliers.get(side, 1.0)))
    start += fade + math.ceil(stabilize_images / per_step)
  return Schedule(tuple(levels), reset_optimizers)


def at_level(gan: gan_lib.GAN, level: int, fade: Any,
             full_size: bool = False) -> gan_lib.GAN:
  """`gan` with G and D at `level` and `fade`; with `full_size`, G's output
  upsampled to the top resolution (sample grids, metrics)."""
  if not (isinstance(gan.generator, pggan.Generator) and
          isinstance(gan.discriminator, pggan.Discriminator)):
    raise ValueError("experiment.schedule (progressive growing) needs a "
                     "growing model: GAN.generator = @models.pggan.Generator "
                     "and GAN.discriminator = @models.pggan.Discriminator.")
  if not gan.separate_d_calls:
    raise ValueError("The progressive GAN's D needs GAN.separate_d_calls = "
                     "True (models/pggan.gin sets it): on concat(real, fake) "
                     "its minibatch standard deviation would mix reals and "
                     "fakes in every group.")
  return dataclasses.replace(
      gan, generator=gan.generator.clone(level=level, fade=fade,
                                         full_size=full_size),
      discriminator=gan.discriminator.clone(fade=fade))


def real_images(x: jax.Array, level: int, fade: Any) -> jax.Array:
  """Full-resolution images at `level`: downscaled by 2×2 averages and,
  mid-fade, (1 − fade)·upsample(downsample(x)) + fade·x."""
  while x.shape[1] > pggan.resolution(level):
    x = blocks.downsample(x)
  if level == 0:
    return x
  coarse = blocks.upsample(blocks.downsample(x), "nearest")
  return pggan.lerp(coarse, x, fade)


def _reset_optimizers(gan: gan_lib.GAN, state: state_lib.GANState,
                      when: jax.Array) -> state_lib.GANState:
  """`state` with new optimizer states (its hyperparameters kept) if
  `when`, else as it is."""
  fresh = state.replace(g_opt_state=gan.g_optimizer.init(state.g_params),
                        d_opt_state=gan.d_optimizer.init(state.d_params)
                        ).with_hyperparams(state.hyperparams)
  pick = lambda new, old: jax.tree.map(
      lambda a, b: jnp.where(when, a, b), new, old)
  return state.replace(
      g_opt_state=pick(fresh.g_opt_state, state.g_opt_state),
      d_opt_state=pick(fresh.d_opt_state, state.d_opt_state))


def train_step(plan: Schedule, level: Level, gan: gan_lib.GAN,
               accumulate_steps: int, state: state_lib.GANState,
               batch: dict[str, jax.Array],
               rng: jax.Array) -> tuple[state_lib.GANState, dict]:
  """`steps.train_step` at `level` (with `accumulate_steps`), the fade
  following the step; with `plan.reset_optimizers`, fresh optimizer states
  at the fade's first step and at the first step at full weight."""
  fade = level.fade(state.step)
  if plan.reset_optimizers and level.level:
    state = _reset_optimizers(gan, state, (state.step == level.start) | (
        state.step == level.start + level.fade_steps))
  staged = state.replace(lr_scale=state.lr_scale * level.lr_multiplier)
  batch = {**batch, "x": real_images(batch["x"], level.level, fade)}
  state_out, metrics = steps.train_step(at_level(gan, level.level, fade),
                                        staged, batch, rng, accumulate_steps)
  state_out = state_out.replace(lr_scale=state.lr_scale)
  return state_out, {**metrics, "fade": fade}


def step_function(plan: Schedule | None, gan: gan_lib.GAN, step: int,
                  accumulate_steps: int = 1
                  ) -> tuple[int, Callable[..., Any]]:
  """(level, its train step (state, batch, rng) → (state, metrics)) for G
  step `step`; without a schedule, level 0 and `steps.train_step`."""
  if plan is None:
    return 0, functools.partial(steps.train_step, gan,
                                accumulate_steps=accumulate_steps)
  level = plan.at(step)
  return level.level, functools.partial(train_step, plan, level, gan,
                                        accumulate_steps)
