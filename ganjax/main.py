r"""Trains a gin-configured GAN.

  python -m ganjax.main --gin_file=experiments/quickstart.gin \
      --workdir=runs/quickstart [--gin_bindings='train.num_steps = 100']

Re-running the same command on the same workdir resumes from its latest
checkpoint. SIGTERM or Ctrl-C writes a checkpoint at the next step and exits
with status 128 + the signal's number; a diverged run, a full disk or a busy
workdir exits with status 1 and a message saying what to do.

Multi-host runs start the same command on every host, adding
--multihost (TPU pods, SLURM, Open MPI) or --coordinator_address,
--num_processes and --process_id (`run/distributed.py`).
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
import sys

from absl import app
from absl import flags
from absl import logging

from ganjax import console
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import distributed
from ganjax.run import guard
from ganjax.run import preemption
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_lock
from ganjax.run import train

_GIN_FILES = flags.DEFINE_multi_string(
    "gin_file", [], "Gin config files, applied in order.")
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Gin bindings, applied after the files.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory.",
                               required=True)
_OVERRIDE_CONFIG = flags.DEFINE_bool(
    "override_config", False,
    "Resume even if the workdir's recorded config differs from this one.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None,
    "Multi-host runs: host:port of process 0's coordinator.")
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, "Multi-host runs: the number of processes.")
_PROCESS_ID = flags.DEFINE_integer(
    "process_id", None, "Multi-host runs: this process's rank.")
_MULTIHOST = flags.DEFINE_bool(
    "multihost", False,
    "Multi-host run on a TPU pod, SLURM or Open MPI: JAX finds the "
    "coordinator and the ranks.")


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  checkpoint.quiet_orbax_logs()
  distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value,
                         _PROCESS_ID.value, _MULTIHOST.value)
  config.parse(_GIN_FILES.value, _GIN_BINDINGS.value)
  try:
    train.train(_WORKDIR.value, override_config=_OVERRIDE_CONFIG.value)
  except preemption.Preempted as e:
    logging.warning("%s", e)
    sys.exit(e.exit_code)


if __name__ == "__main__":
  console.run(main, errors=(guard.DivergedError, run_lock.WorkdirInUseError))
