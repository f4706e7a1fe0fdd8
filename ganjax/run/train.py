"""Training a gin-configured experiment: one run, or several together.

`train` (gin `train.*`) checks the settings and trains the run in a
workdir, resuming from its latest checkpoint; with `seeds` or `bindings` it
trains several runs together (`group.py`). The loop itself is `loop.py`,
each run's records `records.py`.
"""

import contextlib
import dataclasses
import functools
from typing import Any, Callable, Sequence

from absl import logging
import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax import console
from ganjax.core import state as state_lib
from ganjax.metrics.inception import features
from ganjax.run import checkpoint
from ganjax.run import experiment as experiment_lib
from ganjax.run import group
from ganjax.run import guard
from ganjax.run import loop as loop_lib
from ganjax.run import partitioning
from ganjax.run import preemption
from ganjax.run import records
from ganjax.run import run_lock
from ganjax.run import settings as settings_lib


@gin.configurable("train",
                  denylist=["workdir", "override_config", "seeds", "bindings"])
def train(workdir: str | Sequence[str], num_steps: int = gin.REQUIRED,
          log_every: int = 100, sample_every: int = 1000,
          checkpoint_every: int = 1000, max_checkpoints: int = 3,
          keep_checkpoint_every: int = 0, num_sample_images: int = 64,
          eval_every: int = 0, accumulate_steps: int = 1,
          override_config: bool = False,
          seeds: Sequence[int] | None = None,
          bindings: Sequence[Sequence[str]] | None = None):
  """Trains the gin-configured experiment in `workdir`, resuming if it can.

  Args:
    workdir: where checkpoints, samples, TensorBoard events and the operative
      config go. One run at a time (`run_lock.py`). With `seeds`: one
      workdir per seed.
    num_steps: G steps to train for.
    log_every: steps between scalar summaries (and the last step).
    sample_every: steps between sample grids (and the last step).
    checkpoint_every: steps between checkpoints (and the last step, and on
      SIGTERM/SIGINT). For these three, 0 keeps only the last step's.
    max_checkpoints: the latest checkpoints kept.
    keep_checkpoint_every: also keep checkpoints whose step is a multiple of
      this (0: none).
    num_sample_images: images in a sample grid.
    eval_every: steps between evaluations, and the last step (`evaluation.*`
      in gin: FID by default), whose scores also go to
      `<workdir>/scores.csv`; 0: none.
    accumulate_steps: gradient accumulation: each D and G update runs its
      batch as this many micro-batches (`steps.train_step`), in about that
      many times less activation memory; it must divide
      experiment.batch_size. Free to change when a run resumes.
    override_config: resume even if the workdir's recorded operative config
      differs from this one (`config.check_unchanged`).
    seeds: train one run per seed, all in one vmapped step, each with this
      config but `experiment.seed` = its seed. Single process; no roll-back
      on divergence (group.GroupDivergedError instead).
    bindings: like `seeds`, one run per workdir with these gin bindings
      added to the config, e.g. `["experiment.seed = 1", "LR = 3e-4"]`.
      They may change the seed, the data, and the values the step reads
      from the state (`state.hyperparams`), nothing else.

  Returns:
    The final train state (with `seeds` or `bindings`: a list of them).

  Raises:
    preemption.Preempted: on SIGTERM/SIGINT, after writing a checkpoint.
    guard.DivergedError: on non-finite values the guard policy gives up on
      (with `seeds` or `bindings`, group.GroupDivergedError at the first).
    group.GroupApartError: with `seeds` or `bindings`, when the runs'
      checkpoints are at different steps.
    group.GroupMismatchError: when `bindings` change more than they may.
  """
  settings = settings_lib.Settings(
      num_steps, log_every, sample_every, checkpoint_every, eval_every,
      max_checkpoints, keep_checkpoint_every, num_sample_images,
      accumulate_steps)
  settings.check()
  if seeds is not None:
    if bindings is not None:
      raise ValueError("Give train() seeds or bindings, not both.")
    if len(set(seeds)) != len(seeds):
      raise ValueError(f"Give distinct seeds; got {list(seeds)}.")
    bindings = [[f"experiment.seed = {seed}"] for seed in seeds]
  if bindings is None:
    return _train_one(workdir, settings, override_config)
  return group.train_group(list(workdir), [list(b) for b in bindings],
                           settings, override_config)


def _trace(exp: experiment_lib.Experiment,
           part: partitioning.Partitioning) -> state_lib.GANState:
  """The state's shapes and shardings. Tracing (not compiling) the init and
  the step surfaces model and resolution errors now, and records in gin's
  operative config the losses and penalties the step calls."""
  template = part.abstract(jax.eval_shape(exp.init_state))
  jax.eval_shape(exp.train_step(0)[1], template, exp.batch_shapes(),
                 exp.train_key)
  return template


def _with_config_hyperparams(state: state_lib.GANState,
                             exp: experiment_lib.Experiment,
                             part: partitioning.Partitioning,
                             template: state_lib.GANState
                             ) -> state_lib.GANState:
  """A restored state with the config's hyperparameters, which a resume
  with `override_config` may have changed (e.g. a lower learning rate)."""
  configured = jax.tree.map(np.asarray, state_lib.hyperparams(exp.gan))
  restored = jax.device_get(state.hyperparams)
  if all(jax.tree.leaves(jax.tree.map(np.array_equal, restored,
                                      configured))):
    return state
  console.info("Hyperparameters from the config, not the checkpoint: %s",
               configured)
  return jax.jit(state_lib.GANState.with_hyperparams,
                 out_shardings=part.state(template), donate_argnums=0)(
                     state, configured)


@dataclasses.dataclass
class _One:
  """The layout of one run: a sharded state, the mesh's compiled step, and
  roll-backs to the last checkpoint on divergence (the guard's policy)."""
  run: records.Run
  part: partitioning.Partitioning
  template: state_lib.GANState
  init: Callable[[], state_lib.GANState]
  policy: guard.Policy = dataclasses.field(default_factory=guard.Policy)

  def compile(self, fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    return self.part.step(fn, self.template)

  def put(self, batch: dict[str, np.ndarray]) -> Any:
    return self.part.put_batch(batch)

  def combine(self, parts: Sequence[Any]) -> Any:
    return parts[0]

  def each(self, tree: Any) -> list[Any]:
    return [tree]

  def on_divergence(self, state: state_lib.GANState, where: str,
                    workdir: str) -> state_lib.GANState:
    """The last checkpoint (or a fresh start) with one more roll-back."""
    del workdir  # The run's own.
    run, policy = self.run, self.policy
    restores = int(state.restores)
    checkpoint.wait(run.checkpoints)
    last_good = run.checkpoints.latest_step()
    if policy.action == "stop" or restores >= policy.max_restores:
      raise guard.DivergedError(guard.report(
          where, last_good, str(run.checkpoints.directory), restores))
    restored = checkpoint.restore(run.checkpoints, state)
    if restored is None:
      restored = self.init()
    lr_scale = float(state.lr_scale) * policy.lr_factor
    logging.warning(
        "Non-finite values at %s: rolling back to step %d (roll-back %d of "
        "%d), learning rates x%g.", where, int(restored.step),
        restores + 1, policy.max_restores, lr_scale)
    return restored.replace(restores=jnp.int32(restores + 1),
                            lr_scale=jnp.float32(lr_scale))


def _train_one(workdir: str, settings: settings_lib.Settings,
               override_config: bool) -> state_lib.GANState:
  with contextlib.ExitStack() as stack:
    stack.enter_context(run_lock.hold(workdir))
    stop = stack.enter_context(preemption.StopRequests())
    exp = experiment_lib.make_experiment(
        accumulate_steps=settings.accumulate_steps)
    part = partitioning.make()
    experiment_lib.check_devices(exp, part.mesh.size)
    template = _trace(exp, part)
    run = stack.enter_context(records.Run(workdir, exp, settings,
                                          features.factory()))
    state = run.restore(template, override_config)
    if state is None:
      state = part.init(exp.init_state, template)
    else:
      state = _with_config_hyperparams(state, exp, part, template)
    run.catch_up(state)
    layout = _One(run, part, template,
                  functools.partial(part.init, exp.init_state, template))
    state = loop_lib.Loop([run], layout, settings, stop).run(state)
    run.summary()
    return state
