"""Tests of ganjax.run.experiment: the start-up check of the data."""

import numpy as np
import pytest

from ganjax.data import dataset
from ganjax.run import experiment

_SPEC = dataset.DataSpec((4, 4, 1), 10, True)


def _batch(**changes):
  batch = {"x": np.zeros((2, 4, 4, 1), np.float32),
           "label": np.zeros(2, np.int32)}
  batch.update(changes)
  return {k: v for k, v in batch.items() if v is not None}


def test_a_good_batch_passes():
  experiment.check_batch(_batch(), _SPEC)


@pytest.mark.parametrize("changes,match", [
    (dict(x=np.zeros((2, 8, 8, 1), np.float32)), r"shape \(8, 8, 1\)"),
    (dict(x=np.zeros((2, 4, 4, 1), np.uint8)), "uint8"),
    (dict(x=np.full((2, 4, 4, 1), 255.0, np.float32)), r"\[-1, 1\]"),
    (dict(label=None), "no labels"),
])
def test_bad_batches_name_the_problem(changes, match):
  with pytest.raises(ValueError, match=match):
    experiment.check_batch(_batch(**changes), _SPEC)
