"""Every experiment config parses and builds; gin names are checked early."""

import glob
import os

import gin
import jax
import numpy as np
import PIL.Image
import pytest
import tensorflow_datasets as tfds

from ganjax.core import gan as gan_lib
from ganjax.core import steps
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import group
from ganjax.studies import spec

_EXPERIMENTS = sorted(glob.glob(os.path.join(config.CONFIG_DIR, "experiments",
                                             "**", "*.gin"), recursive=True))
_STUDIES = sorted(glob.glob(os.path.join(config.CONFIG_DIR, "studies",
                                         "*.gin")))
_DATASETS = sorted(glob.glob(os.path.join(config.CONFIG_DIR, "datasets",
                                          "*.gin")))


def _name(path):
  return os.path.relpath(path, config.CONFIG_DIR)


@pytest.fixture
def mock_tfds():
  """TFDS data sets as random examples of the right specs (no download)."""
  with tfds.testing.mock_data(num_examples=4):
    yield


def test_there_are_experiments():
  assert _EXPERIMENTS
  assert os.path.join(config.CONFIG_DIR, "experiments",
                      "quickstart.gin") in _EXPERIMENTS


def test_compare_gan_examples_and_sngan_are_there():
  names = {_name(p) for p in _EXPERIMENTS}
  assert {f"experiments/compare_gan/{n}.gin" for n in (
      "dcgan_celeba64", "resnet_cifar10", "resnet_lsun-bedroom128",
      "sndcgan_celebahq128", "biggan_imagenet128")} <= names
  assert "experiments/sngan_cifar10.gin" in names


@pytest.mark.parametrize("name, collection, expected", [
    # Compare GAN's DCGAN file leaves D without a normalizer (D.batch_norm_fn
    # is None): its D has no batch statistics.
    ("dcgan_celeba64", "d", set()),
    ("resnet_cifar10", "d", {"spectral_norm"}),
])
def test_compare_gan_configs_normalize_d_as_compare_gan_does(
    name, collection, expected, clean_gin, mock_tfds):
  config.parse([os.path.join(config.CONFIG_DIR, "experiments", "compare_gan",
                             f"{name}.gin")], [])
  state = jax.eval_shape(experiment_lib.make_experiment().init_state)
  assert set(getattr(state, f"{collection}_collections")) == expected


@pytest.mark.parametrize("name, model", [
    ("resnet_cifar10", "resnet_cifar"), ("resnet_lsun-bedroom128", "resnet5"),
    ("biggan_imagenet128", "resnet_biggan")])
def test_compare_gan_configs_upsample_by_unpooling(name, model, clean_gin):
  config.parse([os.path.join(config.CONFIG_DIR, "experiments", "compare_gan",
                             f"{name}.gin")], [])
  assert gin.query_parameter(f"models.{model}.Generator.upsample") == "zeros"


def test_compare_gan_biggan_keeps_u_in_the_smaller_space(clean_gin):
  config.parse([os.path.join(config.CONFIG_DIR, "experiments", "compare_gan",
                             "biggan_imagenet128.gin")], [])
  assert gin.query_parameter(
      "normalizers.spectral_norm.singular_value") == "auto"


@pytest.mark.parametrize("path", _EXPERIMENTS, ids=_name)
def test_experiment_parses_and_builds(path, clean_gin, mock_tfds, tmp_path):
  _parse_experiment(path, tmp_path)
  _check_parsed_experiment()


def _query(name):
  try:
    return gin.query_parameter(name)
  except ValueError:
    return None


def _parse_experiment(path, tmp_path):
  """Parses an experiment; a run on inferred labels (S²GAN) gets a label
  file for the mock data in place of its earlier stage's, one on a subset
  of the training data a subset the mock data has, and one on a folder of
  the user's images (FFHQ) a folder of 4 small PNGs."""
  labels = str(tmp_path / "labels.npy")
  np.save(labels, np.arange(4) % 10)
  config.parse([path], [])
  mock = []
  if (_query("datasets.image_folder.size") is not None
      and _query("datasets.image_folder.path") is None):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
      PIL.Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(
          folder / f"{i}.png")
    mock.append(f"datasets.image_folder.path = '{folder}'")
  if _query("datasets.tfds.label_file") is not None:
    mock.append(f"datasets.tfds.label_file = '{labels}'")
  if _query("datasets.tfds.train_examples") is not None:
    mock.append("datasets.tfds.train_examples = 3")
  if mock:
    gin.clear_config()
    config.parse([path], mock)


@pytest.mark.parametrize("path", _EXPERIMENTS, ids=_name)
def test_experiment_header_says_what_it_reproduces(path):
  with open(path, encoding="utf-8") as f:
    lines = f.read().splitlines()
  end = next((i for i, line in enumerate(lines)
              if line and not line.startswith("#")), len(lines))
  header = "\n".join(lines[:end])
  assert "Reproduces:" in header and "Hardware:" in header, path


def _check_parsed_experiment():
  """The parsed config builds a GAN whose whole train step traces."""
  exp = experiment_lib.make_experiment()
  assert exp.batch_size >= 1
  state = jax.eval_shape(exp.init_state)
  assert state.step.shape == ()
  # G makes examples of the data's shape.
  z = jax.ShapeDtypeStruct((2, exp.gan.z_dim), np.float32)
  y = (jax.ShapeDtypeStruct((2, exp.gan.num_classes), np.float32)
       if exp.gan.conditional else None)
  fake, _ = jax.eval_shape(
      lambda p, c, z, y: gan_lib.apply_model(exp.gan.generator, p, c, z, y,
                                             train=False,
                                             rng=jax.random.key(0)),
      state.g_params, state.g_collections, z, y)
  assert fake.shape == (2, *exp.data.spec.shape)
  # A real (small) batch has the declared shapes; one whole train step on a
  # batch of the configured size traces: batch sizes fit disc_iters and
  # PacGAN's packing, labels reach a conditional model.
  real = exp.data.batch(0, 2, exp.seed)
  assert real["x"].shape == (2, *exp.data.spec.shape)
  size = exp.batch_size * exp.gan.disc_iters
  batch = {"x": jax.ShapeDtypeStruct((size, *exp.data.spec.shape),
                                     np.float32)}
  if exp.gan.conditional:
    batch["label"] = jax.ShapeDtypeStruct((size,), np.int32)
  new_state, metrics = jax.eval_shape(
      lambda s, b: steps.train_step(exp.gan, s, b, exp.train_key),
      state, batch)
  assert jax.tree.structure(new_state) == jax.tree.structure(state)
  assert metrics["g_loss"].shape == ()
  # train.num_steps is bound, as `ganjax.main` needs it.
  num_steps = gin.query_parameter("train.num_steps")
  if isinstance(num_steps, gin.config.ConfigurableReference):
    num_steps = num_steps.scoped_configurable_fn()  # A macro, %NUM_STEPS.
  assert num_steps > 0


def test_there_are_studies():
  assert {_name(p) for p in _STUDIES} >= {
      "studies/pacgan_ring.gin", "studies/lucic_fashion_mnist.gin",
      "studies/lucic_fashion_mnist_cpu.gin"}


@pytest.mark.parametrize("path", _STUDIES, ids=_name)
def test_study_trials_parse_and_build(path, clean_gin, mock_tfds):
  config.parse([path], [])
  study = spec.make_study()
  gin.clear_config()
  # The first trial of every model (random axes drawn, seed 0) builds.
  firsts = {}
  for trial in study.trials:
    firsts.setdefault(trial.model, trial)
  assert firsts
  for trial in firsts.values():
    config.parse(study.gin_files, [*study.bindings, *trial.bindings])
    _check_parsed_experiment()
    assert gin.query_parameter("experiment.seed") == trial.seed
    gin.clear_config()


def _computation(study, trial):
  config.parse(study.gin_files, [*study.bindings, *trial.bindings])
  try:
    exp = experiment_lib.make_experiment()
    return group._computation(exp, jax.eval_shape(exp.init_state))
  finally:
    gin.clear_config()


@pytest.mark.parametrize("path", [p for p in _STUDIES
                                  if spec.load(p).vmap_axes], ids=_name)
def test_vmapped_settings_of_a_study_share_their_computation(
    path, clean_gin, mock_tfds):
  # Two settings of a group differ in the vmapped axes' values only in the
  # train state: the group can share one compiled step. Checked for the
  # first group and the first whose model has a penalty (λ acts there).
  study = spec.load(path)
  groups = study.groups()
  with_penalty = [g for g in groups
                  if any("GAN.penalty =" in b for b in g[0].bindings)]
  for trials in [groups[0], *with_penalty[:1]]:
    first, other = trials[0], next(t for t in trials
                                  if t.setting != trials[0].setting)
    assert first.values != other.values
    assert _computation(study, first) == _computation(study, other)


@pytest.mark.parametrize("path", _DATASETS, ids=_name)
def test_dataset_config_builds(path, clean_gin, mock_tfds):
  config.parse(["base.gin", path, "models/dcgan.gin"],
               ["train.num_steps = 1"])
  data = experiment_lib.make_experiment().data
  assert data.batch(0, 2, 0)["x"].shape == (2, *data.spec.shape)


@pytest.mark.parametrize("path", _EXPERIMENTS, ids=_name)
def test_written_config_round_trips(path, clean_gin, tmp_path, mock_tfds):
  # `ganjax.sample` rebuilds the model from the config.gin a run writes.
  _parse_experiment(path, tmp_path)
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


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(
    config.CONFIG_DIR, "eval", "*.gin"))), ids=_name)
def test_eval_config_parses_and_its_real_data_builds(path, clean_gin,
                                                     mock_tfds):
  config.parse(["experiments/compare_gan/resnet_cifar10.gin", path], [])
  exp = experiment_lib.make_experiment()
  dataset = gin.query_parameter("evaluation.dataset")
  real = dataset.scoped_configurable_fn(exp.seed)
  assert real.spec == exp.data.spec
  assert gin.query_parameter("evaluation.metrics")
