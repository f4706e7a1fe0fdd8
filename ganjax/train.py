"""The training loop: steps, logging, samples and checkpoints; no model math."""

import functools
import os

from absl import logging
from clu import metric_writers
from clu import periodic_actions
import gin
import jax
import numpy as np

from ganjax import checkpoint
from ganjax import config
from ganjax import evaluation
from ganjax import experiment as experiment_lib
from ganjax import samples
from ganjax import steps
from ganjax.data import prefetch
from ganjax.metrics import features
from ganjax.metrics import inception_weights
from ganjax.metrics import mode_coverage


def _mean_metrics(buffer: list[dict]) -> dict[str, float]:
  host = jax.device_get(buffer)
  return {k: float(np.mean([m[k] for m in host])) for k in host[0]}


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


@gin.configurable("train", denylist=["workdir"])
def train(workdir: str, num_steps: int = gin.REQUIRED,
          log_every: int = 100, sample_every: int = 1000,
          checkpoint_every: int = 1000, max_checkpoints: int = 3,
          num_sample_images: int = 64, eval_every: int = 0):
  """Trains the gin-configured experiment in `workdir`, resuming if it can.

  Args:
    workdir: where checkpoints, samples, TensorBoard events and the operative
      config go.
    num_steps: G steps to train for.
    log_every: steps between scalar summaries.
    sample_every: steps between sample grids.
    checkpoint_every: steps between checkpoints (one is written at the end).
    max_checkpoints: checkpoints kept.
    num_sample_images: images in a sample grid.
    eval_every: steps between evaluations (`evaluation.*` in gin: FID by
      default), whose scores also go to `<workdir>/scores.csv`; 0: none.

  Returns:
    The final train state.
  """
  exp = experiment_lib.make_experiment()
  checkpoints = checkpoint.manager(workdir, max_checkpoints)
  # Resuming needs only the state's shapes: initialize only for a new run.
  state = checkpoint.restore(checkpoints, jax.eval_shape(exp.init_state))
  if state is None:
    state = exp.init_state()
  else:
    logging.info("Resumed from the checkpoint of step %d.", int(state.step))
  config.write_operative_config(workdir)

  writer = metric_writers.create_default_writer(
      workdir, just_logging=jax.process_index() > 0)
  report_progress = periodic_actions.ReportProgress(
      num_train_steps=num_steps, writer=writer)
  train_step = jax.jit(functools.partial(steps.train_step, exp.gan),
                       donate_argnums=0)
  make_extractor = features.factory()
  if eval_every and exp.data.spec.is_image:
    inception_weights.locate()  # Fails now, not at the first evaluation.
  buffer = []
  remaining = range(int(state.step), num_steps)
  for step, batch in zip(remaining, prefetch.prefetch(exp.batch, remaining)):
    state, metrics = train_step(state, batch, exp.train_key)
    buffer.append(metrics)
    done = step + 1
    report_progress(done)
    is_last = done == num_steps
    if done % log_every == 0 or is_last:
      writer.write_scalars(done, _mean_metrics(buffer))
      buffer = []
    if done % sample_every == 0 or is_last:
      with report_progress.timed("samples"):
        scores = write_samples(workdir, done, exp, state, writer,
                               num_sample_images)
      if scores:
        writer.write_scalars(done, scores)
    if done % checkpoint_every == 0 or is_last:
      checkpoint.save(checkpoints, state)
    if eval_every and (done % eval_every == 0 or is_last):
      with report_progress.timed("eval"):
        evaluation.score_and_record(workdir, done, exp, state,
                                    make_extractor, writer)
  checkpoints.wait_until_finished()
  checkpoints.close()
  writer.flush()
  return state
