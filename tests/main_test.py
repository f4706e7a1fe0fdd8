"""Tests of `python -m ganjax.main` as a process: killed, stopped, resumed.

The run is a tiny MLP GAN on the ring, 300 steps with a checkpoint every 10,
so that signals land while it trains (and sometimes while it writes).
"""

import os
import random
import signal
import time

import jax
import numpy as np
import pytest

from ganjax.run import run_lock
from tests import workdirs

_NUM_STEPS = 300
_CONFIG = """\
include "base.gin"
include "datasets/ring.gin"
datasets.ring.num_examples = 1000
GAN.generator = @models.mlp.Generator
GAN.discriminator = @models.mlp.Discriminator
GAN.z_dim = 2
models.mlp.Generator.hidden_dims = (16, 16)
models.mlp.Discriminator.hidden_dims = (16,)
experiment.batch_size = 16
GAN.ema_decay = 0.5
train.num_steps = 300
train.log_every = 10
train.sample_every = 100000
train.checkpoint_every = 10
"""


@pytest.fixture(scope="module")
def gin_file(tmp_path_factory):
  path = tmp_path_factory.mktemp("config") / "ring.gin"
  path.write_text(_CONFIG)
  return str(path)


def _start(gin_file, workdir, *bindings):
  return workdirs.start("ganjax.main", [
      f"--gin_file={gin_file}", f"--workdir={workdir}",
      *(f"--gin_bindings={binding}" for binding in bindings)])


def _finish(process):
  return workdirs.finish(process, timeout=300)


def _latest_checkpoint(workdir):
  return max(workdirs.checkpoint_steps(workdir), default=None)


def _wait_for_checkpoint(process, workdir, step):
  while (_latest_checkpoint(workdir) or 0) < step:
    assert process.poll() is None, _finish(process)[1][-3000:]
    time.sleep(0.02)


@pytest.fixture(scope="module")
def uninterrupted(gin_file, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("uninterrupted"))
  code, log = _finish(_start(gin_file, workdir))
  assert code == 0, log[-3000:]
  return workdirs.final_state(workdir)


def _assert_same(got, want):
  assert int(got.step) == _NUM_STEPS
  assert jax.tree.structure(got) == jax.tree.structure(want)
  jax.tree.map(np.testing.assert_array_equal, got, want)


def _stop(process, workdir, target, rng, signum):
  """Sends `signum` a moment after checkpoint `target` appears."""
  _wait_for_checkpoint(process, workdir, target)
  time.sleep(rng.uniform(0.0, 0.3))  # Mid-step, or mid-write.
  process.send_signal(signum)
  return _finish(process)


def test_killed_and_stopped_runs_resume_bit_identically(gin_file,
                                                        uninterrupted,
                                                        tmp_path):
  """SIGKILL, SIGTERM, SIGKILL at random points, then a run to the end."""
  workdir = str(tmp_path)
  rng = random.Random(0)
  targets = sorted(rng.sample(range(20, _NUM_STEPS - 40, 10), 3))
  for target, signum in zip(targets, (signal.SIGKILL, signal.SIGTERM,
                                      signal.SIGKILL)):
    code, log = _stop(_start(gin_file, workdir), workdir, target, rng, signum)
    if signum == signal.SIGKILL:
      assert code == -signal.SIGKILL
    else:
      assert code == 128 + signal.SIGTERM, log[-3000:]
      assert "Traceback" not in log
      stopped = [line for line in log.splitlines()
                 if "Stopped by SIGTERM" in line]
      assert len(stopped) == 1 and "Run the same command again" in stopped[0]
      step = int(stopped[0].split("after step ")[1].split(";")[0])
      assert _latest_checkpoint(workdir) == step
    assert _latest_checkpoint(workdir) < _NUM_STEPS
  code, log = _finish(_start(gin_file, workdir))
  assert code == 0, log[-3000:]
  assert "Resumed from the checkpoint of step" in log
  _assert_same(workdirs.final_state(workdir), uninterrupted)


def test_busy_workdir_exits_with_a_message(gin_file, tmp_path):
  workdir = str(tmp_path)
  with run_lock.hold(workdir):
    code, log = _finish(_start(gin_file, workdir))
  assert code == 1
  assert f"is in use by another training run (pid {os.getpid()}" in log
  assert "Traceback" not in log
