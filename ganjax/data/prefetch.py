"""Batches prepared ahead of the training step, on a background thread.

While the device runs step s, the thread reads and preprocesses the batches
of steps s+1 … s+buffer_size and copies them to the device, so the input
pipeline overlaps with compute. Batches still come in step order and are the
same as `batch_fn(step)`, so prefetching does not change what a run sees.
"""

import collections
from concurrent import futures
from typing import Callable, Iterable, Iterator

import jax


def prefetch(batch_fn: Callable[[int], dict], steps: Iterable[int],
             buffer_size: int = 2,
             put: Callable[[dict], dict] = jax.device_put) -> Iterator[dict]:
  """Yields `put(batch_fn(step))` for `steps`, computed ahead.

  `put` copies a batch to the devices (e.g. split over them:
  `partitioning.Partitioning.put_batch`). An exception in `batch_fn` is
  raised here, at its step.
  """
  if buffer_size < 1:
    raise ValueError(f"buffer_size must be >= 1, got {buffer_size}.")
  load = lambda step: put(batch_fn(step))
  with futures.ThreadPoolExecutor(max_workers=1) as pool:
    pending = collections.deque()
    steps = iter(steps)
    for step in steps:
      pending.append(pool.submit(load, step))
      if len(pending) > buffer_size:
        yield pending.popleft().result()
    while pending:
      yield pending.popleft().result()
