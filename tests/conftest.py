"""Shared pytest setup: CPU-only JAX, registered gin names, a clean config."""

import os

# Before JAX is imported anywhere: run on the CPU, quietly.
os.environ["JAX_PLATFORMS"] = "cpu"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gin  # pylint: disable=g-import-not-at-top
import pytest  # pylint: disable=g-import-not-at-top

from ganjax import registry  # pylint: disable=g-import-not-at-top,unused-import


@pytest.fixture
def clean_gin():
  """Clears gin's config before and after a test that parses one."""
  gin.clear_config()
  yield
  gin.clear_config()
