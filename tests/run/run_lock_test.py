"""Tests of ganjax.run.run_lock: one training run per workdir."""

import os
import subprocess
import sys

import pytest

from ganjax.run import run_lock


def test_second_holder_is_refused_and_named(tmp_path):
  workdir = str(tmp_path)
  with run_lock.hold(workdir):
    with pytest.raises(run_lock.WorkdirInUseError,
                       match=rf"pid {os.getpid()} on .*another --workdir"):
      with run_lock.hold(workdir):
        pass
  with run_lock.hold(workdir):  # Released on exit.
    pass


def test_lock_dies_with_its_process(tmp_path):
  workdir = str(tmp_path)
  holder = subprocess.Popen(
      [sys.executable, "-c",
       "import sys, time; from ganjax.run import run_lock\n"
       f"with run_lock.hold({workdir!r}):\n"
       "  print('held', flush=True); time.sleep(60)"],
      stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(run_lock.WorkdirInUseError,
                       match=f"pid {holder.pid} "):
      with run_lock.hold(workdir):
        pass
  finally:
    holder.kill()
    holder.wait()
  with run_lock.hold(workdir):  # A SIGKILLed holder leaves no stale lock.
    pass
