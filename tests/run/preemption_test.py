"""Tests of ganjax.run.preemption: signals become stop requests."""

import os
import signal

import pytest

from ganjax.run import preemption


def test_sigterm_and_sigint_set_the_request_and_handlers_come_back():
  before = signal.getsignal(signal.SIGTERM)
  with preemption.StopRequests() as stop:
    assert not stop.requested
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested and stop.signal_name == "SIGTERM"
  assert signal.getsignal(signal.SIGTERM) is before
  with preemption.StopRequests() as stop:
    os.kill(os.getpid(), signal.SIGINT)
    assert stop.signal_name == "SIGINT"
    with pytest.raises(KeyboardInterrupt):  # A second Ctrl-C insists.
      os.kill(os.getpid(), signal.SIGINT)


def test_preempted_exit_code_is_the_shells():
  assert preemption.Preempted("x", signal.SIGTERM).exit_code == 143
  assert preemption.Preempted("x", signal.SIGINT).exit_code == 130
