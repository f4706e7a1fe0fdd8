"""SIGTERM and SIGINT as requests to stop at the next step boundary.

Preemptible machines get SIGTERM shortly before they go; Ctrl-C sends SIGINT.
While a `StopRequests` is active, either signal only sets a flag: the loop
finishes its step, writes a checkpoint and raises `Preempted`, whose exit
status is the shell's for death by that signal (128 + its number), so job
schedulers see the run as interrupted, not done. A second Ctrl-C interrupts
at once.

In a multi-host run every process must stop after the same step. There
SIGTERM is left to JAX's preemption service (started by
`jax.distributed.initialize`), which on a notice to any host agrees on a
step at which all hosts stop (`multihost_utils.reached_preemption_sync_point`);
SIGINT keeps its default (it interrupts the process).
"""

import signal
import threading
import types

import jax
from jax.experimental import multihost_utils


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
    self._multihost = jax.process_count() > 1

  @property
  def requested(self) -> bool:
    return self.signum is not None

  def stop_after(self, step: int) -> bool:
    """Whether to stop after `step`; in a multi-host run every process must
    ask at every step, and all get the same answer."""
    if (self._multihost and not self.requested
        and multihost_utils.reached_preemption_sync_point(step)):
      self.signum = signal.SIGTERM
    return self.requested

  @property
  def signal_name(self) -> str:
    return signal.Signals(self.signum).name if self.signum else ""

  def _handle(self, signum: int, frame: types.FrameType | None) -> None:
    del frame
    if signum == signal.SIGINT and self.signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.signum = signum

  def __enter__(self) -> "StopRequests":
    if (threading.current_thread() is threading.main_thread()
        and not self._multihost):
      for signum in (signal.SIGTERM, signal.SIGINT):
        self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info) -> None:
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}
