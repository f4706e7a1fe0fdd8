"""StyleGAN2 trains from gin (models/stylegan2.gin) through the ordinary
step, and a run killed and resumed ends bit-identical to an uninterrupted
one: G's tracked mean w, the path-length mean and ADA's p included."""

import jax
import numpy as np

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
    "GAN.penalty_every = 2",
    "terms.PathLength.every = 2",
    "terms.ADA.interval = 1",
    "terms.ADA.kimg = 0.1",
    "GAN.ema_half_life_images = 100",
    "GAN.ema_rampup = 0.5",
    "generator/optax.adam.learning_rate = 0.002",
    "discriminator/optax.adam.learning_rate = 0.002",
    "experiment.batch_size = 8",
    "train.log_every = 2",
    "train.sample_every = 0",
    "train.checkpoint_every = 3",
]


def _train(workdir, num_steps):
  return workdirs.train_in_process(
      workdir, ["base.gin", "models/stylegan2.gin", "datasets/digits.gin"],
      _BINDINGS, num_steps)


def test_stylegan2_resumes_bit_for_bit(tmp_path):
  whole = _train(str(tmp_path / "whole"), 6)
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
