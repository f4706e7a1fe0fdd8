"""SIGTERM and SIGINT as requests to stop at the next step boundary.

Preemptible machines get SIGTERM shortly before they go; Ctrl-C sends SIGINT.
While a `StopRequests` is active, either signal only sets a flag: the loop
finishes its step, writes a checkpoint and raises `Preempted`, whose exit
status is the shell's for death by that signal (128 + its number), so job
schedulers see the run as interrupted, not done. A second Ctrl-C interrupts
at once.
"""

import signal
import threading
import types


class Preempted(Exception):
  """The run stopped on a signal after writing a checkpoint."""

  def __init__(self, message: str, signum: int):
    super().__init__(message)
    self.exit_code = 128 + signum


class StopRequests:
  """A context in which SIGTERM/SIGINT request a stop instead of killing.

  Handlers can only be installed from the main thread; elsewhere (a run
  started in a thread) signals keep their previous behaviour.
  """

  def __init__(self):
    self.signum: int | None = None
    self._previous = {}

  @property
  def requested(self) -> bool:
    return self.signum is not None

  @property
  def signal_name(self) -> str:
    return signal.Signals(self.signum).name if self.signum else ""

  def _handle(self, signum: int, frame: types.FrameType | None) -> None:
    del frame
    if signum == signal.SIGINT and self.signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.signum = signum

  def __enter__(self) -> "StopRequests":
    if threading.current_thread() is threading.main_thread():
      for signum in (signal.SIGTERM, signal.SIGINT):
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info) -> None:
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}
