"""One training run per workdir: an exclusive lock on `<workdir>/.lock`.

Two runs writing one workdir would overwrite each other's checkpoints. The
lock is the kernel's (`flock`), so it goes away with its process, even one
killed with SIGKILL: there are no stale locks to clean up. Readers
(`ganjax.evaluate`, `ganjax.sample`) do not take it, and in a multi-host run
only process 0 does (the hosts share the workdir).
"""

import contextlib
import fcntl
import os
import socket
import time
from typing import Iterator

import jax


class WorkdirInUseError(RuntimeError):
  """Another process is training in this workdir."""


@contextlib.contextmanager
def hold(workdir: str) -> Iterator[None]:
  """Holds the workdir's lock, or raises naming the run that holds it."""
  if jax.process_index() > 0:
    yield
    return
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, ".lock")
  with open(path, "a+") as f:
    try:
      fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      f.seek(0)
      holder = f.read().strip() or "another process"
      raise WorkdirInUseError(
          f"{workdir} is in use by another training run ({holder}). Two runs "
          "in one workdir would overwrite each other's checkpoints: wait for "
          "it to finish, stop it, or choose another --workdir.") from None
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()} on {socket.gethostname()}, started "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    f.flush()
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)
