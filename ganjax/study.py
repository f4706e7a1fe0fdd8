r"""Runs a gin-configured study, then tabulates and plots its results.

  python -m ganjax.study --study=studies/pacgan_ring.gin \
      --workdir=runs/pacgan_ring_study [--worker=0 --num_workers=1]

Each trial is an ordinary run in `<workdir>/trials/<setting>-seed<seed>`
(resume one alone with `ganjax.main --gin_file=<trial>/config.gin`). Re-running
the command skips finished trials and resumes the others; several workers
(processes or hosts sharing the workdir) split the settings between them.
At the end `<workdir>/results.csv` holds one row per trial and the plots are
written beside it (`studies/report.py`); `--aggregate_only` just redraws them.
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
import sys

from absl import app
from absl import flags
from absl import logging

from ganjax import console
from ganjax.run import checkpoint
from ganjax.run import preemption
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.studies import report
from ganjax.studies import runner
from ganjax.studies import spec as spec_lib

_STUDY = flags.DEFINE_string("study", None, "The study's gin file.",
                             required=True)
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Bindings of `study.*`, after the file.")
_WORKDIR = flags.DEFINE_string("workdir", None, "The study's directory.",
                               required=True)
_WORKER = flags.DEFINE_integer("worker", 0, "This worker's index.")
_NUM_WORKERS = flags.DEFINE_integer("num_workers", 1,
                                    "Workers sharing the study.")
_AGGREGATE_ONLY = flags.DEFINE_bool(
    "aggregate_only", False, "Only tabulate and plot the results so far.")


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  checkpoint.quiet_orbax_logs()
  study = spec_lib.load(_STUDY.value, _GIN_BINDINGS.value)
  if not _AGGREGATE_ONLY.value:
    try:
      runner.run(study, _WORKDIR.value, _WORKER.value, _NUM_WORKERS.value)
    except preemption.Preempted as e:
      logging.warning("%s", e)
      sys.exit(e.exit_code)
  for path in report.write(study, _WORKDIR.value):
    console.info("Wrote %s", path)


if __name__ == "__main__":
  console.run(main)
