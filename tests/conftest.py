"""Shared pytest setup: CPU-only JAX, registered gin names, a clean config."""

import os
import shutil
import subprocess
import sys
import tempfile

from tests import xla_settings

# Before JAX is imported anywhere: run on the CPU, quietly.
os.environ["JAX_PLATFORMS"] = "cpu"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Fast compilation (tests/xla_settings.py), inherited by the processes the
# tests start; tests/quickstart_test.py runs the README's command without
# it. An XLA that does not know a flag aborts, so they are tried first.
if xla_settings.FAST_COMPILE[0] not in os.environ.get("XLA_FLAGS", ""):
  _flags = " ".join(filter(None, [os.environ.get("XLA_FLAGS"),
                                  *xla_settings.FAST_COMPILE]))
  if subprocess.run([sys.executable, "-c", "import jax; jax.jit(abs)(1.0)"],
                    env={**os.environ, "XLA_FLAGS": _flags},
                    capture_output=True, check=False).returncode == 0:
    os.environ["XLA_FLAGS"] = _flags
# Many tests compile the same tiny train steps (each run builds its own jit),
# in this process and in the `ganjax.main` processes they start: a JAX
# persistent compilation cache compiles each program once per test session.
# The process that makes it (pytest, or pytest-xdist's controller) owns and
# removes it; xdist's workers and the tests' processes inherit the variable.
# Its key includes XLA_FLAGS, so optimization levels do not mix.
_OWN_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _OWN_CACHE = tempfile.mkdtemp(prefix="ganjax-tests-jax-cache-")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_CACHE

import gin  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from ganjax.run import registry  # pylint: disable=g-import-not-at-top,unused-import


# The test files that take longest (1.5-3 minutes each on 2 cores) go first,
# so that the short ones fill in around them instead of one of them starting
# last and running alone. pytest-xdist (--dist loadfile) hands files to its
# workers in collection order once its reordering by test count is off.
_LONGEST_FIRST = ("quickstart_test.py", "colab_test.py", "distributed_test.py",
                  "sample_test.py", "partitioning_test.py", "evaluate_test.py")


def pytest_configure(config):
  if hasattr(config.option, "loadscopereorder"):
    config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
  items.sort(key=lambda item: (
      _LONGEST_FIRST.index(item.path.name)
      if item.path.name in _LONGEST_FIRST else len(_LONGEST_FIRST)))


def pytest_sessionfinish(session):
  del session
  if _OWN_CACHE:
    shutil.rmtree(_OWN_CACHE, ignore_errors=True)


@pytest.fixture
def clean_gin():
  """Clears gin's config before and after a test that parses one."""
  gin.clear_config()
  yield
  gin.clear_config()


@pytest.fixture(scope="session")
def inception_params():
  """Flax params of the FID Inception, or a skip saying how to get them
  (CI fetches them: .ci/run)."""
  from ganjax.metrics.inception import weights as inception_weights  # pylint: disable=g-import-not-at-top
  try:
    path = inception_weights.locate(download=False)
  except FileNotFoundError as e:
    pytest.skip(str(e))
  return inception_weights.load_params(path)


class FakeInception:
  """A stand-in feature extractor: fixed random projections of the pixels to
  16 "pool3" features and 10 logits; counts the images it has seen."""
  resize = "tf"
  has_logits = True
  fingerprint = "fake"

  def __init__(self):
    self.images_seen = 0

  def __call__(self, images):
    import numpy as np  # pylint: disable=g-import-not-at-top
    self.images_seen += len(images)
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    rng = np.random.default_rng(flat.shape[1])
    pool3 = flat @ rng.normal(size=(flat.shape[1], 16)).astype(np.float32)
    logits = pool3 @ rng.normal(size=(16, 10)).astype(np.float32)
    return {"pool3": pool3, "logits": logits + 1.0, "logits_unbiased": logits}


@pytest.fixture
def fake_inception():
  return FakeInception()
