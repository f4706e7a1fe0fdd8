"""Work split over the processes of a multi-host run, results gathered."""

from typing import Callable

import jax
from jax.experimental import multihost_utils
import numpy as np


def split_over_processes(fn: Callable[[np.ndarray], dict[str, np.ndarray]],
                         items: np.ndarray) -> dict[str, np.ndarray]:
  """`fn(items)`, each process computing it on its own contiguous part.

  `fn` must work row by row (e.g. Inception features of images) and use only
  this process's devices. Every process calls this with the same `items` and
  gets the whole result, gathered in order. On one process it is `fn(items)`.
  """
  count = jax.process_count()
  if count == 1:
    return fn(items)
  parts = np.array_split(np.arange(len(items)), count)
  mine = parts[jax.process_index()]
  longest = max(len(p) for p in parts)
  # Every process gathers arrays of one shape: pad its part to the longest
  # (with row 0, whose result is dropped).
  padded = np.concatenate([mine, np.zeros(longest - len(mine), mine.dtype)])
  local = fn(items[padded])
  gathered = multihost_utils.process_allgather(local)
  return {k: np.concatenate([np.asarray(v[i][:len(part)])
                             for i, part in enumerate(parts)])
          for k, v in gathered.items()}
