"""Tests of ganjax.core.progressive: the schedule, real images at a level, and a
growing run (one compile per level, per-level batches, samples, resume)."""

import collections
import os

import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from ganjax.core import progressive
from ganjax.models import blocks
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import settings as settings_lib
from ganjax.run import train
from tests import paths

_CONFIG = os.path.join(paths.TESTDATA,
                       "tiny_pggan.gin")


def test_schedule_levels_fades_and_batches():
  schedule = progressive.schedule(
      resolution=32, batch_size=16, stabilize_images=100, fade_images=64,
      batch_sizes={32: 8}, lr_multipliers={16: 2.0}, disc_iters=2)
  # Level 0: ⌈100 / 32⌉ = 4 steps; then ⌈64 / 32⌉ = 2 fade and 4 steady
  # steps per level at 16 per step x 2 D steps, and 64 / 16, 100 / 16 at 32².
  assert [(lv.level, lv.start, lv.fade_steps, lv.batch_size,
           lv.lr_multiplier) for lv in schedule.levels] == [
               (0, 0, 0, 16, 1.0), (1, 4, 2, 16, 1.0), (2, 10, 2, 16, 2.0),
               (3, 16, 4, 8, 1.0)]
  assert schedule.level_ends() == {4, 10, 16}
  assert schedule.at(0).level == 0 and schedule.at(9).level == 1
  assert schedule.at(10).level == 2 and schedule.at(10 ** 6).level == 3
  assert schedule.examples_before(5, 2) == 5 * 32
  assert schedule.examples_before(17, 2) == 16 * 32 + 16
  level = schedule.levels[3]
  np.testing.assert_allclose(
      [level.fade(s) for s in (16, 17, 19, 20, 30)], [0, 0.25, 0.75, 1, 1])
  assert float(schedule.levels[0].fade(0)) == 1.0
  # What the networks last trained at after 0, 17 and 18 G steps.
  assert schedule.trained_at(0) == (0, 1.0)
  assert schedule.trained_at(17) == (3, 0.0)
  assert schedule.trained_at(18) == (3, 0.25)


@pytest.mark.parametrize("kwargs, match", [
    (dict(resolution=28), "pad or resize the data"),
    (dict(batch_sizes={12: 4}), r"batch_sizes has resolutions \[12\]"),
])
def test_bad_schedules_are_refused(kwargs, match):
  with pytest.raises(ValueError, match=match):
    progressive.schedule(**{"resolution": 16, "batch_size": 8, **kwargs})


def test_real_images_are_downscaled_and_blended():
  x = jax.random.uniform(jax.random.key(0), (2, 16, 16, 3))
  eight = blocks.downsample(x)
  four = blocks.downsample(eight)
  np.testing.assert_array_equal(progressive.real_images(x, 0, 0.3), four)
  np.testing.assert_array_equal(progressive.real_images(x, 1, 1.0), eight)
  np.testing.assert_array_equal(progressive.real_images(x, 1, 0.0),
                                blocks.upsample(four, "nearest"))
  np.testing.assert_allclose(
      progressive.real_images(x, 2, 0.25),
      0.75 * blocks.upsample(eight, "nearest") + 0.25 * x, rtol=1e-6)


def test_a_schedule_needs_a_growing_model(clean_gin):
  config.parse([os.path.join(paths.TESTDATA,
                             "tiny_digits.gin")],
               ["experiment.schedule = @progressive.schedule",
                "datasets.digits.size = 32"])
  with pytest.raises(ValueError, match="needs a growing model"):
    experiment_lib.make_experiment()


def _train(workdir, num_steps, monkeypatch=None):
  """The tiny growing run for `num_steps`; {level: traces of its step}."""
  traces = collections.Counter()
  if monkeypatch is not None:
    step = progressive.train_step

    def counted(schedule, level, *args):
      traces[level.level] += 1
      return step(schedule, level, *args)

    monkeypatch.setattr(progressive, "train_step", counted)
  gin.clear_config()
  try:
    config.parse([_CONFIG], [f"train.num_steps = {num_steps}",
                             "train.log_every = 1", "train.sample_every = 0",
                             "train.checkpoint_every = 3"])
    return jax.device_get(train.train(workdir)), traces
  finally:
    gin.clear_config()


def _trained_at(step):
  """The level and fade that the tiny growing run last trained at, and
  samples at, after `step` G steps."""
  gin.clear_config()
  try:
    config.parse([_CONFIG], ["train.num_steps = 7"])
    return experiment_lib.make_experiment().schedule.trained_at(step)
  finally:
    gin.clear_config()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("grown"))
  with pytest.MonkeyPatch.context() as monkeypatch:
    state, traces = _train(workdir, 7, monkeypatch)
  return workdir, state, traces


def test_each_level_compiles_once(uninterrupted):
  _, state, traces = uninterrupted
  # Level 0 is also traced (not compiled) before training, for the shapes.
  assert traces == {0: 2, 1: 1}
  assert int(state.step) == 7
  level, fade = _trained_at(int(state.step))
  assert level == 1 and fade == 1.0
  # Adam restarted when level 1 began to fade in (step 2) and again when it
  # began to train at full weight (step 5): 2 updates since.
  assert int(state.g_opt_state.count) == 2
  assert int(state.d_opt_state.count) == 2


def test_levels_have_their_batch_sizes(clean_gin):
  config.parse([_CONFIG], ["train.num_steps = 7"])
  exp = experiment_lib.make_experiment()
  assert [len(exp.batch(s)["x"]) for s in (0, 1, 2, 6)] == [8, 8, 4, 4]
  # Batches follow on in the data's order as the batch size changes.
  whole = exp.data.batch_at(0, 8 * 2 + 4 * 2, exp.seed)["x"]
  np.testing.assert_array_equal(
      np.concatenate([exp.batch(s)["x"] for s in range(4)]), whole)


def test_samples_and_the_growing_strip(uninterrupted):
  workdir, _, _ = uninterrupted
  names = sorted(os.listdir(os.path.join(workdir, "samples")))
  # Samples at the end of level 0 (step 2) and at the last step.
  assert names == ["growing", "growing.png", "step_00000002.png",
                   "step_00000007.png"]
  strip = np.asarray(Image.open(os.path.join(workdir, "samples",
                                             "growing.png")))
  assert strip.shape == (2 * 8, 4 * 8)  # A row per level, 4 samples of 8².
  # The level-0 row is 4×4 images upsampled: constant 2×2 blocks.
  row0 = strip[:8].astype(int)
  np.testing.assert_array_equal(row0[::2], row0[1::2])
  np.testing.assert_array_equal(row0[:, ::2], row0[:, 1::2])
  assert np.any(strip[8:][::2] != strip[8:][1::2])


def test_a_run_resumed_mid_fade_equals_an_uninterrupted_one(uninterrupted,
                                                           tmp_path):
  workdir = str(tmp_path)
  stopped, _ = _train(workdir, 4)  # Level 1 fades in over steps 2-4.
  level, fade = _trained_at(int(stopped.step))
  assert level == 1
  np.testing.assert_allclose(fade, 1 / 3)  # (3 - 2) / 3.
  resumed, _ = _train(workdir, 7)
  jax.tree.map(np.testing.assert_array_equal, resumed, uninterrupted[1])
  assert jnp.all(jnp.isfinite(jax.tree.leaves(resumed.g_params)[0]))


def test_every_levels_batch_must_split_over_the_devices(clean_gin):
  config.parse([_CONFIG], ["train.num_steps = 7"])
  exp = experiment_lib.make_experiment()
  experiment_lib.check_devices(exp, 4)
  with pytest.raises(ValueError, match=r"progressive.schedule.batch_sizes"
                     r"\[8\] = 4 does not split over the 8 devices"):
    experiment_lib.check_devices(exp, 8)


def test_a_level_ends_with_samples_a_checkpoint_and_scores():
  settings = settings_lib.Settings(
      num_steps=100, log_every=0, sample_every=0, checkpoint_every=0,
      eval_every=100, max_checkpoints=3, keep_checkpoint_every=0,
      num_sample_images=4)
  assert settings.due(40) == (False, False, False, False)
  assert settings.due(40, level_end=True) == (True, True, True, True)
  assert settings._replace(eval_every=0).due(40, level_end=True) == (
      True, True, True, False)
