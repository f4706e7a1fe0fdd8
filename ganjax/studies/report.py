"""A study's report: `results.csv` and the plots, in the study's workdir."""

import os

from ganjax import console
from ganjax.studies import plots
from ganjax.studies import results
from ganjax.studies import spec as spec_lib


def write(study: spec_lib.Study, workdir: str) -> list[str]:
  """Writes results.csv and the plots the scores allow; returns their paths."""
  rows = results.collect(study, workdir)
  path = os.path.join(workdir, "results.csv")
  results.write_csv(rows, path)
  counts = {s: sum(r["status"] == s for r in rows)
            for s in ("done", "failed", "pending")}
  console.info("%d trials: %s.", len(rows), counts)
  return [path, *plots.draw_all(rows, study.metric, workdir)]
