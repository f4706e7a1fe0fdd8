"""The training loop: steps, logging, samples and checkpoints; no model math.

One run trains one state in one workdir. Runs that differ only in their
seed or in hyperparameters the step reads from the state (learning rates and
the optimizers' other numbers, λ: `state.hyperparams`) can be trained
together (`train(..., seeds=...)` or `bindings=...`): their states are
stacked and one compiled step, `jax.vmap` of the train step, updates them
all, while each keeps its own ordinary workdir (checkpoints, samples, scores,
configs), from which it can also go on alone.
"""

import contextlib
import functools
import glob
import os
from typing import Any, Callable, NamedTuple, Sequence

from absl import logging
from clu import metric_writers
from clu import periodic_actions
import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax import console
from ganjax.core import sampling
from ganjax.core import state as state_lib
from ganjax.data import prefetch
from ganjax.metrics import mode_coverage
from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import evaluation
from ganjax.run import experiment as experiment_lib
from ganjax.run import guard
from ganjax.run import image_files
from ganjax.run import partitioning
from ganjax.run import preemption
from ganjax.run import run_lock


def _mean_metrics(host: list[dict]) -> dict[str, float]:
  return {k: float(np.mean([m[k] for m in host])) for k in host[0]
          if k != "all_finite"}


def _sample_path(workdir: str, step: int) -> str:
  return os.path.join(workdir, "samples", f"step_{step:08d}.png")


def write_samples(workdir: str, step: int, exp: experiment_lib.Experiment,
                  state, writer: metric_writers.MetricWriter,
                  num_samples: int, growing_row: bool = False
                  ) -> dict[str, float]:
  """Writes a sample grid (images) or a scatter plot (2-D data) as PNG.

  Every process draws (G runs over all devices); process 0 writes. For
  Gaussian-mixture data the mode-coverage metrics of 2,500 samples are
  returned too (PacGAN's protocol). With `growing_row` (progressive growing,
  at the end of a level) the first samples also become a row of the strip
  of the levels, `samples/growing.png`.
  """
  path = _sample_path(workdir, step)
  if jax.process_index() == 0:
    os.makedirs(os.path.dirname(path), exist_ok=True)
  use_ema = state.ema_params is not None
  gan = exp.sampling_gan(state)
  mixture = getattr(exp.data, "mixture", None)
  scores = {}
  if exp.data.spec.is_image:
    fake_labels = sampling.classes_in_turn(gan, num_samples)
    fake = sampling.draw(gan, state, exp.sample_key, num_samples, use_ema,
                         fake_labels)
    images = image_files.to_uint8(fake)
    grid = image_files.image_grid(images)
    if jax.process_index() == 0:
      image_files.save_png(path, grid)
      if growing_row:
        image_files.add_growing_row(workdir, step, images)
    writer.write_images(step, {"samples": grid[None]})
    if exp.schedule is None:  # A growing D judges its level's size only.
      writer.write_histograms(step, sampling.d_logits(
          gan, state, exp.data.batch(0, num_samples, exp.seed), fake,
          fake_labels))
  else:
    points = sampling.draw(gan, state, exp.sample_key, 2500, use_ema)
    if mixture is not None:
      scores = mode_coverage.mode_coverage(points, mixture.means, mixture.std)
    title = " ".join(f"{k}={v:.3g}" for k, v in scores.items())
    if jax.process_index() == 0:
      image_files.scatter_png(path, points, exp.data.examples[:2500],
                              f"step {step} {title}")
      writer.write_images(step,
                          {"samples": image_files.figure_to_array(path)[None]})
  return scores


class GroupDivergedError(guard.DivergedError):
  """Runs trained together hit non-finite values. Their last checkpoints are
  kept; run them one by one (`train` without `seeds` or `bindings`) to
  resume them under the guard's policy, which can roll a single run back."""


class GroupApartError(RuntimeError):
  """Runs to be trained together resume from different steps; train them
  one by one."""


class GroupMismatchError(ValueError):
  """Runs to be trained together differ in more than the values the step
  reads from the state; train them one by one."""


class _Settings(NamedTuple):
  """The `train.*` settings: when the loop does what, in G steps, and how
  many checkpoints and sample images it keeps."""
  num_steps: int
  log_every: int
  sample_every: int
  checkpoint_every: int
  eval_every: int
  max_checkpoints: int
  keep_checkpoint_every: int
  num_sample_images: int

  def due(self, done: int, level_end: bool = False
          ) -> tuple[bool, bool, bool, bool]:
    """Whether to log, sample, checkpoint and evaluate after step `done`.

    The first three happen at the last step whatever their period, and so at
    the end of a level of progressive growing (`level_end`); evaluation only
    when asked for (eval_every > 0).
    """
    last = done == self.num_steps or level_end
    log, sample, save = (last or bool(every) and done % every == 0 for every
                         in (self.log_every, self.sample_every,
                             self.checkpoint_every))
    evaluate = bool(self.eval_every) and (last or done % self.eval_every == 0)
    return log, sample, save, evaluate


@gin.configurable("train",
                  denylist=["workdir", "override_config", "seeds", "bindings"])
def train(workdir: str | Sequence[str], num_steps: int = gin.REQUIRED,
          log_every: int = 100, sample_every: int = 1000,
          checkpoint_every: int = 1000, max_checkpoints: int = 3,
          keep_checkpoint_every: int = 0, num_sample_images: int = 64,
          eval_every: int = 0, override_config: bool = False,
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
    override_config: resume even if the workdir's recorded operative config
      differs from this one (`config.check_unchanged`).
    seeds: train one run per seed, all in one vmapped step, each with this
      config but `experiment.seed` = its seed. Single process; no roll-back
      on divergence (GroupDivergedError instead).
    bindings: like `seeds`, one run per workdir with these gin bindings
      added to the config, e.g. `["experiment.seed = 1", "LR = 3e-4"]`.
      They may change the seed, the data, and the values the step reads
      from the state (`state.hyperparams`), nothing else.

  Returns:
    The final train state (with `seeds` or `bindings`: a list of them).

  Raises:
    preemption.Preempted: on SIGTERM/SIGINT, after writing a checkpoint.
    guard.DivergedError: on non-finite values the guard policy gives up on
      (with `seeds` or `bindings`, GroupDivergedError at the first).
    GroupApartError: with `seeds` or `bindings`, when the runs' checkpoints
      are at different steps.
    GroupMismatchError: when `bindings` change more than they may.
  """
  settings = _Settings(num_steps, log_every, sample_every, checkpoint_every,
                       eval_every, max_checkpoints, keep_checkpoint_every,
                       num_sample_images)
  for name, value in settings._asdict().items():
    if value < 0:
      raise ValueError(f"train.{name} must be >= 0, got {value}.")
  if seeds is not None:
    if bindings is not None:
      raise ValueError("Give train() seeds or bindings, not both.")
    if len(set(seeds)) != len(seeds):
      raise ValueError(f"Give distinct seeds; got {list(seeds)}.")
    bindings = [[f"experiment.seed = {seed}"] for seed in seeds]
  if bindings is None:
    return _train_one(workdir, settings, override_config)
  return _train_group(list(workdir), [list(b) for b in bindings], settings,
                      override_config)


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


def _train_one(workdir: str, settings: _Settings,
               override_config: bool) -> state_lib.GANState:
  with contextlib.ExitStack() as stack:
    stack.enter_context(run_lock.hold(workdir))
    stop = stack.enter_context(preemption.StopRequests())
    exp = experiment_lib.make_experiment()
    part = partitioning.make()
    experiment_lib.check_devices(exp, part.mesh.size)
    template = _trace(exp, part)
    run = stack.enter_context(_Run(workdir, exp, settings,
                                   features.factory()))
    state = run.restore(template, override_config)
    if state is None:
      state = part.init(exp.init_state, template)
    else:
      state = _with_config_hyperparams(state, exp, part, template)
    run.catch_up(state)
    init = functools.partial(part.init, exp.init_state, template)
    loop = _Loop([run], False, settings, stop,
                 lambda fn: part.step(fn, template), part.put_batch, init)
    state = loop.run(state)
    run.summary()
    return state


# What the runs of a group share besides their computation: the settings of
# the loop, the evaluation and the guard, read from gin outside the step.
_SHARED_CONFIGURABLES = ("train", "evaluation", "guard")


def _shared_settings() -> dict[str, Any]:
  return {name: gin.get_bindings(name) for name in _SHARED_CONFIGURABLES}


def _init_with(exp: experiment_lib.Experiment
               ) -> Callable[[jax.Array, Any], state_lib.GANState]:
  """The init as a function of the key and the hyperparameters."""
  return lambda key, hyperparams: exp.init_state(key).with_hyperparams(
      hyperparams)


def _computation(exp: experiment_lib.Experiment,
                 template: state_lib.GANState) -> list[str]:
  """The init and the train step lowered to StableHLO text, with the key,
  the state and the hyperparameters as inputs: runs with equal texts compute
  the same thing but for those inputs. (Lowered, not jaxprs: lowering drops
  the dead code that building an optimizer leaves.) Tracing the step also
  records it in the operative config."""
  init = jax.jit(_init_with(exp)).lower(exp.init_key,
                                        state_lib.hyperparams(exp.gan))
  step = jax.jit(exp.train_step(0)[1]).lower(template, exp.batch_shapes(),
                                             exp.train_key)
  return [lowered.as_text(debug_info=False) for lowered in (init, step)]


def _train_group(workdirs: list[str], bindings: list[list[str]],
                 settings: _Settings,
                 override_config: bool) -> list[state_lib.GANState]:
  if len(workdirs) != len(bindings):
    raise ValueError(f"Give one workdir per seed (or per list of bindings); "
                     f"got {len(workdirs)} workdirs for {len(bindings)}.")
  if len(set(map(tuple, bindings))) != len(bindings):
    raise ValueError(f"Runs trained together need distinct bindings; got "
                     f"{bindings}.")
  names = [sorted(b.split("=", 1)[0].strip() for b in run) for run in bindings]
  if any(n != names[0] for n in names):
    raise ValueError(
        f"Runs trained together must bind the same names (each run's "
        f"bindings are parsed over the previous run's); got {bindings}.")
  if jax.process_count() > 1:
    raise ValueError("Runs trained together run in a single process; "
                     "spread a study's trials over processes instead.")
  with contextlib.ExitStack() as stack:
    for workdir in workdirs:
      stack.enter_context(run_lock.hold(workdir))
    stop = stack.enter_context(preemption.StopRequests())
    part = partitioning.make()
    make_extractor = features.factory()  # One Inception for all runs.
    shared = _shared_settings()
    runs, states, computation = [], [], None
    for workdir, run_bindings in zip(workdirs, bindings):
      with gin.unlock_config():
        gin.parse_config(run_bindings)
      exp = experiment_lib.make_experiment()
      template = part.abstract(jax.eval_shape(exp.init_state))
      mine = _computation(exp, template)
      if computation is None:
        computation = mine
      elif mine != computation:
        raise GroupMismatchError(
            f"The bindings {run_bindings} of {workdir} change the model, its "
            "init or its train step beyond the values the step reads from "
            "the state (state.hyperparams: the optimizers' numbers and λ), "
            "so it cannot be trained together with "
            f"{bindings[0]}; train them one by one.")
      if _shared_settings() != shared:
        raise GroupMismatchError(
            f"The bindings {run_bindings} of {workdir} change settings the "
            f"runs share ({', '.join(_SHARED_CONFIGURABLES)}.*); train them "
            "one by one.")
      run = stack.enter_context(_Run(workdir, exp, settings, make_extractor,
                                     progress=not runs))
      runs.append(run)
      state = run.restore(template, override_config)
      states.append(None if state is None else state.with_hyperparams(
          state_lib.hyperparams(exp.gan)))

    resumed = [None if s is None else int(s.step) for s in states]
    if len(set(resumed)) > 1:
      raise GroupApartError(
          f"The runs' latest checkpoints are at different steps ({resumed}: "
          "a stop came between their writes), so they cannot go on together; "
          "train them one by one.")
    keys = jnp.stack([run.exp.init_key for run in runs])
    hyperparams = _stack([state_lib.hyperparams(run.exp.gan) for run in runs])
    init = jax.jit(lambda: jax.vmap(_init_with(runs[0].exp))(keys,
                                                             hyperparams))
    state = init() if states[0] is None else _stack(states)
    for i, run in enumerate(runs):
      run.catch_up(_unstack(state, i))
    loop = _Loop(runs, True, settings, stop,
                 lambda fn: jax.jit(jax.vmap(fn), donate_argnums=0),
                 functools.partial(jax.tree.map, jnp.asarray), init)
    state = loop.run(state)
    for run in runs:
      run.summary()
    return [_unstack(state, i) for i in range(len(runs))]


def _stack(trees: list[Any]) -> Any:
  return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _unstack(state: Any, i: int) -> Any:
  return jax.tree.map(lambda x: x[i], state)


class _Run:
  """One workdir's records: configs, checkpoints, metric writer, samples
  and scores. A context manager; leaving it flushes and closes them."""

  def __init__(self, workdir: str, exp: experiment_lib.Experiment,
               settings: _Settings,
               make_extractor: Callable[[], features.InceptionFeatures],
               progress: bool = True):
    """`progress`: print this run's progress lines."""
    self.workdir, self.exp, self.settings = workdir, exp, settings
    self.make_extractor = make_extractor
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

  def __enter__(self) -> "_Run":
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
    if sample and not os.path.exists(_sample_path(self.workdir, done)):
      self.samples(done, state)
    if evaluate and done not in evaluation.evaluated_steps(self.workdir):
      self.evaluate(done, state)

  def samples(self, done: int, state: state_lib.GANState) -> None:
    growing_row = self.exp.schedule is not None and (
        self.level_end(done) or done == self.settings.num_steps)
    scores = write_samples(self.workdir, done, self.exp, state, self.writer,
                           self.settings.num_sample_images, growing_row)
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


class _Loop:
  """Steps, and at sync points: the divergence check, logs, samples,
  checkpoints, evaluations and stop requests, for one run or for several
  trained together (their states stacked along a leading axis)."""

  def __init__(self, runs: list[_Run], stacked: bool, settings: _Settings,
               stop: preemption.StopRequests,
               compile_step: Callable[[Callable[..., Any]],
                                      Callable[..., tuple[Any, Any]]],
               put_batch: Callable[[Any], Any], init: Callable[[], Any]):
    """`compile_step` compiles a train step function: the run's, or each
    level's when growing."""
    self.runs, self.stacked, self.settings = runs, stacked, settings
    self.stop = stop
    self.compile_step, self.put_batch, self.init = (compile_step, put_batch,
                                                    init)
    self.compiled = {}
    self.policy = guard.Policy()
    self.report_progress = self._progress()

  def _train_step(self, step: int) -> Callable[..., tuple[Any, Any]]:
    """The compiled step of G step `step`, compiled once per level."""
    level, fn = self.runs[0].exp.train_step(step)
    if level not in self.compiled:
      self.compiled[level] = self.compile_step(fn)
    return self.compiled[level]

  def _progress(self) -> periodic_actions.ReportProgress:
    return periodic_actions.ReportProgress(
        num_train_steps=self.settings.num_steps, writer=self.runs[0].writer)

  def _each(self, tree: Any) -> list[Any]:
    """The runs' parts of a (stacked) state or metrics."""
    if not self.stacked:
      return [tree]
    return [_unstack(tree, i) for i in range(len(self.runs))]

  def _batch(self, step: int) -> dict:
    batches = [run.exp.batch(step) for run in self.runs]
    if not self.stacked:
      return batches[0]
    return jax.tree.map(lambda *xs: np.stack(xs), *batches)

  def _key(self, state: Any) -> jax.Array:
    restores = np.atleast_1d(jax.device_get(state.restores))
    keys = [guard.train_key(run.exp.train_key, int(r))
            for run, r in zip(self.runs, restores)]
    return jnp.stack(keys) if self.stacked else keys[0]

  @staticmethod
  def _step(state: Any) -> int:
    """The step of the state (of every run of a stacked one: they move
    together)."""
    return int(np.atleast_1d(jax.device_get(state.step))[0])

  def run(self, state: Any) -> Any:
    """Trains from `state` to the last step, rolling back on divergence."""
    while self._step(state) < self.settings.num_steps:
      state, diverged = self._steps(state)
      if diverged:
        state = self._roll_back(state, diverged)
        self.report_progress = self._progress()  # The step went back.
    return state

  def _steps(self, state: Any) -> tuple[Any, str | None]:
    """Steps until the end or a divergence: (state, where it diverged)."""
    key = self._key(state)
    remaining = range(self._step(state), self.settings.num_steps)
    pending = []
    logged = [[] for _ in self.runs]
    for step, batch in zip(remaining, prefetch.prefetch(
        self._batch, remaining, put=self.put_batch)):
      state, metrics = self._train_step(step)(state, batch, key)
      done = step + 1
      if step == remaining.start:  # Progress lines' rates leave compiling out.
        for run in self.runs:
          run.progress.start(done)
      pending.append((done, metrics))
      self.report_progress(done)
      log, sample, save, evaluate = self.settings.due(
          done, self.runs[0].level_end(done))
      stop = self.stop.stop_after(done)
      if not (log or sample or save or evaluate or stop):
        continue
      done_steps, host = zip(*jax.device_get(pending))
      pending = []
      # Each run's metrics of the steps since the last sync point.
      per_run = zip(*(self._each(m) for m in host))
      for run, run_host, run_logged in zip(self.runs, per_run, logged):
        diverged = guard.first_nonfinite(done_steps, run_host)
        if diverged:
          return state, (f"{diverged} in {run.workdir}" if self.stacked
                         else diverged)
        run_logged.extend(run_host)
      if log:
        for run, run_logged in zip(self.runs, logged):
          run.writer.write_scalars(done, _mean_metrics(run_logged))
        logged = [[] for _ in self.runs]
      parts = self._each(state) if save or stop or sample or evaluate else []
      if save or stop:
        for run, part in zip(self.runs, parts):
          checkpoint.save(run.checkpoints, part)
      if stop:  # Samples and scores wait for catch_up.
        self._stop(done)
      if sample:
        with self.report_progress.timed("samples"):
          for run, part in zip(self.runs, parts):
            run.samples(done, part)
      if evaluate:
        with self.report_progress.timed("eval"):
          for run, part in zip(self.runs, parts):
            run.evaluate(done, part)
    return state, None

  def _stop(self, done: int) -> None:
    """Waits for the checkpoints of step `done`, then raises Preempted."""
    for run in self.runs:
      checkpoint.wait(run.checkpoints)
    where = ", ".join(str(run.checkpoints.directory) for run in self.runs)
    raise preemption.Preempted(
        f"Stopped by {self.stop.signal_name} after step {done}; its "
        f"checkpoint is in {where}. Run the same command again to resume.",
        self.stop.signum)

  def _roll_back(self, state: state_lib.GANState,
                 diverged: str) -> state_lib.GANState:
    """The last checkpoint (or a fresh start) with one more roll-back."""
    if self.stacked:
      raise GroupDivergedError(
          f"Non-finite values at {diverged}. Runs trained together do not "
          "roll back: their last checkpoints are kept; train them one by "
          "one to resume them under the guard policy.")
    run = self.runs[0]
    restores = int(state.restores)
    checkpoint.wait(run.checkpoints)
    last_good = run.checkpoints.latest_step()
    if self.policy.action == "stop" or restores >= self.policy.max_restores:
      raise guard.DivergedError(guard.report(
          diverged, last_good, str(run.checkpoints.directory), restores))
    restored = checkpoint.restore(run.checkpoints, state)
    if restored is None:
      restored = self.init()
    lr_scale = float(state.lr_scale) * self.policy.lr_factor
    logging.warning(
        "Non-finite values at %s: rolling back to step %d (roll-back %d of "
        "%d), learning rates x%g.", diverged, int(restored.step),
        restores + 1, self.policy.max_restores, lr_scale)
    return restored.replace(restores=jnp.int32(restores + 1),
                            lr_scale=jnp.float32(lr_scale))
