"""The sampling contract, end to end: `ganjax.main` then `ganjax.sample`.

Each subprocess imports TensorFlow (through clu), so the runs are few and are
started concurrently.
"""

import os
import shutil

import gin
import jax
import numpy as np
import pytest
from PIL import Image

from ganjax.core import sampling
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import image_files
from ganjax.run import run_dir
from ganjax.run import scores_file

from tests import paths
from tests import workdirs


_NUM_SAMPLES = 5

_DIGITS = [
    f"--gin_file={paths.TESTDATA}/tiny_digits.gin",
    # A large step and an EMA that averages from the start, so that EMA and
    # G samples differ.
    "--gin_bindings=generator/optax.adam.learning_rate = 0.05",
    "--gin_bindings=GAN.ema_decay = 0.5",
    "--gin_bindings=GAN.ema_start_step = 0",
    "--gin_bindings=train.num_steps = 2",
]
_CONDITIONAL = [*_DIGITS, "--gin_bindings=GAN.conditional = True",
                "--gin_bindings=GAN.prior = 'normal'"]
_RING = [
    "--gin_file=base.gin", "--gin_file=datasets/ring.gin",
    "--gin_file=models/mlp_pacgan.gin",
    "--gin_bindings=datasets.ring.num_examples = 1000",
    "--gin_bindings=models.mlp.Generator.hidden_dims = (16, 16)",
    "--gin_bindings=models.mlp.Discriminator.hidden_dims = (16,)",
    "--gin_bindings=models.mlp.Discriminator.num_packed = 2",
    "--gin_bindings=experiment.batch_size = 16",
    # As in the PacGAN configs: no EMA is kept.
    "--gin_bindings=GAN.ema_decay = None",
    "--gin_bindings=train.num_steps = 2",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Trains both tiny runs, samples from them; returns their paths and logs."""
  root = tmp_path_factory.mktemp("runs")
  digits, ring = str(root / "digits"), str(root / "ring")
  conditional = str(root / "conditional")
  empty = root / "empty"
  empty.mkdir()
  trainings = [workdirs.start("ganjax.main", [f"--workdir={digits}", *_DIGITS]),
               workdirs.start("ganjax.main", [f"--workdir={ring}", *_RING]),
               workdirs.start("ganjax.main", [f"--workdir={conditional}",
                                      *_CONDITIONAL])]
  # Meanwhile: a workdir without config.gin.
  no_config = workdirs.start("ganjax.sample", [
      f"--workdir={empty}", "--num_samples=2", f"--out={root / 'x.npz'}"])
  for process in trainings:
    rc, log = workdirs.finish(process)
    assert rc == 0, log[-5000:]

  outputs = {
      "digits": str(root / "digits.npz"),
      "label_unconditional": str(root / "label_unconditional.npz"),
      "grid": str(root / "grid.png"),
      "strip": str(root / "strip.png"),
      "gif": str(root / "conditional.gif"),
  }
  samplings = {
      "digits": workdirs.start("ganjax.sample", [
          f"--workdir={digits}", f"--num_samples={_NUM_SAMPLES}",
          f"--out={outputs['digits']}", f"--grid={outputs['grid']}"]),
      "strip": workdirs.start("ganjax.sample", [
          f"--workdir={digits}", "--interpolate=0:1,2:3", "--steps=5",
          f"--out={outputs['strip']}"]),
      "gif": workdirs.start("ganjax.sample", [
          f"--workdir={conditional}", "--interpolate=4:5", "--steps=3",
          "--spherical", "--label=7", f"--out={outputs['gif']}"]),
      "label_unconditional": workdirs.start("ganjax.sample", [
          f"--workdir={ring}", "--num_samples=2",
          f"--out={outputs['label_unconditional']}", "--label=1"]),
  }
  logs = {name: workdirs.finish(p) for name, p in samplings.items()}
  logs["no_config"] = workdirs.finish(no_config)
  return {"digits": digits, "ring": ring, "conditional": conditional,
          "empty": str(empty),
          "outputs": outputs, "logs": logs}


def _load(runs, name, keys=("samples",)):
  """What a `ganjax.sample` command of the fixture wrote."""
  rc, log = runs["logs"][name]
  assert rc == 0, log[-5000:]
  with np.load(runs["outputs"][name]) as data:
    assert sorted(data.keys()) == sorted(keys)
    return data["samples"] if len(keys) == 1 else {k: data[k] for k in keys}


def _draw(runs, name, num=_NUM_SAMPLES, **kwargs):
  """What the command would write, drawn in this process (the command's own
  function; one command per flag would each start a Python with JAX)."""
  gin.clear_config()
  return run_dir.draw_from_run(runs[name], num, **kwargs)


def _expected(workdir, num, use_ema, labels=None, truncation=None):
  """Samples recomputed in-process from the checkpoint, with flax directly.

  Latents as documented by `sampling.draw`: from key(seed) folded with the
  batch start, 256 per batch; seed 0 is the sampler's default.
  """
  gin.clear_config()
  config.parse([os.path.join(workdir, "config.gin")], [])
  exp = experiment_lib.make_experiment()
  manager = checkpoint.manager(workdir)
  state = checkpoint.restore(manager, jax.eval_shape(exp.init_state))
  manager.close()
  z = exp.gan.sample_z(jax.random.fold_in(jax.random.key(0), 0), 256,
                       truncation)
  y = () if labels is None else (jax.nn.one_hot(
      np.pad(labels, (0, 256 - len(labels))), exp.gan.num_classes),)
  params = state.ema_params if use_ema else state.g_params
  out = jax.jit(lambda p, z, *y: exp.gan.generator.apply(
      {"params": p, **state.g_collections}, z, *y, train=False))(params, z,
                                                                  *y)
  return exp, np.asarray(out)[:num]


def _to_uint8(images):
  return np.clip(np.round((images.astype(np.float64) + 1.0) * 127.5), 0, 255)


def test_image_samples(runs, clean_gin):
  got = _load(runs, "digits")
  assert got.shape == (_NUM_SAMPLES, 28, 28, 1)
  assert got.dtype == np.uint8
  # By default the run's EMA generates them; [-1, 1] maps to [0, 255].
  exp, images = _expected(runs["digits"], _NUM_SAMPLES, use_ema=True)
  assert exp.data.spec.is_image
  want = np.clip(np.round((images.astype(np.float64) + 1.0) * 127.5), 0, 255)
  np.testing.assert_allclose(got, want, atol=1)


def test_image_samples_without_ema(runs, clean_gin):
  got = _draw(runs, "digits", use_ema=False)["samples"]
  assert got.shape == (_NUM_SAMPLES, 28, 28, 1)
  assert got.dtype == np.uint8
  _, images = _expected(runs["digits"], _NUM_SAMPLES, use_ema=False)
  want = np.clip(np.round((images.astype(np.float64) + 1.0) * 127.5), 0, 255)
  np.testing.assert_allclose(got, want, atol=1)
  # G's own weights are not its EMA.
  assert np.abs(got.astype(int) - _load(runs, "digits").astype(int)).max() > 1


def test_vector_samples(runs, clean_gin):
  got = _draw(runs, "ring")["samples"]
  assert got.shape == (_NUM_SAMPLES, 2)
  assert got.dtype == np.float32
  exp, want = _expected(runs["ring"], _NUM_SAMPLES, use_ema=False)
  assert not exp.data.spec.is_image and exp.gan.ema_decay is None
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_training_outputs(runs):
  for name in ("digits", "ring"):
    workdir = runs[name]
    for artifact in ("config.gin", "operative_config.gin",
                     "samples/step_00000002.png", "checkpoints/2"):
      assert os.path.exists(os.path.join(workdir, artifact)), artifact


def test_workdir_without_config_fails_clearly(runs):
  rc, log = runs["logs"]["no_config"]
  assert rc != 0
  assert "config.gin" in log
  assert "not a ganjax run directory" in log


def test_conditional_samples_carry_their_labels(runs, clean_gin):
  got = _draw(runs, "conditional", 40)
  labels = got["labels"]
  assert labels.dtype == np.int32 and labels.shape == (40,)
  assert labels.min() >= 0 and labels.max() < 10
  assert len(np.unique(labels)) > 3  # Drawn uniformly over the 10 classes.
  _, images = _expected(runs["conditional"], 40, use_ema=True, labels=labels)
  np.testing.assert_allclose(got["samples"], _to_uint8(images), atol=1)


def test_fixed_label_and_truncation(runs, clean_gin):
  fixed = _draw(runs, "conditional", label=3)
  np.testing.assert_array_equal(fixed["labels"], np.full(_NUM_SAMPLES, 3))
  _, images = _expected(runs["conditional"], _NUM_SAMPLES, use_ema=True,
                        labels=fixed["labels"])
  np.testing.assert_allclose(fixed["samples"], _to_uint8(images), atol=1)
  truncated = _draw(runs, "conditional", label=3, truncation=0.5)
  _, images = _expected(runs["conditional"], _NUM_SAMPLES, use_ema=True,
                        labels=fixed["labels"], truncation=0.5)
  np.testing.assert_allclose(truncated["samples"], _to_uint8(images), atol=1)


def test_standing_statistics_change_the_samples(runs, clean_gin):
  standing = _draw(runs, "digits", standing_stats=512)["samples"]
  assert standing.shape == (_NUM_SAMPLES, 28, 28, 1)
  assert np.abs(standing.astype(int) -
                _load(runs, "digits").astype(int)).max() > 1


def test_label_for_an_unconditional_model_fails_clearly(runs, clean_gin):
  rc, log = runs["logs"]["label_unconditional"]
  assert rc != 0
  assert "--label given, but the model is unconditional" in log
  with pytest.raises(ValueError, match="--label must be in"):
    _draw(runs, "conditional", label=10)


def test_grid_holds_the_samples(runs):
  images = _load(runs, "digits")
  grid = np.asarray(Image.open(runs["outputs"]["grid"]))
  np.testing.assert_array_equal(grid, image_files.image_grid(images)[..., 0])


def _interpolation(workdir, pairs, steps, spherical, label=None):
  """The command's interpolations, recomputed in-process as uint8."""
  gin.clear_config()
  _, gan, state, use_ema = run_dir.load_for_sampling(workdir)
  return image_files.to_uint8(sampling.interpolations(
      gan, state, pairs, steps, spherical, use_ema, label))


def test_interpolation_strip(runs, clean_gin):
  rc, log = runs["logs"]["strip"]
  assert rc == 0, log[-5000:]
  strip = np.asarray(Image.open(runs["outputs"]["strip"]))
  assert strip.shape == (2 * 28, 5 * 28)  # A row per pair, a column per step.
  rows = _interpolation(runs["digits"], [(0, 1), (2, 3)], 5, False)
  np.testing.assert_array_equal(strip[28:, :28], rows[1, 0, ..., 0])
  # The ends are the samples of the seeds' own latents.
  gin.clear_config()
  _, gan, state, use_ema = run_dir.load_for_sampling(runs["digits"])
  end = image_files.to_uint8(sampling.generate(
      gan, state, gan.sample_z(jax.random.key(3), 1), use_ema))
  np.testing.assert_allclose(strip[28:, -28:], end[0, ..., 0], atol=1)


def test_interpolation_gif_keeps_the_class(runs, clean_gin):
  rc, log = runs["logs"]["gif"]
  assert rc == 0, log[-5000:]
  gif = Image.open(runs["outputs"]["gif"])
  assert gif.n_frames == 3 and gif.size == (28, 28)
  frames = _interpolation(runs["conditional"], [(4, 5)], 3, True, label=7)
  gif.seek(2)
  np.testing.assert_allclose(np.asarray(gif.convert("L")),
                             frames[0, 2, ..., 0], atol=2)


def test_step_chooses_the_checkpoint_and_damaged_ones_are_skipped(
    runs, clean_gin, tmp_path):
  workdir = str(tmp_path / "run")
  shutil.copytree(runs["digits"], workdir)
  workdirs.train_in_process(workdir, [os.path.join(workdir, "config.gin")],
                            ["train.checkpoint_every = 1"], num_steps=4)
  workdirs.damage_checkpoint(workdir, 4)
  # The command as a user runs it: the newest readable checkpoint (it died
  # with a raw OCDBT traceback).
  newest = workdirs.start("ganjax.sample", [
      f"--workdir={workdir}", "--num_samples=3", f"--out={tmp_path}/a.npz"])
  at = {}
  for step in (2, 3):
    gin.clear_config()
    at[step] = run_dir.draw_from_run(workdir, 3, step=step)["samples"]
  assert np.abs(at[2].astype(int) - at[3].astype(int)).max() > 0
  rc, log = workdirs.finish(newest)
  assert rc == 0, log[-5000:]
  assert "Checkpoint of step 4 cannot be read" in log
  with np.load(tmp_path / "a.npz") as data:
    np.testing.assert_array_equal(data["samples"], at[3])
  gin.clear_config()
  with pytest.raises(ValueError, match=r"No checkpoint of step 9 .*\[2, 3, "
                     r"4\]"):
    run_dir.draw_from_run(workdir, 3, step=9)  # --step=9
  # --step=best: the step of the best score in scores.csv.
  scores_file.append(workdir, 2, {"fid": 5.0, "inception_score": 1.0})
  scores_file.append(workdir, 3, {"fid": 7.0, "inception_score": 2.0})
  assert run_dir.chosen_step(workdir, "best") == 2
  assert run_dir.chosen_step(workdir, "best", "inception_score") == 3
  assert run_dir.chosen_step(workdir, "3") == 3
  with pytest.raises(ValueError, match="no 'kid' scores"):
    run_dir.chosen_step(workdir, "best", "kid")
  with pytest.raises(ValueError, match="a step number or 'best'"):
    run_dir.chosen_step(workdir, "latest")
