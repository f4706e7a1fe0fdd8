"""A run's `scores.csv`: one row per evaluation (the step, its scores, the
protocol they were measured with, then the run's gin parameters), written
by the training loop and `ganjax.evaluate`, read by studies and by the
commands' `--step=best`."""

import csv
import fcntl
import os
import tempfile

import gin

from ganjax import console
from ganjax.metrics import suite
from ganjax.run import config

Scores = dict[str, float]


def _path(workdir: str) -> str:
  return os.path.join(workdir, "scores.csv")


def steps(workdir: str) -> set[int]:
  """Steps that already have a row in `<workdir>/scores.csv`."""
  if not os.path.exists(_path(workdir)):
    return set()
  with open(_path(workdir), newline="") as f:
    return {int(row["step"]) for row in csv.DictReader(f)}


def rows(workdir: str) -> list[Scores]:
  """The run's rows, by step: the step and scores as numbers, without the
  protocol and gin parameters (the columns with a dotted name)."""
  if not os.path.exists(_path(workdir)):
    return []
  with open(_path(workdir), newline="") as f:
    read = list(csv.DictReader(f))
  return sorted(({k: float(v) for k, v in row.items() if "." not in k and v}
                 for row in read), key=lambda r: r["step"])


def best(workdir: str, metric: str) -> Scores | None:
  """The row with the best `metric` (`suite.higher_is_better` says which
  way), or None where no row has it."""
  scored = [row for row in rows(workdir) if metric in row]
  if not scored:
    return None
  pick = max if suite.higher_is_better(metric) else min
  return pick(scored, key=lambda row: row[metric])


def gin_parameters(workdir: str) -> dict[str, str]:
  """The run's gin bindings: its operative config (defaults included), then
  what is parsed now (the run's config.gin, which the training loop and
  `ganjax.evaluate` both parse, and an evaluation's own bindings)."""
  params = {}
  path = os.path.join(workdir, "operative_config.gin")
  if os.path.exists(path):
    with open(path) as f:
      params.update(config.bindings(f.read()))
  params.update(config.bindings(gin.config_str()))
  return params


def append(workdir: str, step: int, scores: Scores,
           protocol: dict[str, str] | None = None) -> None:
  """Adds a row to scores.csv: the step, the scores, `protocol`
  (`evaluation.protocol`: "protocol.*" columns), then the run's gin
  parameters.

  A row whose columns differ from the file's header rewrites the file with
  the union of both, so adding a metric later keeps the old rows. The file
  is replaced atomically, under a lock, so that the training loop and
  `ganjax.evaluate` may write to one workdir.
  """
  path = _path(workdir)
  row = {"step": step, **scores, **(protocol or {}),
         **gin_parameters(workdir)}
  with open(path + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    old = []
    if os.path.exists(path):
      with open(path, newline="") as f:
        old = list(csv.DictReader(f))
    written = [*old, row]
    columns = list(dict.fromkeys(k for r in written for k in r))
    with tempfile.NamedTemporaryFile("w", dir=workdir, suffix=".csv",
                                     newline="", delete=False) as f:
      writer = csv.DictWriter(f, columns)
      writer.writeheader()
      writer.writerows(written)
    os.replace(f.name, path)
  console.info("Scores of step %d: %s", step, console.scores_line(scores))
