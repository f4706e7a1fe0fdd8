"""Tests of ganjax.studies.spec: expanding a study into trials."""

import os

import gin
import numpy as np
import pytest

from ganjax.run import config
from ganjax.studies import spec

from tests import paths


def _study(**kwargs):
  return spec.make_study(gin_files=["base.gin"], **kwargs)


def test_grid_times_seeds_in_setting_then_seed_order():
  study = _study(grid={"GAN.loss": ["@losses.hinge", "@losses.wgan"],
                       "models.mlp.Discriminator.num_packed": [1, 2]},
                 seeds=2)
  assert len(study.trials) == 2 * 2 * 2
  assert [t.name for t in study.trials[:3]] == ["000-seed0", "000-seed1",
                                                "001-seed0"]
  last = study.trials[-1]
  assert last.setting == 3 and last.seed == 1
  assert last.bindings == ["GAN.loss = @losses.wgan",
                           "models.mlp.Discriminator.num_packed = 2",
                           "experiment.seed = 1"]
  assert study.model(last) == "loss=wgan num_packed=2"
  # The seeds of a setting train together.
  assert [[t.name for t in g] for g in study.groups()[:1]] == [
      ["000-seed0", "000-seed1"]]
  assert [len(g) for g in study.groups()] == [2, 2, 2, 2]


def test_groups_span_the_vmapped_axes_of_a_model():
  kwargs = dict(models={"NS": ["GAN.loss = @losses.non_saturating"],
                        "hinge": ["GAN.loss = @losses.hinge"]},
                grid={"GAN.penalty_weight": [1.0, 10.0]},
                random={"LR": ("log_uniform", 1e-4, 1e-3)}, num_random=3,
                seeds=2)
  study = _study(vmap_axes=["LR", "GAN.penalty_weight"], **kwargs)
  groups = study.groups()
  assert [len(g) for g in groups] == [2 * 3 * 2, 2 * 3 * 2]
  assert [{t.model for t in g} for g in groups] == [{"NS"}, {"hinge"}]
  # Only the random axis vmapped: a group per model and grid point.
  assert [len(g) for g in _study(vmap_axes=["LR"], **kwargs).groups()] == [
      6, 6, 6, 6]
  # Without the seeds: a group per seed too.
  unseeded = _study(vmap_axes=["LR"], vmap_seeds=False, **kwargs).groups()
  assert [len(g) for g in unseeded] == [3] * 8
  assert all(len({t.seed for t in g}) == 1 for g in unseeded)


def test_random_axes_are_drawn_in_range_and_reproducibly():
  kwargs = dict(grid={"GAN.loss": ["@losses.hinge", "@losses.wgan"]},
                random={"generator/optax.adam.learning_rate":
                        ("log_uniform", 1e-5, 1e-2),
                        "generator/optax.adam.b1": ("uniform", 0.0, 1.0),
                        "GAN.disc_iters": ("choice", [1, 5])},
                num_random=20, seeds=[7])
  study = _study(**kwargs)
  assert len(study.trials) == 2 * 20
  rates = np.array([float(t.values["generator/optax.adam.learning_rate"])
                    for t in study.trials])
  assert np.all((rates >= 1e-5) & (rates <= 1e-2))
  # Log-uniform: about as many draws below 3e-4 (the log midpoint) as above.
  assert 10 <= np.sum(rates < np.sqrt(1e-5 * 1e-2)) <= 30
  assert {t.values["GAN.disc_iters"] for t in study.trials} == {"1", "5"}
  assert study.trials == _study(**kwargs).trials
  assert study.trials != _study(sample_seed=1, **kwargs).trials
  # The model is the grid point; the random axes vary within it.
  assert study.model(study.trials[0]) == "loss=hinge"


def test_strings_are_gin_text_and_other_values_repr():
  study = _study(grid={"GAN.prior": ["'normal'"], "x.y": [(16, 16)],
                       "a.b": [1e-4]})
  assert study.trials[0].bindings[:3] == ["GAN.prior = 'normal'",
                                          "x.y = (16, 16)", "a.b = 0.0001"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(random={"a.b": ("uniform", 0, 1)}), "go together"),
    (dict(num_random=3), "go together"),
    (dict(random={"a.b": ("normal", 0, 1)}, num_random=1),
     "unknown distribution 'normal'"),
    (dict(random={"a.b": ("log_uniform", 0, 1)}, num_random=1),
     "low > 0"),
    (dict(grid={"a.b": [1]}, random={"a.b": ("uniform", 0, 1)},
          num_random=1), "both in study.grid and in study.random"),
    (dict(grid={"a.b": []}), "no values"),
    (dict(seeds=[1, 1]), "distinct seeds"),
    (dict(grid={"a.b": [1]}, model_axes=["c.d"]), "model_axes .* not axes"),
    (dict(grid={"a.b": [1]}, vmap_axes=["c.d"]), "vmap_axes .* not axes"),
])
def test_bad_studies_are_refused(kwargs, match):
  with pytest.raises(ValueError, match=match):
    _study(**kwargs)


def test_study_files_parse(clean_gin):
  config.parse([os.path.join(paths.TESTDATA, "tiny_study.gin")], [])
  study = spec.make_study()
  assert len(study.trials) == 4 and study.metric == "modes"
  gin.clear_config()


def test_named_models_bring_their_bindings():
  study = _study(models={"NS GAN": ["GAN.loss = @losses.non_saturating"],
                         "WGAN-GP": ["GAN.loss = @losses.wasserstein",
                                     "GAN.penalty = @penalties.wgan_gp"]},
                 grid={"models.mlp.Discriminator.num_packed": [1, 2]},
                 seeds=1)
  assert [study.model(t) for t in study.trials] == [
      "NS GAN num_packed=1", "NS GAN num_packed=2", "WGAN-GP num_packed=1",
      "WGAN-GP num_packed=2"]
  assert study.trials[3].bindings == [
      "GAN.loss = @losses.wasserstein", "GAN.penalty = @penalties.wgan_gp",
      "models.mlp.Discriminator.num_packed = 2", "experiment.seed = 0"]
