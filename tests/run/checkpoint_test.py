"""Tests of ganjax.run.checkpoint: retention, full disks, damaged
checkpoints."""

import collections
import errno
import os
from typing import Any

import flax.struct
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import state as state_lib
from ganjax.run import checkpoint

from tests import workdirs


def _state(step, size=64):
  params = {"w": jnp.full((size,), float(step))}
  return state_lib.GANState(
      step=jnp.int32(step), g_params=params, d_params=params,
      g_collections={}, d_collections={}, g_opt_state={}, d_opt_state={},
      ema_params=None, restores=jnp.int32(0), lr_scale=jnp.float32(1.0),
      penalty_weight=jnp.float32(1.0), terms={})


def _save_steps(workdir, steps, size=64, **kwargs):
  manager = checkpoint.manager(workdir, **kwargs)
  for step in steps:
    checkpoint.save(manager, _state(step, size))
  checkpoint.finish(manager)


def test_keeps_the_last_n_and_every_mth(tmp_path):
  _save_steps(str(tmp_path), range(1, 11), max_to_keep=2, keep_every=4)
  kept = sorted(int(d) for d in os.listdir(tmp_path / "checkpoints"))
  assert kept == [4, 8, 9, 10]


def test_bad_retention_is_refused(tmp_path):
  with pytest.raises(ValueError, match="max_checkpoints = 0"):
    checkpoint.manager(str(tmp_path), max_to_keep=0)


def test_full_disk_stops_before_writing(tmp_path, monkeypatch):
  _save_steps(str(tmp_path), [1])
  usage = collections.namedtuple("usage", "total used free")
  monkeypatch.setattr(checkpoint.shutil, "disk_usage",
                      lambda path: usage(10**6, 10**6 - 1000, 1000))
  manager = checkpoint.manager(str(tmp_path))
  with pytest.raises(checkpoint.DiskFullError,
                     match=r"MiB needed, 0.0 MiB free(.|\n)*intact"):
    checkpoint.save(manager, _state(2))
  checkpoint.finish(manager)
  assert os.listdir(tmp_path / "checkpoints") == ["1"]


def test_no_space_from_the_writer_becomes_disk_full_error(tmp_path,
                                                          monkeypatch):
  manager = checkpoint.manager(str(tmp_path))

  def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(manager, "save", no_space)
  with pytest.raises(checkpoint.DiskFullError, match="keep fewer"):
    checkpoint.save(manager, _state(1))
  checkpoint.finish(manager)


def test_a_damaged_latest_checkpoint_is_set_aside(tmp_path, caplog):
  workdir = str(tmp_path)
  _damaged_latest(tmp_path)
  manager = checkpoint.manager(workdir)
  restored = checkpoint.restore_readable(manager, _state(0, size=4096))
  assert int(restored.step) == 1
  np.testing.assert_array_equal(restored.g_params["w"], np.full(4096, 1.0))
  assert manager.all_steps() == [1]
  checkpoint.finish(manager)
  assert os.listdir(tmp_path / "checkpoints_unreadable") == ["2"]
  assert "Checkpoint of step 2 cannot be read" in caplog.text


def _damaged_latest(tmp_path):
  """A workdir with checkpoints 1 and 2, the file of 2 cut in half."""
  _save_steps(str(tmp_path), [1, 2], size=4096)
  workdirs.damage_checkpoint(str(tmp_path), 2)


def test_readers_skip_a_damaged_checkpoint_and_leave_it(tmp_path, caplog):
  _damaged_latest(tmp_path)
  manager = checkpoint.manager(str(tmp_path), create=False)
  restored = checkpoint.restore_readable(manager, _state(0, size=4096),
                                         set_aside=False)
  manager.close()
  assert int(restored.step) == 1
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["1", "2"]
  assert not os.path.exists(tmp_path / "checkpoints_unreadable")
  assert ("Checkpoint of step 2 cannot be read" in caplog.text
          and "read the one of step 1 instead" in caplog.text)


def test_a_chosen_step_restores_or_names_the_steps_there_are(tmp_path):
  _damaged_latest(tmp_path)
  manager = checkpoint.manager(str(tmp_path), create=False)
  template = _state(0, size=4096)
  assert int(checkpoint.restore_step(manager, template, 1).step) == 1
  with pytest.raises(ValueError, match=r"No checkpoint of step 3 .* holds "
                     r"steps \[1, 2\]"):
    checkpoint.restore_step(manager, template, 3)
  with pytest.raises(ValueError, match=r"step 2 .* cannot be read .*choose "
                     r"another of the steps \[1, 2\]"):
    checkpoint.restore_step(manager, template, 2)
  manager.close()


def test_no_readable_checkpoint_moves_nothing(tmp_path):
  workdir = str(tmp_path)
  _save_steps(workdir, [1, 2])
  manager = checkpoint.manager(workdir)
  with pytest.raises(ValueError, match="no longer fit the model"):
    checkpoint.restore_readable(manager, _state(0, size=7))  # Other shapes.
  checkpoint.finish(manager)
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["1", "2"]
  assert not os.path.exists(tmp_path / "checkpoints_unreadable")


class _StateWithoutTerms(flax.struct.PyTreeNode):
  """The state as checkpoints hold it from 2026-12-07 until the terms' states
  came: no level and fade, no terms."""
  step: Any
  g_params: Any
  d_params: Any
  g_collections: Any
  d_collections: Any
  g_opt_state: Any
  d_opt_state: Any
  ema_params: Any
  restores: Any
  lr_scale: Any
  penalty_weight: Any


class _StateWithLevel(_StateWithoutTerms):
  """The state as checkpoints before 2026-12-07 hold it: with progressive
  growing's level and fade, without the terms' states."""
  level: Any
  fade: Any


def test_a_checkpoint_with_the_former_fields_restores(tmp_path):
  state = _state(7)
  manager = checkpoint.manager(tmp_path)
  former = {k: v for k, v in vars(state).items() if k != "terms"}
  checkpoint.save(manager, _StateWithLevel(
      **former, level=jnp.int32(2), fade=jnp.float32(0.5)))
  checkpoint.finish(manager)
  restored = checkpoint.restore(checkpoint.manager(tmp_path), _state(0))
  assert isinstance(restored, state_lib.GANState)
  assert int(restored.step) == 7 and restored.terms == {}
  np.testing.assert_array_equal(restored.g_params["w"], state.g_params["w"])


def test_a_checkpoint_without_the_terms_states_restores(tmp_path):
  state = _state(5)
  manager = checkpoint.manager(tmp_path)
  checkpoint.save(manager, _StateWithoutTerms(
      **{k: v for k, v in vars(state).items() if k != "terms"}))
  checkpoint.finish(manager)
  restored = checkpoint.restore(checkpoint.manager(tmp_path), _state(0))
  assert int(restored.step) == 5 and restored.terms == {}
  np.testing.assert_array_equal(restored.d_params["w"], state.d_params["w"])


def test_empty_workdir_restores_nothing(tmp_path):
  manager = checkpoint.manager(str(tmp_path))
  assert checkpoint.restore_readable(manager, _state(0)) is None
  checkpoint.finish(manager)


def test_an_interrupted_write_is_removed_with_a_warning(tmp_path, caplog):
  workdir = str(tmp_path)
  _save_steps(workdir, [1])
  unfinished = tmp_path / "checkpoints" / "2.orbax-checkpoint-tmp-123"
  unfinished.mkdir()
  (unfinished / "half").write_bytes(b"\0" * 10)
  manager = checkpoint.manager(workdir)
  assert "crash interrupted (2.orbax-checkpoint-tmp-123)" in caplog.text
  assert manager.all_steps() == [1]
  assert int(checkpoint.restore_readable(manager, _state(0)).step) == 1
  checkpoint.finish(manager)
  assert os.listdir(tmp_path / "checkpoints") == ["1"]


def test_no_space_in_a_pending_write_becomes_disk_full_error(tmp_path,
                                                             monkeypatch):
  manager = checkpoint.manager(str(tmp_path))
  checkpoint.save(manager, _state(1))

  def no_space():
    raise RuntimeError("write failed") from OSError(
        errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(manager, "wait_until_finished", no_space)
  with pytest.raises(checkpoint.DiskFullError, match="Not enough disk space"):
    checkpoint.save(manager, _state(2))  # Waits for the first write first.
  monkeypatch.undo()
  checkpoint.finish(manager)
