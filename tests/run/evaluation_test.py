"""Tests of evaluating runs: in the training loop and checkpoint by checkpoint.

A stand-in Inception (conftest.FakeInception) keeps these fast; the real
network's parity is tested in tests/metrics/inception/network_test.py and the
commands end to end in tests/evaluate_test.py.
"""

import csv
import os

from clu import metric_writers
import gin
import numpy as np
import pytest
import tensorflow_datasets as tfds

from ganjax.metrics import suite
from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights
from ganjax.run import config
from ganjax.run import evaluation
from ganjax.run import experiment as experiment_lib
from ganjax.run import scores_file
from ganjax.run import train
from tests import conftest
from tests import paths

_TINY_DIGITS = os.path.join(paths.TESTDATA,
                            "tiny_digits.gin")
_DIGITS = [
    "train.checkpoint_every = 1",
    "train.sample_every = 100",
    "evaluation.num_samples = 20",
    "evaluation.metrics = [@metrics.fid, @metrics.kid]",
    "metrics.kid.num_subsets = 3",
]


def test_mixtures_get_mode_coverage(clean_gin):
  # Runs before the module's digits run parses its config.
  config.parse(["base.gin", "datasets/ring.gin", "models/mlp_pacgan.gin"],
               ["datasets.ring.num_examples = 1000",
                "experiment.batch_size = 16", "evaluation.num_samples = 500"])
  exp = experiment_lib.make_experiment()
  scores = evaluation.evaluate(exp, exp.init_state(), lambda: None)
  assert set(scores) == {"modes", "high_quality", "reverse_kl"}


def test_protocol_names_the_evaluation_split_and_the_subset(clean_gin):
  # Runs before the module's digits run parses its config.
  config.parse(["base.gin", "datasets/fashion_mnist.gin",
                "models/dcgan.gin"], [
      "datasets.tfds.train_examples = 3",
      "evaluation.dataset = @eval/datasets.tfds",
      "eval/datasets.tfds.split = 'eval'",
      "evaluation.metrics = [@metrics.ms_ssim]", "evaluation.num_draws = 3"])
  with tfds.testing.mock_data(num_examples=4):
    exp = experiment_lib.make_experiment()
    recorded = evaluation.protocol(exp, lambda: None)  # No Inception.
  assert exp.data.name == "3 of fashion_mnist train (subset seed 0)"
  assert recorded["protocol.real"] == "fashion_mnist test"
  assert recorded["protocol.num_draws"] == "3"
  assert recorded["protocol.resize"] == recorded["protocol.inception"] == (
      "none")


def test_a_conditional_model_gets_intra_fid(clean_gin, fake_inception):
  # Runs before the module's digits run parses its config.
  config.parse([_TINY_DIGITS], ["GAN.conditional = True",
                                "GAN.prior = 'normal'"])
  exp = experiment_lib.make_experiment()
  scores = evaluation.evaluate(
      exp, exp.init_state(), lambda: fake_inception,
      metrics=[suite.fid, suite.intra_fid], num_samples=200)
  assert set(scores) == {"fid", "intra_fid"}
  # The classes' FIDs of 20 images each lie far above the FID of all 200.
  assert scores["intra_fid"] > scores["fid"] > 0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  """A 2-step digits run whose loop evaluated its last step, its experiment
  and the stand-in Inception it used; the config stays parsed."""
  tmp_path = tmp_path_factory.mktemp("evaluation")
  inception = conftest.FakeInception()
  gin.clear_config()
  with pytest.MonkeyPatch.context() as patch:
    patch.setenv("GANJAX_CACHE", str(tmp_path / "cache"))
    patch.setattr(features, "factory", lambda weights=None: lambda: inception)
    patch.setattr(inception_weights, "locate", lambda: "no weights needed")
    workdir = str(tmp_path / "run")
    config.parse([_TINY_DIGITS], _DIGITS + ["train.num_steps = 2", "train.eval_every = 2"])
    config.write_config(workdir)
    train.train(workdir)
    yield workdir, experiment_lib.make_experiment(), inception
  gin.clear_config()


def _rows(workdir):
  with open(os.path.join(workdir, "scores.csv"), newline="") as f:
    return list(csv.DictReader(f))


def test_training_loop_scores_its_steps(run):
  workdir, _, inception = run
  rows = _rows(workdir)
  assert [int(r["step"]) for r in rows] == [2]
  assert float(rows[0]["fid"]) > 0 and "kid_std" in rows[0]
  # The run's gin parameters ride along, for sweeps' tables.
  assert rows[0]["train.num_steps"] == "2"
  assert rows[0]["evaluation.num_samples"] == "20"
  assert inception.images_seen == 40  # 20 real + 20 generated.
  # And the protocol, as every row names it.
  assert {k: v for k, v in rows[0].items() if k.startswith("protocol.")} == {
      "protocol.real": "scikit-learn digits at 28×28",
      "protocol.num_real": "20", "protocol.num_fake": "20",
      "protocol.num_draws": "1", "protocol.resize": "tf",
      "protocol.inception": "fake"}
  assert "protocol.real" not in scores_file.rows(workdir)[0]


def test_checkpoints_are_scored_once(run, tmp_path):
  workdir, exp, inception = run
  writer = metric_writers.create_default_writer(str(tmp_path / "eval"))
  factory = lambda: inception
  seen = inception.images_seen
  with pytest.MonkeyPatch.context() as patch:
    patch.setenv("GANJAX_CACHE", os.path.join(os.path.dirname(workdir),
                                              "cache"))
    assert evaluation.evaluate_new_checkpoints(workdir, exp, factory,
                                               writer) == [1]
    assert evaluation.evaluate_new_checkpoints(workdir, exp, factory,
                                               writer) == []
  assert sorted(int(r["step"]) for r in _rows(workdir)) == [1, 2]
  # The real images' features came from the cache.
  assert inception.images_seen - seen == 20


def test_draws_are_averaged(run, fake_inception):
  _, exp, _ = run
  state = exp.init_state()
  factory = lambda: fake_inception
  one = evaluation.evaluate(exp, state, factory, metrics=[suite.fid])
  three = evaluation.evaluate(exp, state, factory, metrics=[suite.fid],
                              num_draws=3)
  assert set(three) == {"fid", "fid_std"}
  assert three["fid_std"] > 0
  assert three["fid"] != one["fid"]


def test_real_images_are_uint8_in_a_fixed_order(run):
  exp = run[1]
  images, labels = evaluation.real_images(exp.data, 30, seed=0,
                                          batch_size=7)
  assert images.shape == (30, 28, 28, 1) and images.dtype == np.uint8
  np.testing.assert_array_equal(
      images, evaluation.real_images(exp.data, 30, seed=0, batch_size=7)[0])
  assert labels.shape == (30,) and labels.dtype == np.int32


def test_standing_statistics(run, fake_inception):
  _, exp, _ = run
  state = exp.init_state()
  scores = evaluation.evaluate(exp, state, lambda: fake_inception,
                               metrics=[suite.fid], standing_stats=16)
  assert np.isfinite(scores["fid"])


def test_diverged_generator_is_reported(run, fake_inception, monkeypatch):
  _, exp, _ = run
  monkeypatch.setattr(evaluation.sampling, "draw",
                      lambda *args, **kwargs: np.full((20, 28, 28, 1), np.nan))
  with pytest.raises(FloatingPointError, match="diverged"):
    evaluation.evaluate(exp, exp.init_state(), lambda: fake_inception)


def test_more_samples_than_real_images_is_refused(run, fake_inception):
  _, exp, _ = run
  with pytest.raises(ValueError, match="exceeds"):
    evaluation.evaluate(exp, exp.init_state(), lambda: fake_inception,
                        num_samples=len(exp.data) + 1)
