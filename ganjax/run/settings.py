"""The loop's `train.*` settings: when it does what, in G steps, and how
the step splits its batch."""

from typing import NamedTuple


class Settings(NamedTuple):
  """When the loop logs, samples, checkpoints and evaluates, how many
  checkpoints and sample images it keeps, and the micro-batches of each
  update (gradient accumulation)."""
  num_steps: int
  log_every: int
  sample_every: int
  checkpoint_every: int
  eval_every: int
  max_checkpoints: int
  keep_checkpoint_every: int
  num_sample_images: int
  accumulate_steps: int = 1

  def due(self, done: int, level_end: bool = False
          ) -> tuple[bool, bool, bool, bool]:
    """Whether to log, sample, checkpoint and evaluate after step `done`.

    The first three happen at the last step whatever their period, and so at
    the end of a level of progressive growing (`level_end`); evaluation only
    when asked for (eval_every > 0).
    """
    last = done == self.num_steps or level_end
    log, sample, save = (last or bool(every) and done % every == 0 for every
                         in (self.log_every, self.sample_every,
                             self.checkpoint_every))
    evaluate = bool(self.eval_every) and (last or done % self.eval_every == 0)
    return log, sample, save, evaluate

  def check(self) -> None:
    """Raises ValueError for a negative setting or no micro-batch."""
    for name, value in self._asdict().items():
      if value < 0:
        raise ValueError(f"train.{name} must be >= 0, got {value}.")
    if self.accumulate_steps < 1:
      raise ValueError(f"train.accumulate_steps must be >= 1, got "
                       f"{self.accumulate_steps}.")
