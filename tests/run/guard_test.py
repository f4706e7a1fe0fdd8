"""Tests of ganjax.run.guard: keys and reports."""

import jax
import numpy as np
import pytest

from ganjax.run import guard


def test_train_key_is_the_runs_own_until_a_roll_back():
  base = jax.random.key(0)
  assert guard.train_key(base, 0) is base
  keys = [jax.random.key_data(guard.train_key(base, r)) for r in range(3)]
  assert len({bytes(np.asarray(k)) for k in keys}) == 3


def test_first_nonfinite_names_step_and_values():
  ok = {"all_finite": True, "d_loss": 1.0}
  assert guard.first_nonfinite([1, 2], [ok, ok]) is None
  found = guard.first_nonfinite(
      [1, 2, 3], [ok, {"all_finite": False, "d_loss": np.nan},
                  {"all_finite": False, "d_loss": 1.0}])
  assert found == "step 2 (d_loss=nan)"
  assert "state not finite" in guard.first_nonfinite(
      [4], [{"all_finite": False, "d_loss": 1.0}])


def test_policy_checks_its_values(clean_gin):
  assert guard.Policy().action == "stop"
  with pytest.raises(ValueError, match="guard.action = 'retry'"):
    guard.Policy(action="retry")
  with pytest.raises(ValueError, match="lr_factor"):
    guard.Policy(lr_factor=2.0)
