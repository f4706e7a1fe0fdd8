"""The flags of the commands that read a run's checkpoint (`sample`,
`evaluate`, `infer_labels`, `export`): which one they read."""

from absl import flags

from ganjax.run import run_dir

_STEP = flags.DEFINE_string(
    "step", None, "The checkpoint to read: a step number, or 'best' (the "
    "step of the best --metric in the run's scores.csv). By default the "
    "newest checkpoint that restores.")
_METRIC = flags.DEFINE_string(
    "metric", "fid", "With --step=best: the score that picks the step (a "
    "column of scores.csv, e.g. fid, kid or inception_score).")


def chosen_step(workdir: str) -> int | None:
  """The step the flags choose in `workdir` (`run_dir.chosen_step`)."""
  return run_dir.chosen_step(workdir, _STEP.value, _METRIC.value)
