"""Reading back, in tests, the workdirs that `ganjax.main` processes wrote."""

import os

import gin
import jax

from ganjax.run import run_dir


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
