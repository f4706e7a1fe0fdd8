"""Gin config files: parsing them, and recording a run's config in its workdir.

Components become nameable in configs by importing `ganjax.registry`.
"""

import os
from typing import Sequence

import gin

# `include "datasets/ring.gin"` resolves against the repository's configs.
CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                          "gin_configs")
gin.add_config_file_search_path(CONFIG_DIR)


def parse(gin_files: Sequence[str], gin_bindings: Sequence[str]) -> None:
  """Parses config files then bindings; unknown names raise at once."""
  for path in gin_files:
    if not os.path.exists(path) and not os.path.exists(
        os.path.join(CONFIG_DIR, path)):
      raise FileNotFoundError(
          f"Gin file {path!r} not found (looked in the current directory and "
          f"in {CONFIG_DIR}).")
  gin.parse_config_files_and_bindings(list(gin_files), list(gin_bindings))


def write_config(workdir: str) -> str:
  """Writes the whole parsed config to `<workdir>/config.gin`; the run's
  record and what `ganjax.sample` rebuilds the model from."""
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, "config.gin")
  with open(path, "w") as f:
    f.write(gin.config_str())
  return path


def write_operative_config(workdir: str) -> str:
  """Writes the values actually used, defaults included, to
  `<workdir>/operative_config.gin`."""
  path = os.path.join(workdir, "operative_config.gin")
  with open(path, "w") as f:
    f.write(gin.operative_config_str())
  return path
