"""One run's records in its workdir: configs, checkpoints, TensorBoard
events, progress lines, samples and scores."""

import glob
import os
from typing import Callable

from clu import metric_writers
import gin
import jax

from ganjax import console
from ganjax.core import state as state_lib
from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import evaluation
from ganjax.run import experiment as experiment_lib
from ganjax.run import sample_evaluators
from ganjax.run import scores_file
from ganjax.run import settings as settings_lib


class Run:
  """One workdir's records. A context manager; leaving it flushes and
  closes them."""

  def __init__(self, workdir: str, exp: experiment_lib.Experiment,
               settings: settings_lib.Settings,
               make_extractor: Callable[[], features.InceptionFeatures],
               progress: bool = True):
    """`progress`: print this run's progress lines."""
    self.workdir, self.exp, self.settings = workdir, exp, settings
    self.make_extractor = make_extractor
    self.sample_evaluator = sample_evaluators.for_experiment(
        exp, settings.num_sample_images)
    self.last_scores = None  # (step, scores) of the latest evaluation.
    self.checkpoints = checkpoint.manager(workdir, settings.max_checkpoints,
                                          settings.keep_checkpoint_every)
    # Progress lines on the console (of one run of a group); everything to
    # TensorBoard from process 0.
    self.progress = console.ProgressWriter(settings.num_steps)
    writers = [self.progress] if progress else []
    if jax.process_index() == 0:
      writers.append(metric_writers.AsyncWriter(
          metric_writers.SummaryWriter(workdir)))
    self.writer = metric_writers.MultiWriter(writers)
    if (settings.eval_every and exp.data.spec.is_image and
        evaluation.needs_inception()):
      inception_weights.locate()  # Fails now, not at the first evaluation.

  def __enter__(self) -> "Run":
    return self

  def __exit__(self, *exc) -> None:
    try:
      self.writer.flush()
    finally:
      checkpoint.finish(self.checkpoints)

  def restore(self, template: state_lib.GANState,
              override_config: bool) -> state_lib.GANState | None:
    """The latest readable checkpoint (None: a fresh start), once the config
    is checked against the recorded one; then records the config."""
    if self.checkpoints.latest_step() is not None:
      config.check_unchanged(self.workdir, gin.operative_config_str(),
                             override_config)
    checkpoint.check_space(self.checkpoints, template)
    state = checkpoint.restore_readable(self.checkpoints, template)
    resumed_step = None if state is None else int(state.step)
    if resumed_step is not None:
      console.info("Resumed from the checkpoint of step %d in %s.",
                   resumed_step, self.workdir)
    console.info("Training %s to step %d (the first step compiles).",
                 self.workdir, self.settings.num_steps)
    if jax.process_index() == 0:
      config.write_config(self.workdir)
      config.write_operative_config(self.workdir, resumed_step)
    # TensorBoard's text tab renders Markdown: a code block keeps the config.
    self.writer.write_texts(resumed_step or 0, {
        "operative_config": "```\n" + gin.operative_config_str() + "```"})
    return state

  def catch_up(self, state: state_lib.GANState) -> None:
    """Writes the samples and scores due at the resumed step that a stop or
    a kill left undone (both come after its checkpoint)."""
    done = int(state.step)
    if not done:
      return
    _, sample, _, evaluate = self.settings.due(done, self.level_end(done))
    if sample and not os.path.exists(
        sample_evaluators.sample_path(self.workdir, done)):
      self.samples(done, state)
    if evaluate and done not in scores_file.steps(self.workdir):
      self.evaluate(done, state)

  def samples(self, done: int, state: state_lib.GANState) -> None:
    growing_row = self.exp.schedule is not None and (
        self.level_end(done) or done == self.settings.num_steps)
    scores = self.sample_evaluator(self.workdir, done, state, self.writer,
                                   growing_row)
    if scores:
      self.writer.write_scalars(done, scores)
      self.last_scores = (done, scores)
      console.info("Mode coverage at step %d: %s", done,
                   console.scores_line(scores))

  def summary(self) -> None:
    """Tells where the run's outputs are and, last, its latest scores."""
    checkpoint.wait(self.checkpoints)
    grids = sorted(glob.glob(os.path.join(self.workdir, "samples",
                                          "step_*.png")))
    console.info("Finished step %d of %s.", self.settings.num_steps,
                 self.workdir)
    if grids:
      console.info("  Samples:     %s", grids[-1])
    console.info("  Checkpoints: %s", self.checkpoints.directory)
    console.info("  TensorBoard: tensorboard --logdir %s", self.workdir)
    if self.last_scores is not None:
      step, scores = self.last_scores
      console.info("  Scores of step %d: %s", step,
                   console.scores_line(scores))

  def level_end(self, done: int) -> bool:
    """Whether step `done` ends a level of progressive growing."""
    return (self.exp.schedule is not None and
            done in self.exp.schedule.level_ends())

  def evaluate(self, done: int, state: state_lib.GANState) -> None:
    scores = evaluation.score_and_record(self.workdir, done, self.exp, state,
                                         self.make_extractor, self.writer)
    self.last_scores = (done, scores)
