"""Tests of ganjax.studies.results: the table of a study's trials."""

import csv
import itertools
import os

import numpy as np
import pytest

from ganjax.studies import results
from ganjax.studies import runner
from ganjax.studies import spec


@pytest.mark.parametrize("higher", [False, True])
def test_expected_best_matches_enumerating_every_subset(higher):
  values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
  pick = max if higher else min
  want = [np.mean([pick(c) for c in itertools.combinations(values, k)])
          for k in range(1, len(values) + 1)]
  np.testing.assert_allclose(results.expected_best(values, higher), want)


def _write_scores(directory, rows):
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, "scores.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


def test_rows_hold_final_and_best_scores_and_status(tmp_path):
  study = spec.make_study(gin_files=["base.gin"],
                          grid={"GAN.loss": ["@losses.hinge"]}, seeds=3,
                          metric="fid")
  workdir = str(tmp_path)
  done, failed, _ = study.trials
  # Rows as scores_file.append writes them, gin parameters included,
  # out of step order.
  _write_scores(runner.trial_dir(workdir, done), [
      {"step": 20, "fid": 30.0, "fid_std": 1.0, "GAN.loss": "@hinge"},
      {"step": 10, "fid": 50.0, "fid_std": 2.0, "GAN.loss": "@hinge"},
      {"step": 30, "fid": 35.0, "fid_std": 1.5, "GAN.loss": "@hinge"}])
  runner._set_status(workdir, done, runner.DONE)
  os.makedirs(runner.trial_dir(workdir, failed))
  runner._set_status(workdir, failed, "failed: diverged at step 3")
  rows = results.collect(study, workdir)
  assert rows[0] == {
      "trial": "000-seed0", "setting": 0, "seed": 0, "status": "done",
      "model": "loss=hinge", "GAN.loss": "@losses.hinge", "final_step": 30,
      "final_fid": 35.0, "final_fid_std": 1.5, "best_fid": 30.0,
      "best_step": 20}
  assert rows[1]["status"] == "failed" and "final_fid" not in rows[1]
  assert rows[2]["status"] == "pending"
  path = str(tmp_path / "results.csv")
  results.write_csv(rows, path)
  with open(path, newline="") as f:
    read = list(csv.DictReader(f))
  assert [r["status"] for r in read] == ["done", "failed", "pending"]
  assert read[0]["best_fid"] == "30.0" and read[2]["best_fid"] == ""
