"""`python -m ganjax.evaluate` end to end on a trained run, with the real FID
Inception weights."""

import csv
import glob
import os
import subprocess
import sys

from ganjax.metrics.inception import weights as inception_weights

from tests import paths
from tests import workdirs

_RUN = [
    f"--gin_file={paths.TESTDATA}/tiny_digits.gin",
    "--gin_bindings=train.num_steps = 3",
    "--gin_bindings=train.checkpoint_every = 1",
]


def _run(module, *args, **env) -> str:
  """Runs `python -m module args`; its stderr."""
  return subprocess.run([sys.executable, "-m", module, *args],
                        cwd=paths.REPO, check=True, capture_output=True,
                        text=True,
                        env={**os.environ, "JAX_PLATFORMS": "cpu",
                             **env}).stderr


def test_every_readable_checkpoint_is_scored(inception_params, tmp_path):
  del inception_params  # Only needs to be present.
  workdir = str(tmp_path / "run")
  _run("ganjax.main", f"--workdir={workdir}", *_RUN)
  workdirs.damage_checkpoint(workdir, 2)
  # The real images' feature cache goes to tmp_path, not ~/.cache.
  log = _run("ganjax.evaluate", f"--workdir={workdir}", "--continuous",
       "--gin_bindings=evaluation.num_samples = 10",
       "--gin_bindings=evaluation.metrics = [@metrics.fid, @metrics.kid]",
       "--gin_bindings=metrics.kid.num_subsets = 2",
       GANJAX_INCEPTION_WEIGHTS=inception_weights.locate(download=False),
       GANJAX_CACHE=str(tmp_path / "cache"))
  with open(os.path.join(workdir, "scores.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  # --continuous stops once the run's last step (3) is scored; the damaged
  # checkpoint is skipped with one warning.
  assert [r["step"] for r in rows] == ["1", "3"]
  assert log.count("The checkpoint of step 2") == 1 and "Skipped it" in log
  assert all(float(r["fid"]) > 0 for r in rows)
  assert rows[0]["dcgan.Generator.width"] == "4"  # As gin writes it.
  assert glob.glob(os.path.join(workdir, "eval", "events.out.tfevents.*"))
