"""The README's first command, as a newcomer runs it: the quickstart trains
to samples of all ten digits, says what it is doing, and scores itself.

The judge is `metrics.digit_classes` (a classifier of the real digits); the
thresholds are issue 22's: at least 80 % of 1,000 samples drawn with
`python -m ganjax.sample` classified with probability ≥ 0.8, every digit
holding at least 2 % of those, KL from uniform at most 0.1.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from ganjax.metrics import digit_classes

from tests import paths

_COMMAND = ("python -m ganjax.main "
            "--gin_file=experiments/quickstart.gin "
            "--workdir=runs/quickstart")


def _run(args, cwd):
  # As a newcomer runs it: without the suite's fast-compile XLA flags
  # (tests/xla_settings.py), which would slow its 20,000 steps.
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  env.pop("XLA_FLAGS", None)
  result = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stderr


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
  """The quickstart run (its console output) and 1,000 of its samples."""
  workdir = str(tmp_path_factory.mktemp("quickstart"))
  args = _COMMAND.split()[1:-1] + [f"--workdir={workdir}"]
  console = _run(args, paths.REPO)
  out = os.path.join(workdir, "samples.npz")
  _run(["-m", "ganjax.sample", f"--workdir={workdir}", "--num_samples=1000",
        f"--out={out}"], paths.REPO)
  with np.load(out) as f:
    return workdir, console, f["samples"]


def test_the_readme_gives_this_command():
  with open(os.path.join(paths.REPO, "README.md"), encoding="utf-8") as f:
    assert _COMMAND in f.read()


def test_its_samples_hold_all_ten_digits(quickstart):
  _, _, images = quickstart
  scores = digit_classes.digit_classes(images)
  assert scores["digit_confident"] >= 0.8, scores
  assert scores["digit_classes"] == 10, scores
  assert scores["digit_kl"] <= 0.1, scores


def test_the_console_tells_what_happens(quickstart):
  workdir, console, _ = quickstart
  lines = console.strip().splitlines()
  progress = [line for line in lines if re.search(
      r"step \d+/\d+  [\d.]+ steps/s  \d+:\d\d left  d_loss [\d.e+-]+, "
      r"g_loss [\d.e+-]+$", line)]
  assert len(progress) >= 10, console[-3000:]
  # Bulky summaries go to TensorBoard only, as do other libraries' logs.
  assert not re.search(r"Histogram|Got texts|Got images|operative_config",
                       console), console[-3000:]
  assert len(lines) <= len(progress) + 10, console[-3000:]
  tail = "\n".join(lines[-5:])
  for where in ("Samples:", "Checkpoints:", "TensorBoard: tensorboard "
                f"--logdir {workdir}"):
    assert where in tail, tail
  # The last line is the judge's verdict on the final step.
  assert re.search(r"Scores of step \d+: digit_confident [\d.]+, "
                   r"digit_classes 10, digit_kl [\d.e-]+$", lines[-1]), tail
