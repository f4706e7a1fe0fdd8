"""Every experiment config parses and builds; gin names are checked early."""

import glob
import os

import gin
import jax
import numpy as np
import pytest

from ganjax import config
from ganjax import experiment as experiment_lib
from ganjax import steps

_EXPERIMENTS = sorted(glob.glob(os.path.join(config.CONFIG_DIR, "experiments",
                                             "*.gin")))


def test_there_are_experiments():
  assert _EXPERIMENTS
  assert os.path.join(config.CONFIG_DIR, "experiments",
                      "quickstart.gin") in _EXPERIMENTS


@pytest.mark.parametrize("path", _EXPERIMENTS, ids=os.path.basename)
def test_experiment_parses_and_builds(path, clean_gin):
  config.parse([path], [])
  exp = experiment_lib.make_experiment()
  assert exp.batch_size >= 1
  state = jax.eval_shape(exp.init_state)
  assert state.step.shape == ()
  # G makes examples of the data's shape.
  z = jax.ShapeDtypeStruct((2, exp.gan.z_dim), np.float32)
  fake = jax.eval_shape(
      lambda p, c, z: exp.gan.generator.apply({"params": p, **c}, z,
                                              train=False),
      state.g_params, state.g_collections, z)
  assert fake.shape == (2, *exp.data.spec.shape)
  # One whole train step on a real batch traces: batch sizes fit disc_iters
  # and PacGAN's packing.
  batch = exp.batch(0)
  assert batch["x"].shape == (exp.batch_size * exp.gan.disc_iters,
                              *exp.data.spec.shape)
  new_state, metrics = jax.eval_shape(
      lambda s, x: steps.train_step(exp.gan, s, {"x": x}, exp.train_key),
      state, jax.ShapeDtypeStruct(batch["x"].shape, batch["x"].dtype))
  assert jax.tree.structure(new_state) == jax.tree.structure(state)
  assert metrics["g_loss"].shape == ()
  # train.num_steps is bound, as `ganjax.main` needs it.
  num_steps = gin.query_parameter("train.num_steps")
  if isinstance(num_steps, gin.config.ConfigurableReference):
    num_steps = num_steps.scoped_configurable_fn()  # A macro, %NUM_STEPS.
  assert num_steps > 0


@pytest.mark.parametrize("path", _EXPERIMENTS, ids=os.path.basename)
def test_written_config_round_trips(path, clean_gin, tmp_path):
  # `ganjax.sample` rebuilds the model from the config.gin a run writes.
  config.parse([path], [])
  original = gin.config_str()
  written = config.write_config(str(tmp_path))
  assert written == os.path.join(str(tmp_path), "config.gin")
  gin.clear_config()
  config.parse([written], [])
  assert gin.config_str() == original
  jax.eval_shape(experiment_lib.make_experiment().init_state)


@pytest.mark.parametrize("binding", [
    "GAN.no_such_parameter = 1",
    "no_such_configurable.value = 1",
    "models.mlp.Generator.hidden_dimz = (8,)",
])
def test_unknown_binding_raises_at_parse_time(binding, clean_gin):
  with pytest.raises(ValueError):
    config.parse(["base.gin"], [binding])


def test_unknown_reference_raises_at_parse_time(clean_gin):
  with pytest.raises(ValueError):
    config.parse(["base.gin"], ["GAN.loss = @losses.no_such_loss"])


def test_missing_file_raises(clean_gin):
  with pytest.raises(FileNotFoundError, match="no_such.gin"):
    config.parse(["no_such.gin"], [])
