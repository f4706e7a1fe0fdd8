"""Tests of ganjax.train: run artifacts, and resuming bit-for-bit."""

import glob
import os

import gin
import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from ganjax import checkpoint
from ganjax import config
from ganjax import experiment as experiment_lib
from ganjax import train


_FILES = ["base.gin", "datasets/ring.gin"]
_BINDINGS = [
    "datasets.ring.num_examples = 1000",
    "GAN.generator = @models.mlp.Generator",
    "GAN.discriminator = @models.mlp.Discriminator",
    "GAN.z_dim = 2",
    "models.mlp.Generator.hidden_dims = (16, 16)",
    "models.mlp.Discriminator.hidden_dims = (16,)",
    "models.mlp.Discriminator.maxout_pieces = 2",
    "models.mlp.Discriminator.num_packed = 2",
    "experiment.batch_size = 16",
    # An EMA that already averages within the run, so it must be restored.
    "GAN.ema_decay = 0.5",
    "GAN.ema_start_step = 2",
    "train.log_every = 2",
    "train.sample_every = 3",
    "train.checkpoint_every = 3",
]


def _train(workdir, num_steps, monkeypatch=None, seen_steps=None):
  """Parses the tiny ring config for `num_steps` and trains in `workdir`."""
  gin.clear_config()
  try:
    config.parse(_FILES, _BINDINGS + [f"train.num_steps = {num_steps}"])
    config.write_config(workdir)
    if seen_steps is not None:
      batch = experiment_lib.Experiment.batch

      def recording_batch(self, step):
        seen_steps.append(step)
        return batch(self, step)

      monkeypatch.setattr(experiment_lib.Experiment, "batch",
                          recording_batch)
    state = jax.device_get(train.train(workdir))
    if seen_steps is not None:
      monkeypatch.undo()
    return state
  finally:
    gin.clear_config()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  """A 6-step run in one go: (workdir, final state)."""
  workdir = str(tmp_path_factory.mktemp("uninterrupted"))
  return workdir, _train(workdir, 6)


def test_run_writes_config_samples_and_checkpoints(uninterrupted):
  workdir, state = uninterrupted
  assert int(state.step) == 6
  with open(os.path.join(workdir, "config.gin")) as f:
    written = f.read()
  # gin writes the shortest unambiguous names.
  assert "mlp.Generator.hidden_dims = (16, 16)" in written
  with open(os.path.join(workdir, "operative_config.gin")) as f:
    operative = f.read()
  assert "train.num_steps = 6" in operative
  # Defaults actually used are recorded too.
  assert "train.max_checkpoints = 3" in operative
  pngs = sorted(os.path.basename(p) for p in
                glob.glob(os.path.join(workdir, "samples", "*.png")))
  assert pngs == ["step_00000003.png", "step_00000006.png"]
  for png in pngs:
    with open(os.path.join(workdir, "samples", png), "rb") as f:
      assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["3", "6"]
  assert glob.glob(os.path.join(workdir, "events.out.tfevents.*"))


def test_checkpoint_holds_the_final_state(uninterrupted, clean_gin):
  workdir, state = uninterrupted
  config.parse([os.path.join(workdir, "config.gin")], [])
  exp = experiment_lib.make_experiment()
  manager = checkpoint.manager(workdir)
  restored = checkpoint.restore(manager, jax.eval_shape(exp.init_state))
  manager.close()
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(restored), state)


def _restore(workdir, step):
  gin.clear_config()
  try:
    config.parse([os.path.join(workdir, "config.gin")], [])
    exp = experiment_lib.make_experiment()
    manager = checkpoint.manager(workdir)
    template = jax.eval_shape(exp.init_state)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
    restored = manager.restore(step, args=ocp.args.StandardRestore(abstract))
    manager.close()
    return jax.device_get(restored)
  finally:
    gin.clear_config()


def test_resume_is_bit_identical(uninterrupted, tmp_path, monkeypatch):
  uninterrupted_dir, want = uninterrupted
  workdir = str(tmp_path)
  seen = []
  first = _train(workdir, 3, monkeypatch, seen)
  assert int(first.step) == 3 and seen == [0, 1, 2]
  # The mid-run checkpoint of the uninterrupted run (saved asynchronously,
  # then followed by steps that donate the state) holds that same state.
  jax.tree.map(np.testing.assert_array_equal,
               _restore(uninterrupted_dir, 3), first)
  seen.clear()
  resumed = _train(workdir, 6, monkeypatch, seen)
  # The second call resumed from step 3 rather than starting over.
  assert seen == [3, 4, 5]
  assert int(resumed.step) == 6
  assert jax.tree.structure(resumed) == jax.tree.structure(want)
  jax.tree.map(np.testing.assert_array_equal, resumed, want)
  # The EMA averaged (decay 0.5 from step 2), so it is not G's weights.
  assert not np.array_equal(
      jax.tree.leaves(resumed.ema_params)[0],
      jax.tree.leaves(resumed.g_params)[0])


def test_finished_run_does_no_more_steps(uninterrupted, tmp_path, monkeypatch):
  del tmp_path
  workdir, want = uninterrupted
  seen = []
  again = _train(workdir, 6, monkeypatch, seen)
  assert seen == []
  jax.tree.map(np.testing.assert_array_equal, again, want)
