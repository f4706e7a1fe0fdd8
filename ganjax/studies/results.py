"""A study's results: one row per trial, read from the trials' scores.csv.

Each row has the trial, its setting, seed, status, model and axis values,
then the scores of its last evaluation (`final_<score>`) and the best value
of the study's metric over its evaluations (`best_<metric>`, `best_step`).
"""

import csv
import math
from typing import Sequence

import numpy as np

from ganjax.run import scores_file
from ganjax.studies import runner
from ganjax.studies import spec as spec_lib

def collect(study: spec_lib.Study, workdir: str) -> list[dict]:
  """One row per trial (in study order), scores empty where none exist."""
  rows = []
  for trial in study.trials:
    status = runner.status(workdir, trial)
    row = {"trial": trial.name, "setting": trial.setting, "seed": trial.seed,
           "status": "pending" if status is None else status.split(":")[0],
           "model": study.model(trial), **trial.values}
    trial_dir = runner.trial_dir(workdir, trial)
    evaluations = scores_file.rows(trial_dir)
    if evaluations:
      final = evaluations[-1]
      row["final_step"] = int(final["step"])
      row.update({f"final_{k}": v for k, v in final.items() if k != "step"})
      best = scores_file.best(trial_dir, study.metric)
      if best:
        row[f"best_{study.metric}"] = best[study.metric]
        row["best_step"] = int(best["step"])
    rows.append(row)
  return rows


def write_csv(rows: Sequence[dict], path: str) -> None:
  """Writes the rows with the union of their columns, in first-seen order."""
  columns = list(dict.fromkeys(k for row in rows for k in row))
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, columns)
    writer.writeheader()
    writer.writerows(rows)


def expected_best(values: Sequence[float], higher: bool) -> np.ndarray:
  """E[best of k trials drawn without replacement] for k = 1…n.

  Lucic et al.'s budget curves: how good the best model found with a budget
  of k trained models is expected to be. With values sorted best first,
  the best of a random k-subset is value i with probability
  C(n-1-i, k-1) / C(n, k).
  """
  ordered = np.sort(np.asarray(values, np.float64))
  if higher:
    ordered = ordered[::-1]
  n = len(ordered)
  return np.array([
      sum(ordered[i] * math.comb(n - 1 - i, k - 1) for i in range(n - k + 1))
      / math.comb(n, k) for k in range(1, n + 1)])
