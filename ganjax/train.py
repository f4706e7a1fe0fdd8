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
import orbax.checkpoint as ocp

from ganjax import checkpoint
from ganjax import config
from ganjax import evaluation
from ganjax import experiment as experiment_lib
from ganjax import guard
from ganjax import partitioning
from ganjax import preemption
from ganjax import run_lock
from ganjax import samples
from ganjax import state as state_lib
from ganjax import steps
from ganjax.data import prefetch
from ganjax.metrics import features
from ganjax.metrics import inception_weights
from ganjax.metrics import mode_coverage


def _mean_metrics(host: list[dict]) -> dict[str, float]:
  return {k: float(np.mean([m[k] for m in host])) for k in host[0]
          if k != "all_finite"}


def _sample_path(workdir: str, step: int) -> str:
  return os.path.join(workdir, "samples", f"step_{step:08d}.png")


def write_samples(workdir: str, step: int, exp: experiment_lib.Experiment,
                  state, writer: metric_writers.MetricWriter,
                  num_samples: int) -> dict[str, float]:
  """Writes a sample grid (images) or a scatter plot (2-D data) as PNG.

  Every process draws (G runs over all devices); process 0 writes. For
  Gaussian-mixture data the mode-coverage metrics of 2,500 samples are
  returned too (PacGAN's protocol).
  """
  path = _sample_path(workdir, step)
  if jax.process_index() == 0:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  use_ema = state.ema_params is not None
  mixture = getattr(exp.data, "mixture", None)
  scores = {}
  if exp.data.spec.is_image:
    images = samples.draw(exp.gan, state, exp.sample_key, num_samples,
                          use_ema)
    grid = samples.image_grid(samples.to_uint8(images))
    if jax.process_index() == 0:
      samples.save_png(path, grid)
    writer.write_images(step, {"samples": grid[None]})
  else:
    points = samples.draw(exp.gan, state, exp.sample_key, 2500, use_ema)
    if mixture is not None:
      scores = mode_coverage.mode_coverage(points, mixture.means, mixture.std)
    title = " ".join(f"{k}={v:.3g}" for k, v in scores.items())
    if jax.process_index() == 0:
      samples.scatter_png(path, points, exp.data.examples[:2500],
                          f"step {step} {title}")
      writer.write_images(step,
                          {"samples": samples.figure_to_array(path)[None]})
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
    override_config: resume even if the workdir's recorded operative config
      differs from this one (`config.check_unchanged`).

  Returns:
    The final train state.

  Raises:
    preemption.Preempted: on SIGTERM/SIGINT, after writing a checkpoint.
    guard.DivergedError: on non-finite values the guard policy gives up on.
  """
  cadence = _Cadence(num_steps, log_every, sample_every, checkpoint_every,
                     eval_every)
  for name, value in cadence._asdict().items():
    if value < 0:
      raise ValueError(f"train.{name} must be >= 0, got {value}.")
  with run_lock.hold(workdir), preemption.StopRequests() as stop:
    exp = experiment_lib.make_experiment()
    part = partitioning.make()
    experiment_lib.check_devices(exp, part.mesh.size)
    policy = guard.Policy()
    # Tracing (not compiling) the init and the step surfaces model and
    # resolution errors now, and records in gin's operative config the
    # losses and penalties the step calls.
    template = part.abstract(jax.eval_shape(exp.init_state))
    jax.eval_shape(functools.partial(steps.train_step, exp.gan), template,
                   exp.batch_shapes(), exp.train_key)
    checkpoints = checkpoint.manager(workdir, max_checkpoints,
                                     keep_checkpoint_every)
    try:
      latest = checkpoints.latest_step()
      if latest is not None:
        config.check_unchanged(workdir, gin.operative_config_str(),
                               override_config)
      checkpoint.check_space(checkpoints, template)
      state = checkpoint.restore_readable(checkpoints, template)
      resumed_step = None if state is None else int(state.step)
      if state is None:
        state = part.init(exp.init_state, template)
      else:
        logging.info("Resumed from the checkpoint of step %d.", resumed_step)
      if jax.process_index() == 0:
        config.write_config(workdir)
        config.write_operative_config(workdir, resumed_step)
      loop = _Loop(workdir, exp, part, template, checkpoints, cadence,
                   num_sample_images, policy, stop)
      loop.catch_up(state)
      return loop.run(state)
    finally:
      checkpoint.finish(checkpoints)


class _Cadence(NamedTuple):
  """When the loop does what, in G steps."""
  num_steps: int
  log_every: int
  sample_every: int
  checkpoint_every: int
  eval_every: int

  def due(self, done: int) -> tuple[bool, bool, bool, bool]:
    """Whether to log, sample, checkpoint and evaluate after step `done`.

    The first three happen at the last step whatever their period;
    evaluation only when asked for (eval_every > 0).
    """
    last = done == self.num_steps
    log, sample, save = (last or bool(every) and done % every == 0 for every
                         in (self.log_every, self.sample_every,
                             self.checkpoint_every))
    evaluate = bool(self.eval_every) and (last or done % self.eval_every == 0)
    return log, sample, save, evaluate


class _Loop:
  """Steps, and at sync points: the divergence check, logs, samples,
  checkpoints, evaluations and stop requests."""

  def __init__(self, workdir: str, exp: experiment_lib.Experiment,
               part: partitioning.Partitioning, template: state_lib.GANState,
               checkpoints: ocp.CheckpointManager, cadence: _Cadence,
               num_sample_images: int, policy: guard.Policy,
               stop: preemption.StopRequests):
    self.workdir, self.exp, self.checkpoints = workdir, exp, checkpoints
    self.part, self.template = part, template
    self.cadence, self.num_sample_images = cadence, num_sample_images
    self.policy, self.stop = policy, stop
    self.writer = metric_writers.create_default_writer(
        workdir, just_logging=jax.process_index() > 0)
    self.report_progress = self._progress()
    self.train_step = part.step(functools.partial(steps.train_step, exp.gan),
                                template)
    self.make_extractor = features.factory()
    if cadence.eval_every and exp.data.spec.is_image:
      inception_weights.locate()  # Fails now, not at the first evaluation.

  def _progress(self) -> periodic_actions.ReportProgress:
    return periodic_actions.ReportProgress(
        num_train_steps=self.cadence.num_steps, writer=self.writer)

  def catch_up(self, state: state_lib.GANState) -> None:
    """Writes the samples and scores due at the resumed step that a stop or
    a kill left undone (both come after its checkpoint)."""
    done = int(state.step)
    if not done:
      return
    _, sample, _, evaluate = self.cadence.due(done)
    if sample and not os.path.exists(_sample_path(self.workdir, done)):
      self._samples(done, state)
    if evaluate and done not in evaluation.evaluated_steps(self.workdir):
      self._evaluate(done, state)

  def run(self, state: state_lib.GANState) -> state_lib.GANState:
    """Trains from `state` to the last step, rolling back on divergence."""
    try:
      while int(state.step) < self.cadence.num_steps:
        state, diverged = self._steps(state)
        if diverged:
          state = self._roll_back(state, diverged)
          self.report_progress = self._progress()  # The step went back.
      return state
    finally:
      self.writer.flush()

  def _steps(self, state: state_lib.GANState
             ) -> tuple[state_lib.GANState, str | None]:
    """Steps until the end or a divergence: (state, where it diverged)."""
    key = guard.train_key(self.exp.train_key, int(state.restores))
    remaining = range(int(state.step), self.cadence.num_steps)
    pending, logged = [], []
    for step, batch in zip(remaining,
                           prefetch.prefetch(self.exp.batch, remaining,
                                             put=self.part.put_batch)):
      state, metrics = self.train_step(state, batch, key)
      done = step + 1
      pending.append((done, metrics))
      self.report_progress(done)
      log, sample, save, evaluate = self.cadence.due(done)
      stop = self.stop.stop_after(done)
      if not (log or sample or save or evaluate or stop):
        continue
      done_steps, host = zip(*jax.device_get(pending))
      pending = []
      diverged = guard.first_nonfinite(done_steps, host)
      if diverged:
        return state, diverged
      logged.extend(host)
      if log:
        self.writer.write_scalars(done, _mean_metrics(logged))
        logged = []
      if save or stop:
        checkpoint.save(self.checkpoints, state)
      if stop:  # Samples and scores wait for catch_up.
        self._stop(state)
      if sample:
        self._samples(done, state)
      if evaluate:
        self._evaluate(done, state)
    return state, None

  def _samples(self, done: int, state: state_lib.GANState) -> None:
    with self.report_progress.timed("samples"):
      scores = write_samples(self.workdir, done, self.exp, state, self.writer,
                             self.num_sample_images)
    if scores:
      self.writer.write_scalars(done, scores)

  def _evaluate(self, done: int, state: state_lib.GANState) -> None:
    with self.report_progress.timed("eval"):
      evaluation.score_and_record(self.workdir, done, self.exp, state,
                                  self.make_extractor, self.writer)

  def _stop(self, state: state_lib.GANState) -> None:
    """Waits for the checkpoint of `state`, then raises Preempted."""
    checkpoint.wait(self.checkpoints)
    raise preemption.Preempted(
        f"Stopped by {self.stop.signal_name} after step {int(state.step)}; "
        f"its checkpoint is in {self.checkpoints.directory}. Run the same "
        "command again to resume.", self.stop.signum)

  def _roll_back(self, state: state_lib.GANState,
                 diverged: str) -> state_lib.GANState:
    """The last checkpoint (or a fresh start) with one more roll-back."""
    restores = int(state.restores)
    checkpoint.wait(self.checkpoints)
    last_good = self.checkpoints.latest_step()
    if self.policy.action == "stop" or restores >= self.policy.max_restores:
      raise guard.DivergedError(guard.report(
          diverged, last_good, str(self.checkpoints.directory), restores))
    restored = checkpoint.restore(self.checkpoints, state)
    if restored is None:
      restored = self.part.init(self.exp.init_state, self.template)
    lr_scale = float(state.lr_scale) * self.policy.lr_factor
    logging.warning(
        "Non-finite values at %s: rolling back to step %d (roll-back %d of "
        "%d), learning rates x%g.", diverged, int(restored.step),
        restores + 1, self.policy.max_restores, lr_scale)
    return restored.replace(restores=jnp.int32(restores + 1),
                            lr_scale=jnp.float32(lr_scale))
