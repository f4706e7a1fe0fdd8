"""Runs a study's trials, each an ordinary run in `<workdir>/trials/<name>`.

A trial's `status` file says "done" or "failed: <why>"; trials with one are
skipped, so re-running a killed study resumes it (an unfinished trial from
its last checkpoint). The seeds of a setting, and the settings that differ
only in the study's `vmap_axes`, train together in one vmapped step
(`train.train(..., bindings=...)`) unless the study says otherwise; if one
of them diverges (or a stop left their checkpoints at different steps) the
group stops and its trials go on one by one, under the divergence guard.
Workers (`worker` of `num_workers` processes, on one host or several sharing
the workdir) take every num_workers-th group.
"""

import os
import tempfile

from absl import logging
import gin

from ganjax.run import config
from ganjax.run import group
from ganjax.run import guard
from ganjax.run import run_lock
from ganjax.run import train
from ganjax.studies import spec as spec_lib

DONE = "done"


def trial_dir(workdir: str, trial: spec_lib.Trial) -> str:
  return os.path.join(workdir, "trials", trial.name)


def status(workdir: str, trial: spec_lib.Trial) -> str | None:
  """"done", "failed: …", or None while the trial has not ended."""
  path = os.path.join(trial_dir(workdir, trial), "status")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return f.read().strip()


def _set_status(workdir: str, trial: spec_lib.Trial, text: str) -> None:
  directory = trial_dir(workdir, trial)
  with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as f:
    f.write(text + "\n")
  os.replace(f.name, os.path.join(directory, "status"))


def _parse(study: spec_lib.Study, trial: spec_lib.Trial) -> None:
  gin.clear_config()
  config.parse(study.gin_files, [*study.bindings, *trial.bindings])


def _train_alone(study: spec_lib.Study, workdir: str,
                 trial: spec_lib.Trial) -> None:
  _parse(study, trial)
  try:
    train.train(trial_dir(workdir, trial))
  except guard.DivergedError as e:
    logging.warning("Trial %s failed: %s", trial.name, e)
    _set_status(workdir, trial, f"failed: {e}")
    return
  _set_status(workdir, trial, DONE)


def _train_together(study: spec_lib.Study, workdir: str,
                    trials: list[spec_lib.Trial]) -> None:
  """The trials (seeds, settings of the vmapped axes) in one vmapped run;
  one by one if it diverges."""
  _parse(study, trials[0])
  try:
    train.train([trial_dir(workdir, t) for t in trials],
                bindings=[t.bindings for t in trials])
  except group.GroupMismatchError as e:
    raise ValueError(f"{e}\nstudy.vmap_axes {study.vmap_axes}: remove the "
                     "axes that change more than that.") from e
  except (group.GroupDivergedError, group.GroupApartError) as e:
    logging.warning("%s\nTraining trials %s one by one.", e,
                    [t.name for t in trials])
    for trial in trials:
      _train_alone(study, workdir, trial)
    return
  for trial in trials:
    _set_status(workdir, trial, DONE)


def run(study: spec_lib.Study, workdir: str, worker: int = 0,
        num_workers: int = 1) -> None:
  """Trains this worker's unfinished trials.

  Raises:
    preemption.Preempted: on SIGTERM/SIGINT, after the current runs'
      checkpoints; re-running resumes.
    config.ConfigChangedError: when a trial's workdir holds a run of another
      config (the study file changed under an existing workdir).
    ValueError: when an axis of `vmap_axes` changes more than the values the
      train step reads from the state.
  """
  if not 0 <= worker < num_workers:
    raise ValueError(f"worker {worker} is not one of {num_workers} workers.")
  try:
    for trials in study.groups()[worker::num_workers]:
      pending = [t for t in trials if status(workdir, t) is None]
      for trial in pending:
        os.makedirs(trial_dir(workdir, trial), exist_ok=True)
      try:
        if len(pending) > 1:
          _train_together(study, workdir, pending)
        else:
          for trial in pending:
            _train_alone(study, workdir, trial)
      except run_lock.WorkdirInUseError as e:
        logging.warning("Skipping trials %s: %s", [t.name for t in group], e)
  finally:
    gin.clear_config()
