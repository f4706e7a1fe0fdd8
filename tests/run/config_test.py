"""Tests of ganjax.run.config: error hints, and comparing a run's recorded
config."""

import os

import gin
import pytest

from ganjax.run import config


@pytest.mark.parametrize("binding,match", [
    ("trian.num_steps = 3", r"No configurable matching 'trian'(.|\n)*"
                            r"Did you mean 'train'"),
    ("train.num_stepz = 3", r"num_stepz(.|\n)*Did you mean 'num_steps'\? "
                            r"Its parameters: num_steps, log_every"),
    ("GAN.loss = @losses.hinje", r"losses.hinje(.|\n)*In bindings string "
                                 r"(.|\n)*Did you mean 'losses.hinge'"),
    ("models.dcgan.Generator.widht = 3", r"Did you mean 'width'"),
])
def test_misspelled_names_get_the_closest_registered_ones(binding, match,
                                                          clean_gin):
  with pytest.raises(ValueError, match=match):
    config.parse(["base.gin"], [binding])


def test_config_paths_resolve_from_any_directory(tmp_path, monkeypatch,
                                                 clean_gin):
  monkeypatch.chdir(tmp_path)
  for path in ("gin_configs/experiments/quickstart.gin",
               "experiments/quickstart.gin"):
    gin.clear_config()
    config.parse([path], [])
    assert gin.query_parameter("train.num_steps") == 20000
  with pytest.raises(FileNotFoundError, match="'no_such.gin' not found"):
    config.parse(["no_such.gin"], [])


def test_a_name_far_from_any_points_to_the_registry(clean_gin):
  with pytest.raises(ValueError, match="listed by family in "
                     "ganjax/run/registry.py"):
    config.parse(["base.gin"], ["qqqqqqqq.x = 1"])


def test_syntax_errors_name_the_file_or_binding(clean_gin, tmp_path):
  path = tmp_path / "bad.gin"
  path.write_text("train.num_steps = (\n")  # Gin's tokenizer names no file.
  with pytest.raises(ValueError, match=f"Syntax error in the gin file {path}"):
    config.parse([str(path)], [])
  gin.clear_config()
  with pytest.raises(ValueError, match="Syntax error in the binding "
                     "'train.log_every = '"):
    config.parse(["base.gin"], ["train.num_steps = 3", "train.log_every = "])


def test_missing_required_value_is_named(clean_gin, tmp_path):
  from ganjax.run import train  # pylint: disable=g-import-not-at-top
  config.parse(["base.gin", "datasets/ring.gin"], [])
  with pytest.raises(RuntimeError, match=r"train.*\['num_steps'\]"):
    train.train(str(tmp_path))


_WRITTEN = """\
# Parameters for GAN:
# ====================
GAN.d_optimizer = @discriminator/optax.adam()
GAN.loss = @losses.hinge

# Parameters for discriminator/optax.adam:
discriminator/optax.adam.learning_rate = 0.0002
models.mlp.Generator.hidden_dims = \\
    (16,
     16)
train.num_steps = 6
evaluation.num_samples = 100
"""


def test_bindings_read_gin_syntax():
  found = config.bindings(_WRITTEN)
  assert found == {
      "GAN.d_optimizer": "@discriminator/optax.adam()",
      "GAN.loss": "@losses.hinge",
      "discriminator/optax.adam.learning_rate": "0.0002",
      "models.mlp.Generator.hidden_dims": "(16, 16)",
      "train.num_steps": "6", "evaluation.num_samples": "100"}


def test_changed_bindings_ignore_run_length_and_evaluation():
  longer = (_WRITTEN.replace("train.num_steps = 6", "train.num_steps = 60")
            .replace("num_samples = 100", "num_samples = 50"))
  assert not config.changed_bindings(_WRITTEN, longer)
  changed = _WRITTEN.replace("0.0002", "0.001").replace("(16,", "(32,")
  assert config.changed_bindings(_WRITTEN, changed) == [
      "discriminator/optax.adam.learning_rate: 0.0002 -> 0.001",
      "models.mlp.Generator.hidden_dims: (16, 16) -> (32, 16)"]
  dropped = _WRITTEN.replace("GAN.loss = @losses.hinge\n", "")
  assert config.changed_bindings(_WRITTEN, dropped) == [
      "GAN.loss: @losses.hinge -> (default)"]


def test_check_unchanged_refuses_unless_overridden(tmp_path, clean_gin):
  workdir = str(tmp_path)
  config.check_unchanged(workdir, _WRITTEN, False)  # No record yet.
  with open(os.path.join(workdir, "operative_config.gin"), "w") as f:
    f.write(_WRITTEN)
  config.check_unchanged(workdir, _WRITTEN, False)
  changed = _WRITTEN.replace("@losses.hinge", "@losses.wasserstein")
  with pytest.raises(config.ConfigChangedError,
                     match=r"GAN.loss: @losses.hinge -> @losses.wasserstein"
                     r"(.|\n)*--override_config"):
    config.check_unchanged(workdir, changed, False)
  config.check_unchanged(workdir, changed, True)


def test_a_changed_record_is_kept_when_resuming(tmp_path, clean_gin):
  workdir = str(tmp_path)
  path = os.path.join(workdir, "operative_config.gin")
  with open(path, "w") as f:
    f.write(_WRITTEN)
  config.write_operative_config(workdir, resumed_step=6)
  with open(os.path.join(workdir,
                         "operative_config.until_step_6.gin")) as f:
    assert f.read() == _WRITTEN
  with open(path) as f:
    now = f.read()
  config.write_operative_config(workdir, resumed_step=9)  # Unchanged: kept.
  assert not os.path.exists(os.path.join(
      workdir, "operative_config.until_step_9.gin"))
  with open(path) as f:
    assert f.read() == now


def test_includes_found_on_the_search_path_log_no_errors(clean_gin, caplog):
  config.parse(["experiments/quickstart.gin"], [])
  assert not [r for r in caplog.records if r.levelname == "ERROR"]
  gin.clear_config()
  with pytest.raises(IOError, match="nowhere.gin"):
    gin.parse_config('include "nowhere.gin"')


@pytest.mark.parametrize("binding, match", [
    ("GAN.self_supervision = 'rotation'",
     r"GAN.terms = \[@terms.Rotation\(\)\]"),
    ("GAN.label_predictor_weight = 1.0", "terms.LabelPredictor"),
    ("GAN.rotated_batch_size = 64", "terms.Rotation.rotated_batch_size"),
])
def test_former_gan_options_name_the_term_that_replaced_them(binding, match,
                                                             clean_gin):
  with pytest.raises(ValueError, match=match):
    config.parse(["base.gin"], [binding])
