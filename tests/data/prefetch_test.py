"""Tests of ganjax.data.prefetch."""

import time

import numpy as np
import pytest

from ganjax.data import prefetch


def _batch(step):
  return {"x": np.full((2,), step, np.float32)}


def test_yields_the_same_batches_in_step_order():
  got = [int(b["x"][0]) for b in prefetch.prefetch(_batch, range(5, 12))]
  assert got == list(range(5, 12))


def test_reads_at_most_buffer_size_ahead():
  requested = []

  def batch_fn(step):
    requested.append(step)
    return _batch(step)

  batches = prefetch.prefetch(batch_fn, range(100), buffer_size=3)
  next(batches)
  time.sleep(0.2)  # Time for the thread to run ahead as far as it may.
  assert max(requested) <= 3  # Step 0 consumed; steps 1–3 may be ready.


def test_errors_surface_at_their_step():
  def batch_fn(step):
    if step == 2:
      raise ValueError("bad batch 2")
    return _batch(step)

  batches = prefetch.prefetch(batch_fn, range(5))
  assert [int(next(batches)["x"][0]) for _ in range(2)] == [0, 1]
  with pytest.raises(ValueError, match="bad batch 2"):
    next(batches)


def test_bad_buffer_size_raises():
  with pytest.raises(ValueError, match="buffer_size"):
    next(prefetch.prefetch(_batch, range(3), buffer_size=0))
