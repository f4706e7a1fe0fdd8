"""The training loop: steps, and at sync points the divergence check, logs,
samples, checkpoints, evaluations and stop requests. No model math.

The loop trains one run, or several trained together (`group.py`); how
their states, batches and keys are laid out is the `Layout`'s business, so
the loop has one path for both.
"""

from typing import Any, Callable, Protocol, Sequence

from clu import periodic_actions
import jax
import numpy as np

from ganjax.data import prefetch
from ganjax.run import checkpoint
from ganjax.run import guard
from ganjax.run import preemption
from ganjax.run import records
from ganjax.run import settings as settings_lib


class Layout(Protocol):
  """How the loop's runs share a state, a batch and a compiled step."""

  def compile(self, fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """The compiled form of a train step `(state, batch, key)`."""

  def put(self, batch: dict[str, np.ndarray]) -> Any:
    """A host batch on the devices."""

  def combine(self, parts: Sequence[Any]) -> Any:
    """The runs' batches (or keys) as the step takes them."""

  def each(self, tree: Any) -> list[Any]:
    """The runs' parts of a state or of metrics."""

  def on_divergence(self, state: Any, where: str, workdir: str) -> Any:
    """The state to go on from after the run in `workdir` went non-finite
    at `where`, or an error."""


def mean_metrics(host: list[dict]) -> dict[str, float]:
  """Each metric's mean over the host values of several steps."""
  return {k: float(np.mean([m[k] for m in host])) for k in host[0]
          if k != "all_finite"}


class Loop:
  """Trains its runs' state from its step to the last."""

  def __init__(self, runs: list[records.Run], layout: Layout,
               settings: settings_lib.Settings,
               stop: preemption.StopRequests):
    self.runs, self.layout, self.settings = runs, layout, settings
    self.stop = stop
    self.compiled = {}
    self.report_progress = self._progress()

  def _train_step(self, step: int) -> Callable[..., tuple[Any, Any]]:
    """The compiled step of G step `step`, compiled once per level."""
    level, fn = self.runs[0].exp.train_step(step)
    if level not in self.compiled:
      self.compiled[level] = self.layout.compile(fn)
    return self.compiled[level]

  def _progress(self) -> periodic_actions.ReportProgress:
    return periodic_actions.ReportProgress(
        num_train_steps=self.settings.num_steps, writer=self.runs[0].writer)

  def _batch(self, step: int) -> dict:
    return self.layout.combine([run.exp.batch(step) for run in self.runs])

  def _key(self, state: Any) -> jax.Array:
    restores = np.atleast_1d(jax.device_get(state.restores))
    return self.layout.combine([guard.train_key(run.exp.train_key, int(r))
                                for run, r in zip(self.runs, restores)])

  @staticmethod
  def _step(state: Any) -> int:
    """The step of the state (of every run of a stacked one: they move
    together)."""
    return int(np.atleast_1d(jax.device_get(state.step))[0])

  def run(self, state: Any) -> Any:
    """Trains from `state` to the last step, going on from divergences as
    the layout says."""
    while self._step(state) < self.settings.num_steps:
      state, diverged = self._steps(state)
      if diverged:
        state = self.layout.on_divergence(state, *diverged)
        self.report_progress = self._progress()  # The step went back.
    return state

  def _steps(self, state: Any) -> tuple[Any, tuple[str, str] | None]:
    """Steps until the end or a divergence: (state, None or (where it
    diverged, in which workdir))."""
    key = self._key(state)
    remaining = range(self._step(state), self.settings.num_steps)
    pending, logged = [], [[] for _ in self.runs]
    for step, batch in zip(remaining, prefetch.prefetch(
        self._batch, remaining, put=self.layout.put)):
      state, metrics = self._train_step(step)(state, batch, key)
      done = step + 1
      if step == remaining.start:  # Progress lines' rates leave compiling out.
        for run in self.runs:
          run.progress.start(done)
      pending.append((done, metrics))
      self.report_progress(done)
      due = self.settings.due(done, self.runs[0].level_end(done))
      stop = self.stop.stop_after(done)
      if not (any(due) or stop):
        continue
      diverged = self._check(pending, logged)
      pending = []
      if diverged:
        return state, diverged
      logged = self._sync(state, done, due, stop, logged)
    return state, None

  def _check(self, pending: list[tuple[int, Any]],
             logged: list[list[dict]]) -> tuple[str, str] | None:
    """Where and in which workdir the pending steps first went non-finite,
    else None; their host metrics are added to each run's `logged`."""
    done_steps, host = zip(*jax.device_get(pending))
    per_run = zip(*(self.layout.each(m) for m in host))
    for run, run_host, run_logged in zip(self.runs, per_run, logged):
      diverged = guard.first_nonfinite(done_steps, run_host)
      if diverged:
        return diverged, run.workdir
      run_logged.extend(run_host)
    return None

  def _sync(self, state: Any, done: int, due: tuple[bool, ...], stop: bool,
            logged: list[list[dict]]) -> list[list[dict]]:
    """Logs, checkpoints, stops, samples and evaluates as due after step
    `done`; returns the metrics still to log."""
    log, sample, save, evaluate = due
    if log:
      for run, run_logged in zip(self.runs, logged):
        run.writer.write_scalars(done, mean_metrics(run_logged))
      logged = [[] for _ in self.runs]
    parts = self.layout.each(state) if stop or any(due[1:]) else []
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
    return logged

  def _stop(self, done: int) -> None:
    """Waits for the checkpoints of step `done`, then raises Preempted."""
    for run in self.runs:
      checkpoint.wait(run.checkpoints)
    where = ", ".join(str(run.checkpoints.directory) for run in self.runs)
    raise preemption.Preempted(
        f"Stopped by {self.stop.signal_name} after step {done}; its "
        f"checkpoint is in {where}. Run the same command again to resume.",
        self.stop.signum)
