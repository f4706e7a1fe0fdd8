"""Workdirs in tests: runs trained in this process, ganjax's commands run
as processes, and reading back the workdirs that runs wrote."""

import os
import subprocess
import sys
from typing import Mapping, Sequence

import gin
import jax

from ganjax.run import config
from ganjax.run import run_dir
from ganjax.run import train

from tests import paths


def train_in_process(workdir: str, gin_files: Sequence[str],
                     bindings: Sequence[str], num_steps: int):
  """`train.train` of the config in `workdir` to step `num_steps`
  (resuming what is there): its final state as host arrays; gin left
  clear."""
  gin.clear_config()
  try:
    config.parse(list(gin_files),
                 [*bindings, f"train.num_steps = {num_steps}"])
    return jax.device_get(train.train(workdir))
  finally:
    gin.clear_config()


def start(module: str, args: Sequence[str],
          env: Mapping[str, str] | None = None) -> subprocess.Popen:
  """`python -m module args` from the repository, on the CPU, with `env`
  added to the environment, started (each such process imports TensorFlow
  through clu: start several at once)."""
  return subprocess.Popen(
      [sys.executable, "-m", module, *args], cwd=paths.REPO,
      env={**os.environ, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3",
           **(env or {})},
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 600
           ) -> tuple[int, str]:
  """(exit code, stdout + stderr) of a `start`ed process."""
  stdout, stderr = process.communicate(timeout=timeout)
  return process.returncode, stdout + stderr


def checkpoint_steps(workdir: str) -> list[int]:
  """The steps of the checkpoint folders in `workdir`, ascending."""
  directory = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(directory):
    return []
  return sorted(int(s) for s in os.listdir(directory) if s.isdigit())


def final_state(workdir: str):
  """The latest train state of `workdir`, as host arrays; gin left clear."""
  gin.clear_config()
  try:
    return jax.device_get(run_dir.load_run(workdir)[1])
  finally:
    gin.clear_config()


def damage_checkpoint(workdir: str, step: int) -> None:
  """Cuts the largest file of the checkpoint of `step` in half, as a crash
  or a full disk after the write would leave it."""
  files = [os.path.join(root, name) for root, _, names in os.walk(
      os.path.join(workdir, "checkpoints", str(step))) for name in names]
  largest = max(files, key=os.path.getsize)
  with open(largest, "r+b") as f:
    f.truncate(os.path.getsize(largest) // 2)
