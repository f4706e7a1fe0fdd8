r"""Draws samples from a trained run into an .npz file.

  python -m ganjax.sample --workdir=DIR --num_samples=N --out=FILE.npz \
      [--seed=S] [--use_ema=true|false] [--label=K] [--truncation=T] \
      [--standing_stats=M]

The file holds `samples`: [N, D] float32 for vector data, [N, H, W, C] uint8
for images, and for a class-conditional model `labels`: [N] int32, drawn
uniformly or all equal to --label. The model is rebuilt from
`<workdir>/config.gin` and the latest checkpoint.
"""

from absl import app
from absl import flags
import numpy as np

from ganjax import registry  # pylint: disable=unused-import
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
_LABEL = flags.DEFINE_integer("label", None, "Class of every sample of a "
                              "conditional model; by default uniform.")
_TRUNCATION = flags.DEFINE_float(
    "truncation", None, "Truncation trick: latents from N(0, I) truncated to "
    "[-T, T] (BigGAN).", lower_bound=0.0)
_STANDING_STATS = flags.DEFINE_integer(
    "standing_stats", 0, "Recompute G's batch-norm statistics over this many "
    "samples first (Compare GAN's standing statistics; it used 204800).",
    lower_bound=0)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  try:
    arrays = samples.draw_from_run(
        _WORKDIR.value, _NUM_SAMPLES.value, _SEED.value, _USE_EMA.value,
        _LABEL.value, _TRUNCATION.value, _STANDING_STATS.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  np.savez(_OUT.value, **arrays)
  out = arrays["samples"]
  print(f"Wrote {len(out)} samples of shape {out.shape[1:]} to {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
