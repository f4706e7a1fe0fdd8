"""Joining a multi-host run (`jax.distributed`), before JAX touches devices.

Each host runs the same `python -m ganjax.main` command. On Cloud TPU pods,
SLURM and Open MPI JAX finds the coordinator and the process's rank itself
(`--multihost`); elsewhere (e.g. several GPU machines, or processes on one
machine) they are given as flags or as JAX's environment variables
(JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID). Afterwards
`jax.devices()` lists every host's devices, and the train step, the
checkpoints (orbax) and the sample and evaluation passes run over all of
them; only process 0 writes logs, sample images, scores and configs.
"""

import os

import jax

from ganjax import console

_ENVIRONMENT = "JAX_COORDINATOR_ADDRESS"


def initialize(coordinator_address: str | None = None,
               num_processes: int | None = None,
               process_id: int | None = None,
               multihost: bool = False) -> bool:
  """Connects this process to the others of its run, if it has others.

  Args:
    coordinator_address: "host:port" of process 0's coordinator service.
    num_processes: processes in the run.
    process_id: this process's rank, in [0, num_processes).
    multihost: let JAX detect the cluster (TPU pod, SLURM, Open MPI).

  Returns:
    Whether `jax.distributed.initialize` was called.
  """
  explicit = (coordinator_address, num_processes, process_id)
  if any(v is not None for v in explicit) and None in explicit:
    raise ValueError(
        "A multi-host run needs all of --coordinator_address, "
        "--num_processes and --process_id (or none of them, with "
        "--multihost on a TPU pod, SLURM or Open MPI).")
  if not (multihost or coordinator_address or os.environ.get(_ENVIRONMENT)):
    return False
  jax.distributed.initialize(coordinator_address=coordinator_address,
                             num_processes=num_processes,
                             process_id=process_id)
  console.info("Process %d of %d; %d local and %d global devices.",
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())
  return True


