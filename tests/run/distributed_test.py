"""Tests of multi-host training: two `ganjax.main` processes on localhost.

Each process has 2 simulated CPU devices and reads its half of every batch.
A pair trains until one of its processes gets SIGTERM, and both stop after
the same step with a checkpoint; a fresh pair resumes for 4 more steps; the
result must match one process training as many steps on one device.
"""

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from ganjax.run import distributed
from tests import workdirs

_CONFIG = """\
include "base.gin"
include "datasets/ring.gin"
datasets.ring.num_examples = 512
GAN.generator = @models.mlp.Generator
GAN.discriminator = @models.mlp.Discriminator
GAN.z_dim = 4
GAN.disc_iters = 2
GAN.ema_decay = 0.5
GAN.ema_start_step = 0
models.mlp.Generator.hidden_dims = (16, 16)
models.mlp.Discriminator.hidden_dims = (16,)
models.mlp.Discriminator.maxout_pieces = 2
models.mlp.Discriminator.batch_norm = True
models.mlp.Discriminator.weight_norm = @normalizers.spectral_norm
experiment.batch_size = 16
train.log_every = 20
train.sample_every = 100000
train.checkpoint_every = 20
train.eval_every = 100000
evaluation.num_samples = 2000
"""


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _start(gin_file, workdir, num_steps, num_processes, *bindings):
  """Starts ganjax.main in `num_processes` processes."""
  port = _free_port()
  # The suite's fast-compile XLA flags (tests/xla_settings.py), all alike.
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  if num_processes > 1:
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                        " --xla_force_host_platform_device_count=2")
  processes = []
  for rank in range(num_processes):
    flags = [] if num_processes == 1 else [
        f"--coordinator_address=127.0.0.1:{port}",
        f"--num_processes={num_processes}", f"--process_id={rank}"]
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "ganjax.main", f"--gin_file={gin_file}",
         f"--workdir={workdir}",
         *(f"--gin_bindings={b}" for b in
           [f"train.num_steps = {num_steps}", *bindings]), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env))
  return processes


def _scores(workdir):
  with open(os.path.join(workdir, "scores.csv"), newline="") as f:
    return list(csv.DictReader(f))


def _finish(processes, returncode=0):
  logs = []
  for process in processes:
    out, _ = process.communicate(timeout=300)
    assert process.returncode == returncode, out[-5000:]
    logs.append(out)
  return logs


def _run(gin_file, workdir, num_steps, num_processes):
  """Runs ganjax.main in `num_processes` processes; returns their logs."""
  return _finish(_start(gin_file, workdir, num_steps, num_processes))


def _preempt(gin_file, workdir):
  """Starts a pair that would train for ever; after its first checkpoint,
  SIGTERM goes to process 1 only. Returns the logs."""
  processes = _start(gin_file, workdir, 10**6, 2)
  deadline = time.time() + 240
  while not workdirs.checkpoint_steps(workdir):
    assert time.time() < deadline and all(
        p.poll() is None for p in processes), "no checkpoint was written"
    time.sleep(0.05)
  processes[1].send_signal(signal.SIGTERM)
  return _finish(processes, returncode=128 + signal.SIGTERM)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """A preempted pair, a fresh pair resuming it for 4 more steps, and one
  process training as many steps."""
  root = tmp_path_factory.mktemp("distributed")
  gin_file = root / "ring.gin"
  gin_file.write_text(_CONFIG)
  two, one = str(root / "two_processes"), str(root / "one_process")
  preempted = _preempt(gin_file, two)
  stopped = {re.search(r"Stopped by SIGTERM after step (\d+)", log).group(1)
             for log in preempted}
  stop_step = int(stopped.pop()) if len(stopped) == 1 else None
  assert stop_step, f"the processes stopped after steps {stopped}"
  resumed = _run(gin_file, two, stop_step + 4, 2)
  _run(gin_file, one, stop_step + 4, 1)
  return two, one, stop_step, preempted, resumed


def test_sigterm_to_one_host_stops_both_after_the_same_step(runs):
  two, _, stop_step, preempted, _ = runs
  # Both processes logged the same step (checked by the fixture), and its
  # checkpoint is the last of the preempted pair.
  assert len(preempted) == 2 and stop_step > 0
  assert f"its checkpoint is in {two}" in preempted[0]


def test_two_processes_with_a_restart_match_one_process(runs):
  two, one, stop_step, _, _ = runs
  got, want = workdirs.final_state(two), workdirs.final_state(one)
  assert int(got.step) == int(want.step) == stop_step + 4
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                       atol=1e-5), got, want)


def test_the_processes_saw_four_devices_and_resumed(runs):
  _, _, stop_step, preempted, resumed = runs
  for log in preempted + resumed:
    assert "of 2; 2 local and 4 global devices" in log
  for log in resumed:
    assert f"Resumed from the checkpoint of step {stop_step}" in log


def test_process_zero_writes_the_records(runs):
  two, _, stop_step, _, _ = runs
  last = stop_step + 4
  assert os.listdir(os.path.join(two, "samples")) == [
      f"step_{last:08d}.png"]
  assert os.path.exists(os.path.join(two, "operative_config.gin"))
  assert stop_step in workdirs.checkpoint_steps(two) and workdirs.checkpoint_steps(two)[-1] == last


def test_both_hosts_evaluate_and_process_zero_records_once(runs):
  two, one, stop_step, _, _ = runs
  # The mode coverage of the last step (evaluation at the last step): one
  # row, with the scores of the single-process run's equal state.
  got, want = (_scores(workdir) for workdir in (two, one))
  assert [row["step"] for row in got] == [str(stop_step + 4)]
  assert float(got[0]["modes"]) == float(want[0]["modes"])
  np.testing.assert_allclose(float(got[0]["high_quality"]),
                             float(want[0]["high_quality"]), atol=0.01)


def test_partial_flags_are_an_error():
  with pytest.raises(ValueError, match="needs all of --coordinator_address"):
    distributed.initialize(coordinator_address="127.0.0.1:1234")


def test_a_single_process_is_left_alone(monkeypatch):
  monkeypatch.delenv("JAX_COORDINATOR_ADDRESS", raising=False)
  assert not distributed.initialize()


_SPLIT_WORKER = """
import sys
import jax
import numpy as np
from ganjax.ops import multihost
from ganjax.run import distributed
distributed.initialize(sys.argv[1], 2, int(sys.argv[2]))
items = np.arange(int(sys.argv[3]) * 2, dtype=np.float32).reshape(-1, 2)
seen = []
def square(x):
  seen.append(len(x))
  return {"square": x ** 2, "sum": x.sum(1)}
out = multihost.split_over_processes(square, items)
assert np.array_equal(out["square"], items ** 2), out
assert np.array_equal(out["sum"], items.sum(1)), out
print("computed", seen)
"""


@pytest.mark.parametrize("num_items", [7, 1])
def test_work_split_over_processes_is_gathered_in_order(num_items):
  port = _free_port()
  processes = [subprocess.Popen(
      [sys.executable, "-c", _SPLIT_WORKER, f"127.0.0.1:{port}", str(rank),
       str(num_items)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      text=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
               for rank in range(2)]
  logs = _finish(processes)
  # Each process computed its half (padded to the longer half), not all.
  half = -(-num_items // 2)
  assert all(f"computed [{half}]" in log for log in logs), logs
