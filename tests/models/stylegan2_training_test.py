"""StyleGAN2 trains from gin (models/stylegan2.gin) through the ordinary
step, and a run killed and resumed ends bit-identical to an uninterrupted
one: G's tracked mean w, the path-length mean and ADA's p included.
`ganjax.sample` draws its style-mixing grids and walks in W."""

import gin
import jax
import numpy as np
import pytest
from PIL import Image

from ganjax.core import sampling
from ganjax.run import generator_export
from ganjax.run import image_files
from ganjax.run import run_dir
from tests import workdirs

_BINDINGS = [
    "datasets.digits.size = 8",
    "GAN.z_dim = 16",
    "models.stylegan2.Generator.w_dim = 16",
    "models.stylegan2.Generator.mapping_layers = 2",
    "models.stylegan2.Generator.channel_base = 64",
    "models.stylegan2.Generator.channel_max = 8",
    "models.stylegan2.Discriminator.channel_base = 64",
    "models.stylegan2.Discriminator.channel_max = 8",
    "GAN.penalty_weight = 1.0",
    "D_REG_INTERVAL = 2",
    "G_REG_INTERVAL = 2",
    "terms.ADA.interval = 1",
    "terms.ADA.kimg = 0.1",
    "GAN.ema_half_life_images = 100",
    "GAN.ema_rampup = 0.5",
    "generator/optimizers.lazy_regularized_adam.learning_rate = 0.002",
    "discriminator/optimizers.lazy_regularized_adam.learning_rate = 0.002",
    "experiment.batch_size = 8",
    "train.log_every = 2",
    "train.sample_every = 0",
    "train.checkpoint_every = 3",
]


def _train(workdir, num_steps):
  return workdirs.train_in_process(
      workdir, ["base.gin", "models/stylegan2.gin", "datasets/digits.gin"],
      _BINDINGS, num_steps)


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
  """A run trained to step 6 uninterrupted: (workdir, final state)."""
  workdir = str(tmp_path_factory.mktemp("whole"))
  return workdir, _train(workdir, 6)


def test_stylegan2_resumes_bit_for_bit(tmp_path, whole):
  whole = whole[1]
  halves = str(tmp_path / "halves")
  first = _train(halves, 3)
  # What evolves in training moved by step 3.
  assert float(first.terms["PathLength"]) > 0
  assert float(first.terms["ADA"]["p"]) > 0
  assert np.abs(first.g_collections["w_avg"]["mapping"]["w_avg"]).max() > 0
  resumed = _train(halves, 6)
  assert int(resumed.step) == 6
  assert jax.tree.structure(resumed) == jax.tree.structure(whole)
  jax.tree.map(np.testing.assert_array_equal, resumed, whole)
  assert float(whole.terms["PathLength"]) != float(first.terms["PathLength"])


def test_sample_draws_style_mixing_grids_and_walks_in_w(tmp_path, whole):
  workdir = whole[0]
  out = {"mix": str(tmp_path / "mix.png"), "walk": str(tmp_path / "walk.gif")}
  processes = {
      "mix": workdirs.start("ganjax.sample", [
          f"--workdir={workdir}", "--mix_rows=0,1", "--mix_cols=2,3,4",
          "--mix_styles=0-1", "--truncation_psi=0.7", f"--out={out['mix']}"]),
      "walk": workdirs.start("ganjax.sample", [
          f"--workdir={workdir}", "--interpolate=5:6", "--space=w",
          "--steps=3", f"--out={out['walk']}"]),
  }
  logs = {name: workdirs.finish(p) for name, p in processes.items()}
  for name in ("mix", "walk"):
    assert logs[name][0] == 0, logs[name][1][-3000:]

  gin.clear_config()
  try:
    _, gan, state, use_ema = run_dir.load_for_sampling(workdir)
    walk = image_files.to_uint8(sampling.interpolations(
        gan, state, [(5, 6)], 3, False, use_ema, space="w"))
    mix = image_files.to_uint8(sampling.style_mixing(
        sampling.with_truncation_psi(gan, 0.7), state, [0, 1], [2, 3, 4],
        [0, 1], use_ema))
    with pytest.raises(ValueError, match=r"Styles must be layers in \[0, "
                       r"4\)"):
      sampling.style_mixing(gan, state, [0], [1], list(range(10)), use_ema)
  finally:
    gin.clear_config()
  grid = np.asarray(Image.open(out["mix"]))
  assert grid.shape == (3 * 8, 4 * 8)  # Rows + 1 by columns + 1 cells.
  np.testing.assert_array_equal(grid[:8, :8], 0)  # The corner.
  np.testing.assert_array_equal(grid[8:16, 16:24], mix[1, 2, ..., 0])
  gif = Image.open(out["walk"])
  assert gif.n_frames == 3
  gif.seek(1)
  np.testing.assert_allclose(np.asarray(gif.convert("L")), walk[0, 1, ..., 0],
                             atol=2)


def test_export_takes_the_noise_seed(tmp_path, whole):
  # StyleGAN2's G draws noise: its export takes the key's raw data.
  gin.clear_config()
  try:
    _, gan, state, use_ema = run_dir.load_for_sampling(whole[0])
  finally:
    gin.clear_config()
  path = str(tmp_path / generator_export.STABLEHLO)
  generator_export.write_stablehlo(gan, state, use_ema, path)
  assert list(generator_export.inputs(gan)) == ["z", "noise_seed"]
  with open(path, "rb") as f:
    g = jax.export.deserialize(bytearray(f.read()))
  z, key = gan.sample_z(jax.random.key(3), 5), jax.random.key(4)
  np.testing.assert_allclose(
      np.asarray(g.call(z, jax.random.key_data(key))),
      np.asarray(sampling.generate(gan, state, z, use_ema, rng=key)),
      atol=1e-5)
