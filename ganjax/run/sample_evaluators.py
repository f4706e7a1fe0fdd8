"""What a run draws at its sample points: evaluators built once per run.

The data decides the evaluator, once (`for_experiment`): image data get a
sample grid (PNG, TensorBoard image, D's logit histograms, and the strip of
the levels of progressive growing); 2-D data get a scatter plot over the
data, and a Gaussian mixture also its mode coverage (PacGAN's protocol).
The loop only calls the evaluator at its sample points, as big_vision's
loop calls its evaluators.
"""

import os
from typing import Any, Callable

from clu import metric_writers
import jax

from ganjax.core import sampling
from ganjax.metrics import mode_coverage
from ganjax.run import experiment as experiment_lib
from ganjax.run import image_files

# (workdir, step, state, writer, growing_row) -> scores.
SampleEvaluator = Callable[[str, int, Any, metric_writers.MetricWriter, bool],
                           dict[str, float]]


def sample_path(workdir: str, step: int) -> str:
  """Where the samples of step `step` are drawn."""
  return os.path.join(workdir, "samples", f"step_{step:08d}.png")


def _prepare(workdir: str, step: int) -> str:
  path = sample_path(workdir, step)
  if jax.process_index() == 0:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  return path


class SampleGrid:
  """A grid of `num_samples` images (classes in turn for a conditional GAN)
  with histograms of D's logits of reals and of these fakes."""

  def __init__(self, exp: experiment_lib.Experiment, num_samples: int):
    self.exp, self.num_samples = exp, num_samples

  def __call__(self, workdir: str, step: int, state: Any,
               writer: metric_writers.MetricWriter,
               growing_row: bool) -> dict[str, float]:
    """Every process draws (G runs over all devices); process 0 writes. With
    `growing_row` (the end of a level of progressive growing) the first
    samples also become a row of `samples/growing.png`."""
    path = _prepare(workdir, step)
    exp, num = self.exp, self.num_samples
    gan = exp.sampling_gan(state)
    labels = sampling.classes_in_turn(gan, num)
    fake = sampling.draw(gan, state, exp.sample_key, num,
                         state.ema_params is not None, labels)
    images = image_files.to_uint8(fake)
    grid = image_files.image_grid(images)
    if jax.process_index() == 0:
      image_files.save_png(path, grid)
      if growing_row:
        image_files.add_growing_row(workdir, step, images)
    writer.write_images(step, {"samples": grid[None]})
    if exp.schedule is None:  # A growing D judges its level's size only.
      writer.write_histograms(step, sampling.d_logits(
          gan, state, exp.data.batch(0, num, exp.seed), fake, labels))
    return {}


class Scatter:
  """A scatter plot of 2,500 samples over the data, and, for a Gaussian
  mixture (`mixture`: its means and std), the samples' mode coverage."""
  num_points = 2500

  def __init__(self, exp: experiment_lib.Experiment, mixture: Any = None):
    self.exp, self.mixture = exp, mixture

  def __call__(self, workdir: str, step: int, state: Any,
               writer: metric_writers.MetricWriter,
               growing_row: bool) -> dict[str, float]:
    del growing_row  # 2-D data do not grow.
    path = _prepare(workdir, step)
    exp = self.exp
    points = sampling.draw(exp.sampling_gan(state), state, exp.sample_key,
                           self.num_points, state.ema_params is not None)
    scores = {}
    if self.mixture is not None:
      scores = mode_coverage.mode_coverage(points, self.mixture.means,
                                           self.mixture.std)
    title = " ".join(f"{k}={v:.3g}" for k, v in scores.items())
    if jax.process_index() == 0:
      image_files.scatter_png(path, points, exp.data.examples[:self.num_points],
                              f"step {step} {title}")
      writer.write_images(step,
                          {"samples": image_files.figure_to_array(path)[None]})
    return scores


def for_experiment(exp: experiment_lib.Experiment,
                   num_samples: int) -> SampleEvaluator:
  """The sample evaluator of the experiment's data."""
  if exp.data.spec.is_image:
    return SampleGrid(exp, num_samples)
  return Scatter(exp, getattr(exp.data, "mixture", None))
