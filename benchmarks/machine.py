"""The machine a benchmark ran on, for its table: CPU model and count."""

import os
import platform


def cpu_model() -> str:
  """The CPU's model name (/proc/cpuinfo, else the platform's processor) and
  the number of CPUs this process may use."""
  name = platform.processor() or "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          name = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  return f"{name} ({len(os.sched_getaffinity(0))} CPUs)"
