"""A training run's directory: its experiment, rebuilt from config.gin, and its
checkpoints, for the commands that read runs (sample, evaluate)."""

import os
from typing import Sequence

import gin
import jax

from ganjax import checkpoint
from ganjax import config
from ganjax import experiment as experiment_lib
from ganjax import partitioning
from ganjax import state as state_lib


def load_experiment(workdir: str, gin_files: Sequence[str] = (),
                    gin_bindings: Sequence[str] = ()
                    ) -> experiment_lib.Experiment:
  """The experiment of a run directory, rebuilt from its config.gin.

  `gin_files` and `gin_bindings` are parsed after it (e.g. evaluation
  settings).
  """
  config_path = os.path.join(workdir, "config.gin")
  if not os.path.exists(config_path):
    raise FileNotFoundError(f"{config_path} not found: {workdir!r} is not a "
                            "ganjax run directory (train one with "
                            "python -m ganjax.main).")
  config.parse([config_path, *gin_files], gin_bindings)
  return experiment_lib.make_experiment()


def load_run(workdir: str) -> tuple[experiment_lib.Experiment,
                                     state_lib.GANState]:
  """The experiment and latest train state of a run directory.

  The state is restored replicated onto this machine's devices, whatever
  the devices and hosts that wrote it.
  """
  exp = load_experiment(workdir)
  template = partitioning.make(fsdp=1).abstract(
      jax.eval_shape(exp.init_state))
  manager = checkpoint.manager(workdir, create=False)
  try:
    state = checkpoint.restore(manager, template)
  finally:
    manager.close()
  if state is None:
    raise FileNotFoundError(f"No checkpoint in {workdir}/checkpoints; the run "
                            "has not saved one yet.")
  return exp, state


def num_steps() -> int:
  """The parsed run config's `train.num_steps`: the run's last step."""
  return gin.query_parameter("train.num_steps")
