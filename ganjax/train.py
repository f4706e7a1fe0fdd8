"""The training loop: steps, logging, samples and checkpoints; no model math."""

import functools
import os
from typing import NamedTuple

from absl import logging
from clu import metric_writers
from clu import periodic_actions
import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax import checkpoint
from ganjax import config
from ganjax import evaluation
from ganjax import experiment as experiment_lib
from ganjax import guard
from ganjax import preemption
from ganjax import run_lock
from ganjax import samples
from ganjax import steps
from ganjax.data import prefetch
from ganjax.metrics import features
from ganjax.metrics import inception_weights
from ganjax.metrics import mode_coverage


def _mean_metrics(host: list[dict]) -> dict[str, float]:
  return {k: float(np.mean([m[k] for m in host])) for k in host[0]
          if k != "all_finite"}


def write_samples(workdir: str, step: int, exp: experiment_lib.Experiment,
                  state, writer: metric_writers.MetricWriter,
                  num_samples: int) -> dict[str, float]:
  """Writes a sample grid (images) or a scatter plot (2-D data) as PNG.

  For Gaussian-mixture data the mode-coverage metrics of 2,500 samples are
  returned too (PacGAN's protocol).
  """
  directory = os.path.join(workdir, "samples")
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, f"step_{step:08d}.png")
  use_ema = state.ema_params is not None
  mixture = getattr(exp.data, "mixture", None)
  scores = {}
  if exp.data.spec.is_image:
    images = samples.draw(exp.gan, state, exp.sample_key, num_samples,
                          use_ema)
    grid = samples.image_grid(samples.to_uint8(images))
    samples.save_png(path, grid)
    writer.write_images(step, {"samples": grid[None]})
  else:
    points = samples.draw(exp.gan, state, exp.sample_key, 2500, use_ema)
    if mixture is not None:
      scores = mode_coverage.mode_coverage(points, mixture.means, mixture.std)
    title = " ".join(f"{k}={v:.3g}" for k, v in scores.items())
    samples.scatter_png(path, points, exp.data.examples[:2500],
                        f"step {step} {title}")
    writer.write_images(step, {"samples": samples.figure_to_array(path)[None]})
  return scores


@gin.configurable("train", denylist=["workdir", "override_config"])
def train(workdir: str, num_steps: int = gin.REQUIRED,
          log_every: int = 100, sample_every: int = 1000,
          checkpoint_every: int = 1000, max_checkpoints: int = 3,
          keep_checkpoint_every: int = 0, num_sample_images: int = 64,
          eval_every: int = 0, override_config: bool = False):
  """Trains the gin-configured experiment in `workdir`, resuming if it can.

  Args:
    workdir: where checkpoints, samples, TensorBoard events and the operative
      config go. One run at a time (`run_lock.py`).
    num_steps: G steps to train for.
    log_every: steps between scalar summaries.
    sample_every: steps between sample grids.
    checkpoint_every: steps between checkpoints (one is written at the end,
      and on SIGTERM/SIGINT).
    max_checkpoints: the latest checkpoints kept.
    keep_checkpoint_every: also keep checkpoints whose step is a multiple of
      this (0: none).
    num_sample_images: images in a sample grid.
    eval_every: steps between evaluations (`evaluation.*` in gin: FID by
      default), whose scores also go to `<workdir>/scores.csv`; 0: none.
    override_config: resume even if the workdir's recorded operative config
      differs from this one (`config.check_unchanged`).

  Returns:
    The final train state.

  Raises:
    preemption.Preempted: on SIGTERM/SIGINT, after writing a checkpoint.
    guard.DivergedError: on non-finite values the guard policy gives up on.
  """
  with run_lock.hold(workdir), preemption.StopRequests() as stop:
    exp = experiment_lib.make_experiment()
    policy = guard.Policy()
    # Tracing the init surfaces model/resolution errors before compiling.
    template = jax.eval_shape(exp.init_state)
    checkpoints = checkpoint.manager(workdir, max_checkpoints,
                                     keep_checkpoint_every)
    try:
      if checkpoints.latest_step() is not None:
        config.check_unchanged(workdir, gin.operative_config_str(),
                               override_config, checkpoints.latest_step())
      checkpoint.check_space(checkpoints, template)
      state = checkpoint.restore_readable(checkpoints, template)
      if state is None:
        state = exp.init_state()
      else:
        logging.info("Resumed from the checkpoint of step %d.",
                     int(state.step))
      config.write_config(workdir)
      config.write_operative_config(workdir)
      cadence = _Cadence(num_steps, log_every, sample_every, checkpoint_every,
                         eval_every if exp.data.spec.is_image else 0)
      return _Loop(workdir, exp, checkpoints, cadence, num_sample_images,
                   policy, stop).run(state)
    finally:
      checkpoint.finish(checkpoints)


class _Cadence(NamedTuple):
  """When the loop does what, in G steps."""
  num_steps: int
  log_every: int
  sample_every: int
  checkpoint_every: int
  eval_every: int

  def due(self, every: int, done: int) -> bool:
    """Whether an action done every `every` steps (0: never) is due after
    step `done`; all are due after the last step."""
    return bool(every) and (done % every == 0 or done == self.num_steps)


class _Loop:
  """Steps, and at sync points: the divergence check, logs, samples,
  checkpoints, evaluations and stop requests."""

  def __init__(self, workdir: str, exp: experiment_lib.Experiment,
               checkpoints, cadence: _Cadence, num_sample_images: int,
               policy: guard.Policy, stop: preemption.StopRequests):
    self.workdir, self.exp, self.checkpoints = workdir, exp, checkpoints
    self.cadence, self.num_sample_images = cadence, num_sample_images
    self.policy, self.stop = policy, stop
    self.writer = metric_writers.create_default_writer(
        workdir, just_logging=jax.process_index() > 0)
    self.report_progress = periodic_actions.ReportProgress(
        num_train_steps=cadence.num_steps, writer=self.writer)
    self.train_step = jax.jit(functools.partial(steps.train_step, exp.gan),
                              donate_argnums=0)
    self.make_extractor = features.factory()
    if cadence.eval_every:
      inception_weights.locate()  # Fails now, not at the first evaluation.

  def run(self, state):
    """Trains from `state` to the last step, rolling back on divergence."""
    try:
      while int(state.step) < self.cadence.num_steps:
        state, diverged = self._steps(state)
        if diverged:
          state = self._roll_back(state, diverged)
      return state
    finally:
      self.writer.flush()

  def _steps(self, state):
    """Steps until the end or a divergence: (state, where it diverged)."""
    key = guard.train_key(self.exp.train_key, int(state.restores))
    remaining = range(int(state.step), self.cadence.num_steps)
    pending, logged = [], []
    for step, batch in zip(remaining,
                           prefetch.prefetch(self.exp.batch, remaining)):
      state, metrics = self.train_step(state, batch, key)
      done = step + 1
      pending.append((done, metrics))
      self.report_progress(done)
      c = self.cadence
      actions = [c.due(every, done) for every in (
          c.log_every, c.sample_every, c.checkpoint_every, c.eval_every)]
      if not (any(actions) or self.stop.requested):
        continue
      done_steps, host = zip(*jax.device_get(pending))
      pending = []
      diverged = guard.first_nonfinite(done_steps, host)
      if diverged:
        return state, diverged
      logged.extend(host)
      log, sample, save, evaluate = actions
      if log:
        self.writer.write_scalars(done, _mean_metrics(logged))
        logged = []
      if self.stop.requested:
        self._stop(state)
      if sample:
        with self.report_progress.timed("samples"):
          scores = write_samples(self.workdir, done, self.exp, state,
                                 self.writer, self.num_sample_images)
        if scores:
          self.writer.write_scalars(done, scores)
      if save:
        checkpoint.save(self.checkpoints, state)
      if evaluate:
        with self.report_progress.timed("eval"):
          evaluation.score_and_record(self.workdir, done, self.exp, state,
                                      self.make_extractor, self.writer)
    return state, None

  def _stop(self, state) -> None:
    if self.checkpoints.latest_step() != int(state.step):
      checkpoint.save(self.checkpoints, state)
    self.checkpoints.wait_until_finished()
    raise preemption.Preempted(
        f"Stopped by {self.stop.signal_name} after step {int(state.step)}; "
        f"its checkpoint is in {self.checkpoints.directory}. Run the same "
        "command again to resume.", self.stop.signum)

  def _roll_back(self, state, diverged: str):
    """The last checkpoint (or a fresh start) with one more roll-back."""
    restores = int(state.restores)
    last_good = self.checkpoints.latest_step()
    if self.policy.action == "stop" or restores >= self.policy.max_restores:
      raise guard.DivergedError(guard.report(
          diverged, last_good, str(self.checkpoints.directory), restores))
    self.checkpoints.wait_until_finished()
    restored = checkpoint.restore(self.checkpoints, state)
    restored = self.exp.init_state() if restored is None else restored
    lr_scale = float(state.lr_scale) * self.policy.lr_factor
    logging.warning(
        "Non-finite values at %s: rolling back to step %d (roll-back %d of "
        "%d), learning rates x%g.", diverged, int(restored.step),
        restores + 1, self.policy.max_restores, lr_scale)
    return restored.replace(restores=jnp.int32(restores + 1),
                            lr_scale=jnp.float32(lr_scale))
