"""Tests of ganjax.run.partitioning: the same training on 1 to 8 devices.

The devices are 8 simulated CPU devices, which must be asked for before JAX
starts: the test runs this file as a script in a subprocess with
`--xla_force_host_platform_device_count=8`; the script trains and saves the
states, and the test compares them.
"""

import json
import os
import subprocess
import sys

import gin
import jax
import numpy as np
import pytest

from ganjax.core import steps
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import partitioning
from ganjax.run import registry  # pylint: disable=unused-import
from tests import paths

_STEPS = 3
# MLPs on the 2-D ring: two D updates per G update, batch norm in G and D
# (global statistics) and spectral norm in D.
_MLP = ["datasets/ring.gin"], [
    "datasets.ring.num_examples = 512",
    "GAN.generator = @models.mlp.Generator",
    "GAN.discriminator = @models.mlp.Discriminator",
    "GAN.z_dim = 4",
    "GAN.disc_iters = 2",
    "GAN.ema_decay = 0.5",
    "GAN.ema_start_step = 0",
    "models.mlp.Generator.hidden_dims = (32, 32)",
    "models.mlp.Discriminator.hidden_dims = (32, 32)",
    "models.mlp.Discriminator.maxout_pieces = 2",
    "models.mlp.Discriminator.batch_norm = True",
    "models.mlp.Discriminator.weight_norm = @normalizers.spectral_norm",
    "experiment.batch_size = 16",
]
# A class-conditional DCGAN (batch norm in G): convolutions, and labels
# split with the images. With SGD: the biases that batch norm cancels get
# gradients of pure rounding noise, which Adam would blow up to steps of the
# learning rate's size.
_CONV = [os.path.join(paths.TESTDATA,
                      "tiny_digits.gin")], [
    "GAN.conditional = True",
    "GAN.g_optimizer = @generator/optax.sgd()",
    "GAN.d_optimizer = @discriminator/optax.sgd()",
    "optax.sgd.learning_rate = 0.1",
    "GAN.ema_decay = None",
]
# StyleGAN2 (models/stylegan2.gin) at 8×8: noise inputs, style mixing, the
# minibatch stddev over the global batch, lazy R1 and the path length (its
# mean in the state), with SGD (as the DCGAN's, for the same reason).
_STYLEGAN2 = ["base.gin", "models/stylegan2.gin", "datasets/digits.gin"], [
    "datasets.digits.size = 8",
    "GAN.terms = [@terms.PathLength()]",
    "G_REG_INTERVAL = 2",
    "D_REG_INTERVAL = 2",
    "GAN.penalty_weight = 1.0",
    "GAN.z_dim = 8",
    "models.stylegan2.Generator.w_dim = 8",
    "models.stylegan2.Generator.mapping_layers = 1",
    "models.stylegan2.Generator.channel_base = 32",
    "models.stylegan2.Generator.channel_max = 4",
    "models.stylegan2.Discriminator.channel_base = 32",
    "models.stylegan2.Discriminator.channel_max = 4",
    "GAN.g_optimizer = @generator/optax.sgd()",
    "GAN.d_optimizer = @discriminator/optax.sgd()",
    "optax.sgd.learning_rate = 0.01",
    "experiment.batch_size = 8",
]
_FSDP = ["partitioning.fsdp = 2", "partitioning.fsdp_min_size = 64"]
# name: (config, devices, bindings)
_RUNS = {
    "1": (_MLP, 1, []),
    "2": (_MLP, 2, []),
    "4": (_MLP, 4, []),
    "8": (_MLP, 8, []),
    "8_fsdp2": (_MLP, 8, _FSDP),
    "conv_1": (_CONV, 1, []),
    "conv_8_fsdp2": (_CONV, 8, _FSDP),
    "stylegan2_1": (_STYLEGAN2, 1, []),
    "stylegan2_8_fsdp2": (_STYLEGAN2, 8, _FSDP),
}


def _train(gin_config, num_devices: int, bindings: list[str]):
  """A few steps on the first `num_devices` devices: (state, cache size)."""
  gin.clear_config()
  files, base_bindings = gin_config
  config.parse(["base.gin", *files] if files[0].endswith("ring.gin")
               else files, base_bindings + bindings)
  exp = experiment_lib.make_experiment()
  part = partitioning.make(devices=jax.devices()[:num_devices])
  template = jax.eval_shape(exp.init_state)
  state = part.init(exp.init_state, template)
  train_step = part.step(lambda s, b, k: steps.train_step(exp.gan, s, b, k),
                         template)
  for step in range(_STEPS):
    state, _ = train_step(state, part.put_batch(exp.batch(step)),
                          exp.train_key)
  return state, train_step.jitted._cache_size()  # pylint: disable=protected-access


def _save_runs(out_dir: str) -> None:
  """Saves each run's state leaves, with their shapes and shardings."""
  for name, run in _RUNS.items():
    state, cache_size = _train(*run)
    leaves = jax.tree_util.tree_leaves_with_path(state)
    np.savez(os.path.join(out_dir, f"{name}.npz"), cache_size=cache_size,
             **{jax.tree_util.keystr(path): np.asarray(leaf)
                for path, leaf in leaves})
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
      json.dump({jax.tree_util.keystr(path): [list(leaf.shape),
                                              list(leaf.sharding.spec)]
                 for path, leaf in leaves}, f)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  out_dir = str(tmp_path_factory.mktemp("runs"))
  # Eight CPU devices, with the suite's fast-compile XLA flags
  # (tests/xla_settings.py).
  env = {**os.environ, "JAX_PLATFORMS": "cpu",
         "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") +
                      " --xla_force_host_platform_device_count=8"}
  subprocess.run([sys.executable, "-m", "tests.run.partitioning_test", out_dir],
                 check=True, env=env, timeout=600,
                 cwd=paths.REPO)
  runs = {}
  for name in _RUNS:
    runs[name] = dict(np.load(os.path.join(out_dir, f"{name}.npz")))
    with open(os.path.join(out_dir, f"{name}.json")) as f:
      runs[name]["shardings"] = json.load(f)
  return runs


@pytest.mark.parametrize("reference, name", [
    ("1", "2"), ("1", "4"), ("1", "8"), ("1", "8_fsdp2"),
    ("conv_1", "conv_8_fsdp2"), ("stylegan2_1", "stylegan2_8_fsdp2")])
def test_more_devices_give_the_same_state(runs, reference, name):
  want, got = runs[reference], runs[name]
  assert set(got) == set(want)
  assert int(got[".step"]) == _STEPS
  for key in want:
    if key == "shardings":
      continue
    np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5,
                               err_msg=key)


def test_the_step_is_compiled_once(runs):
  assert {int(run["cache_size"]) for run in runs.values()} == {1}


@pytest.mark.parametrize("name, fsdp", [("8", 1), ("8_fsdp2", 2),
                                        ("conv_8_fsdp2", 2),
                                        ("stylegan2_8_fsdp2", 2)])
def test_fsdp_shards_large_arrays_along_their_largest_divisible_axis(
    runs, name, fsdp):
  sharded = 0
  for path, (shape, spec) in runs[name]["shardings"].items():
    spec += [None] * (len(shape) - len(spec))  # P() leaves trailing Nones.
    divisible = [n for n in shape if n % fsdp == 0]
    if fsdp == 1 or np.prod(shape) < 64 or not divisible:
      assert spec == [None] * len(shape), path
      continue
    want = [None] * len(shape)
    want[shape.index(max(divisible))] = "fsdp"
    assert spec == want, path
    sharded += 1
  assert sharded or fsdp == 1


def test_fsdp_must_divide_the_devices():
  with pytest.raises(ValueError, match="partitioning.fsdp = 3 must be >= 1 "
                     "and divide the 1 devices"):
    partitioning.make(fsdp=3)


if __name__ == "__main__":
  _save_runs(sys.argv[1])
