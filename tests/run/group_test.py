"""Tests of ganjax.run.group (`train.train` with `seeds` or `bindings`): runs
trained together in one vmapped step match the same runs trained one by
one, and stay ordinary runs."""

import os
import re
import signal

import jax
import numpy as np
import pytest

from ganjax.run import group
from ganjax.run import guard
from ganjax.run import preemption

from tests.run.train_test import _hook_batch
from tests.run.train_test import _signal_at
from tests.run.train_test import _train


def _assert_close(got, want):
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                       atol=1e-5), got, want)


@pytest.fixture(scope="module")
def one_by_one(tmp_path_factory):
  """Seeds 3 and 5 trained separately for 6 steps: {seed: (workdir, state)}."""
  runs = {}
  for seed in (3, 5):
    workdir = str(tmp_path_factory.mktemp(f"seed{seed}"))
    runs[seed] = workdir, _train(workdir, 6,
                                 gin_bindings=[f"experiment.seed = {seed}"])
  return runs


def test_seeds_trained_together_match_one_by_one(one_by_one, tmp_path):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  states = _train(workdirs, 6, seeds=[3, 5])
  for workdir, state, seed in zip(workdirs, states, (3, 5)):
    assert int(state.step) == 6
    _assert_close(state, one_by_one[seed][1])
    # Each is an ordinary run: its own config, checkpoints and samples.
    with open(os.path.join(workdir, "operative_config.gin")) as f:
      assert f"experiment.seed = {seed}" in f.read()
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == [
        "3", "6"]
    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == [
        "step_00000003.png", "step_00000006.png"]
  # The seeds differ: the runs are not copies of one another.
  assert not np.allclose(jax.tree.leaves(states[0].g_params)[0],
                         jax.tree.leaves(states[1].g_params)[0])


def test_seeds_resume_together_or_alone(one_by_one, tmp_path, monkeypatch):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  _train(workdirs, 3, seeds=[3, 5])
  seen = []
  together = _train(workdirs, 6, monkeypatch, seen, seeds=[3, 5])
  # Resumed together from their step-3 checkpoints: each run read its data
  # of steps 3 to 5 only.
  assert seen == [3, 3, 4, 4, 5, 5]
  for state, seed in zip(together, (3, 5)):
    _assert_close(state, one_by_one[seed][1])
  # A run of a group goes on alone like any run.
  alone = _train(workdirs[1], 9, gin_bindings=["experiment.seed = 5"])
  assert int(alone.step) == 9


def test_sigterm_stops_the_group_after_one_step_and_it_resumes(
    one_by_one, tmp_path, monkeypatch):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  _hook_batch(monkeypatch, _signal_at(4, signal.SIGTERM))
  with pytest.raises(preemption.Preempted,
                     match=r"Stopped by SIGTERM after step (\d)") as stopped:
    _train(workdirs, 6, seeds=[3, 5])
  monkeypatch.undo()
  stop_step = int(re.search(r"after step (\d)", str(stopped.value)).group(1))
  for workdir in workdirs:  # Both runs saved the step they stopped after.
    assert max(int(s) for s in os.listdir(
        os.path.join(workdir, "checkpoints"))) == stop_step
  resumed = _train(workdirs, 6, seeds=[3, 5])
  for state, seed in zip(resumed, (3, 5)):
    _assert_close(state, one_by_one[seed][1])


def test_diverged_seed_stops_the_group_naming_it(tmp_path):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  with pytest.raises(group.GroupDivergedError,
                     match=r"Non-finite values at step \d+ \(.*\) in "
                     r".*a\. Runs trained together do not roll back"):
    _train(workdirs, 6, seeds=[3, 5], gin_bindings=[
        "discriminator/optax.adam.learning_rate = 1e30",
        "generator/optax.adam.learning_rate = 1e30"])
  assert issubclass(group.GroupDivergedError, guard.DivergedError)


def test_seeds_need_one_workdir_each(tmp_path):
  with pytest.raises(ValueError, match="one workdir per seed"):
    _train([str(tmp_path / "a")], 3, seeds=[3, 5])
  with pytest.raises(ValueError, match="distinct seeds"):
    _train([str(tmp_path / "a"), str(tmp_path / "b")], 3, seeds=[3, 3])


def test_seeds_at_different_steps_cannot_go_on_together(tmp_path):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  _train(workdirs[0], 3, gin_bindings=["experiment.seed = 3"])
  with pytest.raises(group.GroupApartError,
                     match=r"different steps \(\[3, None\]"):
    _train(workdirs, 6, seeds=[3, 5])


# Learning rates and λ (with R1, so that λ matters) of two runs.
_R1 = ["GAN.penalty = @penalties.r1"]
_HYPERPARAMETERS = [
    [f"{scope}/optax.adam.learning_rate = {lr}" for scope in
     ("generator", "discriminator")] + [f"GAN.penalty_weight = {weight}"]
    for lr, weight in (("1e-3", "0.5"), ("3e-4", "4.0"))]


def test_hyperparameters_trained_together_match_one_by_one(tmp_path):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  together = _train(workdirs, 4, gin_bindings=_R1, bindings=_HYPERPARAMETERS)
  for workdir, state, run in zip(workdirs, together, _HYPERPARAMETERS):
    alone = _train(workdir + "_alone", 4, gin_bindings=_R1 + run)
    g_lr, _, weight = run
    _assert_close(state, alone)
    lr = float(g_lr.split("=")[1])
    np.testing.assert_allclose(
        state.hyperparams["g_optimizer"]["learning_rate"], lr)
    np.testing.assert_allclose(
        state.hyperparams["d_optimizer"]["learning_rate"], lr)
    np.testing.assert_allclose(state.penalty_weight,
                               float(weight.split("=")[1]))
    with open(os.path.join(workdir, "operative_config.gin")) as f:
      assert f"generator/adam.learning_rate = {lr}\n" in f.read()


@pytest.mark.parametrize("name,values,match", [
    ("GAN.z_dim", (2, 3), "change the model, its init or its train step"),
    # Only the init differs.
    ("initializers.normal.stddev", (0.02, 0.5), "change the model, its init"),
    ("train.log_every", (2, 3), r"settings the runs share \(train, "),
])
def test_runs_that_compute_differently_are_not_trained_together(
    tmp_path, name, values, match):
  workdirs = [str(tmp_path / "a"), str(tmp_path / "b")]
  with pytest.raises(group.GroupMismatchError, match=match):
    _train(workdirs, 3, gin_bindings=[
        "models.mlp.Generator.kernel_init = @initializers.normal()"],
           bindings=[[f"{name} = {v}"] for v in values])


def test_runs_trained_together_bind_the_same_names(tmp_path):
  with pytest.raises(ValueError, match="must bind the same names"):
    _train([str(tmp_path / "a"), str(tmp_path / "b")], 3, bindings=[
        ["experiment.seed = 1"], ["experiment.seed = 2", "GAN.z_dim = 3"]])
