r"""Evaluates a run's checkpoints, as Compare GAN's continuous_eval did.

  python -m ganjax.evaluate --workdir=DIR [--continuous] \
      [--gin_file=eval/compare_gan.gin] \
      [--gin_bindings='evaluation.num_samples = 10000'] \
      [--inception_weights=FILE] [--step=N|best [--metric=fid]]

Every checkpoint without a row in `<workdir>/scores.csv` is evaluated
(`run/evaluation.py` says what is measured), unreadable ones skipped with a
warning; with --continuous the command then waits for new checkpoints until
the run's last step is scored or none has come for --timeout_minutes.
--step evaluates that one checkpoint, scored or not (e.g. the best one again
with more samples). Scores go to scores.csv (with the run's gin parameters)
and to TensorBoard under `<workdir>/eval`.
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
import os
import time

from absl import app
from absl import flags
from clu import metric_writers

from ganjax import console
from ganjax import step_flags
from ganjax.metrics.inception import features
from ganjax.run import evaluation
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir
from ganjax.run import scores_file

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's directory.",
                               required=True)
_GIN_FILES = flags.DEFINE_multi_string(
    "gin_file", [], "Evaluation configs, parsed after the run's config.gin.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [],
                                          "Evaluation bindings.")
_CONTINUOUS = flags.DEFINE_bool(
    "continuous", False, "Keep waiting for new checkpoints.")
_POLL_SECONDS = flags.DEFINE_integer("poll_seconds", 60,
                                     "How often to look for checkpoints.")
_TIMEOUT_MINUTES = flags.DEFINE_float(
    "timeout_minutes", 60.0, "With --continuous, stop when no new checkpoint "
    "has come for this long.")
_INCEPTION_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "The FID Inception weight file.")


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  workdir = _WORKDIR.value
  exp = run_dir.load_experiment(workdir, _GIN_FILES.value, _GIN_BINDINGS.value)
  last_step = run_dir.num_steps()
  make_extractor = features.factory(_INCEPTION_WEIGHTS.value)
  writer = metric_writers.create_default_writer(os.path.join(workdir, "eval"))
  step = step_flags.chosen_step(workdir)
  if step is not None:
    evaluation.score_and_record(workdir, step,
                                exp, run_dir.restore_state(workdir, exp, step),
                                make_extractor, writer)
    writer.close()
    return
  waited_since = time.monotonic()
  unreadable = set()
  while True:  # Errors end the command; the finished rows stay in the CSV.
    if evaluation.evaluate_new_checkpoints(workdir, exp, make_extractor,
                                           writer, unreadable):
      waited_since = time.monotonic()
    finished = last_step in scores_file.steps(workdir)
    timed_out = (time.monotonic() - waited_since
                 > 60 * _TIMEOUT_MINUTES.value)
    if not _CONTINUOUS.value or finished or timed_out:
      break
    time.sleep(_POLL_SECONDS.value)
  writer.close()


if __name__ == "__main__":
  console.run(main)
