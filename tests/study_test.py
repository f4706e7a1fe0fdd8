"""The study contract end to end: `ganjax.study` trains a tiny study (2 losses
x 2 seeds, the seeds vmapped), is killed, resumes, tabulates and plots."""

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from ganjax.studies import report
from ganjax.studies import runner
from ganjax.studies import spec

from tests import paths

_STUDY = os.path.join(paths.TESTDATA, "tiny_study.gin")


def _mtimes(directory):
  return {os.path.join(root, name): os.stat(os.path.join(root, name)).st_mtime
          for root, _, names in os.walk(directory) for name in names}


def test_killed_study_resumes_then_tabulates_and_plots(tmp_path, clean_gin):
  workdir = str(tmp_path)
  study = spec.load(_STUDY, [])
  first, second = study.groups()
  env = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
  process = subprocess.Popen(
      [sys.executable, "-m", "ganjax.study", f"--study={_STUDY}",
       f"--workdir={workdir}"], cwd=paths.REPO, env=env,
      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  try:
    deadline = time.time() + 300
    while runner.status(workdir, first[-1]) is None:
      assert process.poll() is None, process.stderr.read()
      assert time.time() < deadline, "the first setting never finished"
      time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
  finally:
    process.kill()
  assert all(runner.status(workdir, t) == "done" for t in first)
  assert all(runner.status(workdir, t) is None for t in second)
  finished = _mtimes(runner.trial_dir(workdir, first[0]))

  runner.run(study, workdir)
  written = report.write(study, workdir)

  # The finished trials were skipped, not trained again.
  assert _mtimes(runner.trial_dir(workdir, first[0])) == finished
  with open(os.path.join(workdir, "results.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  assert [r["trial"] for r in rows] == [t.name for t in study.trials]
  assert {r["status"] for r in rows} == {"done"}
  assert {r["model"] for r in rows} == {"loss=non_saturating", "loss=hinge"}
  for row in rows:
    assert row["final_step"] == "40"
    assert 0 <= float(row["final_modes"]) <= 8
    assert row["best_modes"] != ""
  assert sorted(os.path.basename(p) for p in written) == [
      "budget.png", "distribution.png", "results.csv"]
  for trial in study.trials:
    directory = runner.trial_dir(workdir, trial)
    with open(os.path.join(directory, "operative_config.gin")) as f:
      assert f"experiment.seed = {trial.seed}" in f.read()
    assert sorted(os.listdir(os.path.join(directory, "checkpoints"))) == [
        "20", "40"]


def test_workers_split_the_settings(tmp_path, clean_gin, monkeypatch):
  study = spec.load(_STUDY, [])
  trained = []
  monkeypatch.setattr(runner.train, "train",
                      lambda workdir, bindings=None: trained.append(workdir))
  runner.run(study, str(tmp_path), worker=1, num_workers=2)
  # The second setting's seeds, together.
  assert [[os.path.basename(w) for w in ws] for ws in trained] == [
      ["001-seed0", "001-seed1"]]
  with pytest.raises(ValueError, match="worker 2 is not one of 2"):
    runner.run(study, str(tmp_path), worker=2, num_workers=2)


def test_a_group_that_cannot_go_on_together_goes_on_alone(tmp_path, clean_gin,
                                                           monkeypatch):
  study = spec.load(_STUDY, [])
  calls = []

  def fake_train(workdir, bindings=None):
    calls.append("together" if bindings else os.path.basename(workdir))
    if bindings:
      assert bindings == [t.bindings for t in study.groups()[0]]
      raise runner.group.GroupApartError("apart")

  monkeypatch.setattr(runner.train, "train", fake_train)
  runner.run(study, str(tmp_path), worker=0, num_workers=2)
  assert calls == ["together", "000-seed0", "000-seed1"]
  assert [runner.status(str(tmp_path), t) for t in study.groups()[0]] == [
      "done", "done"]


def test_a_vmapped_axis_that_changes_the_step_is_refused(tmp_path, clean_gin,
                                                         monkeypatch):
  study = spec.load(_STUDY, ["study.vmap_axes = ['GAN.loss']"])
  assert len(study.groups()) == 1

  def fake_train(workdir, bindings=None):
    raise runner.group.GroupMismatchError("the step differs")

  monkeypatch.setattr(runner.train, "train", fake_train)
  with pytest.raises(ValueError, match=r"the step differs\nstudy.vmap_axes "
                     r"\['GAN.loss'\]: remove the axes"):
    runner.run(study, str(tmp_path))
