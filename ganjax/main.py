r"""Trains a gin-configured GAN.

  python -m ganjax.main --gin_file=gin_configs/experiments/quickstart.gin \
      --workdir=runs/quickstart [--gin_bindings='train.num_steps = 100']

Re-running the same command on the same workdir resumes from its latest
checkpoint.
"""

import logging as std_logging

from absl import app
from absl import flags
from absl import logging

from ganjax import config
from ganjax import registry  # pylint: disable=unused-import
from ganjax import train

_GIN_FILES = flags.DEFINE_multi_string(
    "gin_file", [], "Gin config files, applied in order.")
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Gin bindings, applied after the files.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory.",
                               required=True)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  # Orbax logs every step of every save at INFO; keep its warnings only.
  logging.get_absl_handler().addFilter(
      lambda r: r.levelno >= std_logging.WARNING or "orbax" not in r.pathname)
  config.parse(_GIN_FILES.value, _GIN_BINDINGS.value)
  config.write_config(_WORKDIR.value)
  train.train(_WORKDIR.value)


if __name__ == "__main__":
  app.run(main)
