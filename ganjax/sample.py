r"""Draws samples from a trained run into an .npz file.

  python -m ganjax.sample --workdir=DIR --num_samples=N --out=FILE.npz \
      [--seed=S] [--use_ema=true|false]

The file holds `samples`: [N, D] float32 for vector data, [N, H, W, C] uint8
for images. The model is rebuilt from `<workdir>/config.gin` and the latest
checkpoint.
"""

import os

from absl import app
from absl import flags
import jax
import numpy as np

from ganjax import checkpoint
from ganjax import config
from ganjax import registry  # pylint: disable=unused-import
from ganjax import experiment as experiment_lib
from ganjax import samples

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's directory.",
                               required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", None, "How many samples.",
                                    required=True, lower_bound=1)
_OUT = flags.DEFINE_string("out", None, "The .npz file to write.",
                           required=True)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the latents.")
_USE_EMA = flags.DEFINE_bool(
    "use_ema", None, "Sample with the EMA of G's weights; by default when the "
    "run keeps one.")


def load_run(workdir: str):
  """The experiment and latest train state of a run directory."""
  config_path = os.path.join(workdir, "config.gin")
  if not os.path.exists(config_path):
    raise FileNotFoundError(f"{config_path} not found: {workdir!r} is not a "
                            "ganjax run directory (train one with "
                            "python -m ganjax.main).")
  config.parse([config_path], [])
  exp = experiment_lib.make_experiment()
  template = jax.eval_shape(exp.init_state)
  state = checkpoint.restore_latest(checkpoint.manager(workdir, create=False),
                                         template)
  if state is None:
    raise FileNotFoundError(f"No checkpoint in {workdir}/checkpoints; the run "
                            "has not saved one yet.")
  return exp, state


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  exp, state = load_run(_WORKDIR.value)
  use_ema = (state.ema_params is not None if _USE_EMA.value is None
             else _USE_EMA.value)
  out = samples.draw(exp.gan, state, jax.random.key(_SEED.value),
                     _NUM_SAMPLES.value, use_ema)
  if exp.data.spec.is_image:
    out = samples.to_uint8(out)
  np.savez(_OUT.value, samples=out)
  print(f"Wrote {len(out)} samples of shape {out.shape[1:]} to {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
