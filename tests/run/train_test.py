"""Tests of ganjax.run.train: run artifacts, and resuming bit-for-bit."""

import collections
import glob
import os
import re
import signal
import types

import gin
import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from ganjax.core import steps
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import guard
from ganjax.run import preemption
from ganjax.run import run_lock
from ganjax.run import train
from tests import paths
from tests import workdirs


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


def _train(workdir, num_steps, monkeypatch=None, seen_steps=None,
           gin_bindings=(), **kwargs):
  """Parses the tiny ring config for `num_steps` and trains in `workdir`."""
  gin.clear_config()
  try:
    config.parse(_FILES, _BINDINGS + [f"train.num_steps = {num_steps}",
                                      *gin_bindings])
    if seen_steps is not None:
      batch = experiment_lib.Experiment.batch

      def recording_batch(self, step):
        seen_steps.append(step)
        return batch(self, step)

      monkeypatch.setattr(experiment_lib.Experiment, "batch",
                          recording_batch)
    state = jax.device_get(train.train(workdir, **kwargs))
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


def _hook_batch(monkeypatch, hook):
  """Calls hook(step, batch) on every batch the loop asks for."""
  batch = experiment_lib.Experiment.batch

  def hooked(self, step):
    return hook(step, batch(self, step))

  monkeypatch.setattr(experiment_lib.Experiment, "batch", hooked)


def _signal_at(step, signum):
  """A batch hook that sends this process `signum` once, when the loop asks
  for the batch of `step` (batches are made ahead: the stop lands a step or
  two later)."""
  sent = []

  def hook(batch_step, batch):
    if batch_step == step and not sent:
      sent.append(step)
      os.kill(os.getpid(), signum)
    return batch

  return hook


def test_sigterm_saves_stops_and_resumes_exactly(uninterrupted, tmp_path,
                                                 monkeypatch):
  _, want = uninterrupted
  workdir = str(tmp_path)
  _hook_batch(monkeypatch, _signal_at(4, signal.SIGTERM))
  with pytest.raises(preemption.Preempted,
                     match=r"Stopped by SIGTERM after step (\d)") as stopped:
    _train(workdir, 6)
  monkeypatch.undo()
  assert stopped.value.exit_code == 143
  stop_step = int(re.search(r"after step (\d)", str(stopped.value)).group(1))
  assert stop_step < 6
  steps_saved = sorted(int(s) for s in os.listdir(
      os.path.join(workdir, "checkpoints")))
  assert steps_saved[-1] == stop_step
  seen = []
  resumed = _train(workdir, 6, monkeypatch, seen)
  assert seen == list(range(stop_step, 6))
  jax.tree.map(np.testing.assert_array_equal, resumed, want)


def test_ctrl_c_leaves_samples_to_the_resumed_run(uninterrupted, tmp_path,
                                                  monkeypatch):
  _, want = uninterrupted
  workdir = str(tmp_path)
  every_step = ["train.sample_every = 1"]
  _hook_batch(monkeypatch, _signal_at(2, signal.SIGINT))
  with pytest.raises(preemption.Preempted,
                     match=r"Stopped by SIGINT after step (\d)") as stopped:
    _train(workdir, 6, gin_bindings=every_step)
  monkeypatch.undo()
  assert stopped.value.exit_code == 130
  stop_step = int(re.search(r"after step (\d)", str(stopped.value)).group(1))
  sample = os.path.join(workdir, "samples", f"step_{stop_step:08d}.png")
  assert not os.path.exists(sample)  # The stop came first...
  resumed = _train(workdir, 6, gin_bindings=every_step)
  assert os.path.exists(sample)  # ...and the resumed run drew it.
  assert len(os.listdir(os.path.join(workdir, "samples"))) == 6
  jax.tree.map(np.testing.assert_array_equal, resumed, want)


def test_damaged_latest_checkpoint_falls_back(uninterrupted, tmp_path,
                                              monkeypatch, caplog):
  _, want = uninterrupted
  workdir = str(tmp_path)
  _train(workdir, 6)
  workdirs.damage_checkpoint(workdir, 6)
  seen = []
  resumed = _train(workdir, 6, monkeypatch, seen)
  assert seen == [3, 4, 5]
  jax.tree.map(np.testing.assert_array_equal, resumed, want)
  assert os.listdir(os.path.join(workdir, "checkpoints_unreadable")) == ["6"]
  assert "Checkpoint of step 6 cannot be read" in caplog.text


def _saved_states(workdir):
  steps_saved = sorted(int(s) for s in os.listdir(
      os.path.join(workdir, "checkpoints")))
  return steps_saved, [_restore(workdir, s) for s in steps_saved]


def _nan_at(step_to_poison, times=None):
  """A batch hook that poisons the batch of one step (`times` times)."""
  poisoned = []

  def hook(step, batch):
    if step == step_to_poison and (times is None or len(poisoned) < times):
      poisoned.append(step)
      return {**batch, "x": np.full_like(batch["x"], np.nan)}
    return batch

  return hook, poisoned


def _assert_all_finite(states):
  for state in states:
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(state)
               if np.issubdtype(np.asarray(leaf).dtype, np.inexact))


def test_divergence_stops_with_a_report(tmp_path, monkeypatch):
  workdir = str(tmp_path)
  hook, _ = _nan_at(4)  # Step 5 goes non-finite; checkpoint 6 is due next.
  _hook_batch(monkeypatch, hook)
  with pytest.raises(guard.DivergedError,
                     match=r"non-finite values first seen at step 5 "
                     r"\(.*d_loss=nan(.|\n)*The last good checkpoint, step 3, "
                     r"is kept(.|\n)*guard.action = 'restore'"):
    _train(workdir, 9)
  steps_saved, states = _saved_states(workdir)
  assert steps_saved == [3]  # The non-finite state of step 6 was not saved.
  _assert_all_finite(states)


def test_divergence_from_a_huge_learning_rate_is_caught(tmp_path):
  with pytest.raises(guard.DivergedError, match="non-finite values"):
    _train(str(tmp_path), 6, gin_bindings=[
        "discriminator/optax.adam.learning_rate = 1e30",
        "generator/optax.adam.learning_rate = 1e30"])


def test_divergence_rolls_back_with_lower_learning_rate(tmp_path, monkeypatch,
                                                        caplog):
  workdir = str(tmp_path)
  hook, poisoned = _nan_at(4, times=1)
  _hook_batch(monkeypatch, hook)
  state = _train(workdir, 6, gin_bindings=["guard.action = 'restore'",
                                           "guard.lr_factor = 0.5"])
  assert poisoned == [4]
  assert int(state.step) == 6
  assert int(state.restores) == 1 and float(state.lr_scale) == 0.5
  assert "rolling back to step 3 (roll-back 1 of 3)" in caplog.text
  steps_saved, states = _saved_states(workdir)
  assert steps_saved == [3, 6]
  assert int(states[1].restores) == 1  # Written after the roll-back.
  _assert_all_finite(states)


def test_divergence_gives_up_after_max_restores(tmp_path, monkeypatch):
  _hook_batch(monkeypatch, _nan_at(4)[0])
  with pytest.raises(guard.DivergedError, match="after 2 roll-back"):
    _train(str(tmp_path), 6, gin_bindings=["guard.action = 'restore'",
                                           "guard.max_restores = 2"])


def test_changed_config_is_refused_unless_overridden(uninterrupted, tmp_path):
  workdir = str(tmp_path)
  _train(workdir, 3)
  with pytest.raises(config.ConfigChangedError,
                     match=r"experiment.batch_size: 16 -> 32"):
    _train(workdir, 6, gin_bindings=["experiment.batch_size = 32"])
  longer = _train(workdir, 6)  # Run length is free to change.
  jax.tree.map(np.testing.assert_array_equal, longer, uninterrupted[1])
  _train(workdir, 9, gin_bindings=["GAN.ema_decay = 0.9"],
         override_config=True)
  assert os.path.exists(os.path.join(
      workdir, "operative_config.until_step_6.gin"))


def test_a_resume_with_override_config_takes_the_new_learning_rate(
    tmp_path):
  workdir = str(tmp_path)
  _train(workdir, 3)
  lower = [f"{scope}/optax.adam.learning_rate = 5e-5"
           for scope in ("generator", "discriminator")]
  state = _train(workdir, 6, gin_bindings=lower, override_config=True)
  for name in ("g_optimizer", "d_optimizer"):
    np.testing.assert_allclose(state.hyperparams[name]["learning_rate"],
                               5e-5)


def test_busy_workdir_is_refused(tmp_path):
  workdir = str(tmp_path)
  with run_lock.hold(workdir):
    with pytest.raises(run_lock.WorkdirInUseError):
      _train(workdir, 3)


def test_accumulation_reaches_the_step_and_may_change_on_resume(
    tmp_path, monkeypatch):
  workdir = str(tmp_path)
  traced = []
  step = steps.train_step

  def recording(*args, accumulate_steps=1, **kwargs):
    traced.append(accumulate_steps)
    return step(*args, accumulate_steps=accumulate_steps, **kwargs)

  monkeypatch.setattr(steps, "train_step", recording)
  first = _train(workdir, 2, gin_bindings=["train.accumulate_steps = 4"])
  assert int(first.step) == 2 and set(traced) == {4}
  # Free to change when the run resumes, as on a smaller accelerator.
  resumed = _train(workdir, 3, gin_bindings=["train.accumulate_steps = 2"])
  assert int(resumed.step) == 3 and set(traced) == {4, 2}


@pytest.mark.parametrize("bindings,error,match", [
    (["train.accumulate_steps = 3"], ValueError,
     "accumulate_steps = 3 does not divide experiment.batch_size = 16"),
    (["train.accumulate_steps = 0"], ValueError,
     "accumulate_steps must be >= 1"),
    (["GAN.conditional = True"], ValueError, "needs a labeled data set"),
    (["models.mlp.Discriminator.num_packed = 3"], ValueError,
     "packing of 3 needs a batch divisible"),
    (["guard.action = 'retry'"], ValueError, "is not a policy"),
    (["train.max_checkpoints = 0"], ValueError, "Keep at least one"),
    (["GAN.compute_dtype = 'float16'"], ValueError,
     "GAN.compute_dtype must be one of"),
    (["GAN.matmul_precision = 'high'"], ValueError,
     "GAN.matmul_precision must be one of"),
    (["partitioning.fsdp = 2"], ValueError, "must be >= 1 and divide"),
    (["normalizers.batch_norm.group_size = 3",
      "models.mlp.Generator.batch_norm = True"], ValueError,
     "group_size 3 does not divide the batch of 16"),
])
def test_bad_combinations_fail_before_training(bindings, error, match,
                                               tmp_path, monkeypatch):
  seen = []
  with pytest.raises(error, match=match):
    _train(str(tmp_path), 3, monkeypatch, seen, gin_bindings=bindings)
  assert not seen


def test_batch_must_split_over_the_devices(tmp_path, monkeypatch):
  monkeypatch.setattr(
      train.partitioning, "make",
      lambda: types.SimpleNamespace(mesh=types.SimpleNamespace(size=3)))
  with pytest.raises(ValueError, match=r"experiment.batch_size = 16 does not "
                     r"split over the 3 devices; use a multiple of 3 \(e.g. "
                     r"18\)"):
    _train(str(tmp_path), 3)


def test_full_disk_is_an_error_before_training(tmp_path, monkeypatch):
  usage = collections.namedtuple("usage", "total used free")
  monkeypatch.setattr(checkpoint.shutil, "disk_usage",
                      lambda path: usage(10**6, 10**6, 0))
  seen = []
  with pytest.raises(checkpoint.DiskFullError, match="Not enough disk space"):
    _train(str(tmp_path), 3, monkeypatch, seen)
  assert not seen


def test_unsupported_resolution_fails_before_compiling(tmp_path, clean_gin,
                                                       monkeypatch):
  testdata = paths.TESTDATA
  config.parse([os.path.join(testdata, "tiny_digits.gin")], [
      "GAN.generator = @models.resnet_cifar.Generator",
      "GAN.discriminator = @models.resnet_cifar.Discriminator",
      "train.num_steps = 2"])
  compiled = []
  monkeypatch.setattr(train.jax, "jit", lambda *a, **k: compiled.append(a))
  with pytest.raises(ValueError, match=r"models.resnet_cifar.Generator "
                     r"supports square images of side 32; got 28×28"):
    train.train(str(tmp_path))
  assert not compiled


def test_tensorboard_gets_the_config_scalars_images_and_histograms(
    tmp_path, clean_gin):
  """Losses, D's outputs, gradient norms and learning rates as scalars, the
  sample grid, histograms of D's logits on real and fake examples, and the
  operative config as text."""
  testdata = paths.TESTDATA
  config.parse([os.path.join(testdata, "tiny_digits.gin")], [
      "train.num_steps = 2", "train.log_every = 1", "train.sample_every = 2"])
  train.train(str(tmp_path))
  events = event_accumulator.EventAccumulator(
      str(tmp_path), size_guidance={event_accumulator.TENSORS: 0})
  events.Reload()
  tags = set(events.Tags()["tensors"])
  assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm",
          "g_grad_norm", "d_lr", "g_lr", "samples", "d_logits_real",
          "d_logits_fake", "operative_config"} <= tags, tags
  lr = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors("g_lr")]
  np.testing.assert_allclose(lr, gin.query_parameter(
      "generator/optax.adam.learning_rate"))
  histogram = tensor_util.make_ndarray(events.Tensors("d_logits_real")[0].tensor_proto)
  assert histogram.shape[-1] == 3  # (left edge, right edge, count) buckets.
  assert histogram[:, 2].sum() == 4  # train.num_sample_images real digits.
  text = tensor_util.make_ndarray(events.Tensors("operative_config")[0].tensor_proto)
  assert b"GAN.z_dim = 8" in np.asarray(text).item()
