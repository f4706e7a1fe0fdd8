"""What a run tells the person at the console: progress, scores, outputs.

Library code reports through `info` (the standard logger "ganjax"): one
progress line per logged step (`ProgressWriter`: step, steps/s, time left and
the main losses), scores, and where a run's outputs are. Bulky summaries
(images, histograms, the operative config, every scalar) go to TensorBoard
only. The commands call `setup` first: it gives the "ganjax" logger a plain
handler on stderr and, unless --verbosity was given, hides other libraries'
INFO chatter (absl verbosity WARNING); warnings and errors still show.
Without `setup` (notebooks, tests) the lines go to the root logger like any
log.

The commands run through `run`: an error about what the user gave them (a
file, a config, a data set, a flag) ends the command with its message and
exit status 1, not a traceback; `--verbosity=1` adds the traceback.
"""

import logging
import sys
import time
import traceback
from typing import Any, Callable, Mapping, Sequence

from absl import app
from absl import flags
from absl import logging as absl_logging
from clu import metric_writers

_LOGGER = logging.getLogger("ganjax")

# The losses a progress line shows, in this order, when a step reports them.
_LOSSES = ("d_loss", "g_loss", "penalty")


def info(message: str, *args: Any) -> None:
  """Tells the person running ganjax `message % args`."""
  _LOGGER.info(message, *args)


def setup() -> None:
  """Console output for a command: ganjax's lines plain on stderr, other
  libraries' INFO logs hidden unless --verbosity (-v) was given."""
  if not _LOGGER.handlers:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s",
                                           "%H:%M:%S"))
    _LOGGER.addHandler(handler)
  _LOGGER.setLevel(logging.INFO)
  _LOGGER.propagate = False
  if not (flags.FLAGS.is_parsed() and flags.FLAGS["verbosity"].present):
    absl_logging.set_verbosity(absl_logging.WARNING)


# What ganjax raises for bad input: files missing or unreadable (OSError),
# values and configs it cannot use (ValueError, gin's errors among them),
# diverged numbers (ArithmeticError). Other errors are bugs: their traceback
# is shown.
INPUT_ERRORS = (ValueError, OSError, ArithmeticError)
# gin's error for a required setting left unbound is a RuntimeError.
_GIN_REQUIRED = "Required bindings for"


def guarded(main: Callable[[Sequence[str]], Any],
            errors: tuple[type[BaseException], ...] = ()
            ) -> Callable[[Sequence[str]], Any]:
  """`main` with `INPUT_ERRORS` and `errors` shown as "Error: message"
  (exit status 1) instead of a traceback, which --verbosity=1 adds."""

  def command(argv: Sequence[str]) -> Any:
    try:
      return main(argv)
    except Exception as e:  # pylint: disable=broad-exception-caught
      if not (isinstance(e, INPUT_ERRORS + errors) or (
          isinstance(e, RuntimeError) and str(e).startswith(_GIN_REQUIRED))):
        raise
      if flags.FLAGS.is_parsed() and flags.FLAGS.verbosity >= 1:
        traceback.print_exc()
      sys.exit(f"Error: {e}")

  return command


def run(main: Callable[[Sequence[str]], Any],
        errors: tuple[type[BaseException], ...] = ()) -> None:
  """Runs a command's `main` as `absl.app.run` does, `guarded`."""
  app.run(guarded(main, errors))


def duration(seconds: float) -> str:
  """`seconds` as H:MM:SS, or M:SS under an hour."""
  minutes, secs = divmod(int(round(seconds)), 60)
  hours, minutes = divmod(minutes, 60)
  return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def scores_line(scores: Mapping[str, float]) -> str:
  """`name value, …` of a run's scores, for a person."""
  return ", ".join(f"{k} {v:.4g}" for k, v in scores.items())


class ProgressWriter(metric_writers.MetricWriter):
  """A metric writer for people: a line per write of the training losses.

  Each line gives the step out of `num_steps`, the steps per second since
  the previous line (or since `start`), the time left at that rate, and the
  losses of `_LOSSES` that the step reports.
  Other writes (images, histograms, texts, scalars without losses) are
  TensorBoard's alone.
  """

  def __init__(self, num_steps: int):
    self._num_steps = num_steps
    self.start(0)

  def start(self, step: int) -> None:
    """Times the next line's steps per second from `step`, now."""
    self._last = (step, time.monotonic())

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    losses = {k: float(scalars[k]) for k in _LOSSES if k in scalars}
    if not losses:
      return
    if not losses.get("penalty", 1.0):
      del losses["penalty"]  # A GAN without a penalty.
    last_step, last_time = self._last
    now = time.monotonic()
    self._last = (step, now)
    parts = [f"step {step}/{self._num_steps}"]
    if step > last_step and now > last_time:
      rate = (step - last_step) / (now - last_time)
      parts += [f"{rate:.3g} steps/s",
                f"{duration((self._num_steps - step) / rate)} left"]
    parts.append(scores_line(losses))
    info("  ".join(parts))

  def write_summaries(self, step, values, metadata=None) -> None:
    del step, values, metadata

  def write_images(self, step, images) -> None:
    del step, images

  def write_videos(self, step, videos) -> None:
    del step, videos

  def write_audios(self, step, audios, *, sample_rate) -> None:
    del step, audios, sample_rate

  def write_texts(self, step, texts) -> None:
    del step, texts

  def write_histograms(self, step, arrays, num_buckets=None) -> None:
    del step, arrays, num_buckets

  def write_hparams(self, hparams) -> None:
    del hparams

  def flush(self) -> None:
    pass

  def close(self) -> None:
    pass
