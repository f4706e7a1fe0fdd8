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
import jax
import numpy as np

from ganjax import registry  # pylint: disable=unused-import
from ganjax import run_dir
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
  exp, state = run_dir.load_run(_WORKDIR.value)
  gan = exp.gan
  use_ema = (state.ema_params is not None if _USE_EMA.value is None
             else _USE_EMA.value)
  rng = jax.random.key(_SEED.value)
  label_rng, stats_rng = jax.random.split(rng)
  if _STANDING_STATS.value:
    state = samples.with_standing_statistics(
        gan, state, stats_rng, _STANDING_STATS.value, use_ema)
  arrays = {}
  if gan.conditional:
    if _LABEL.value is None:
      labels = np.asarray(gan.sample_labels(label_rng, _NUM_SAMPLES.value))
    elif not 0 <= _LABEL.value < gan.num_classes:
      raise app.UsageError(f"--label must be in [0, {gan.num_classes}).")
    else:
      labels = np.full(_NUM_SAMPLES.value, _LABEL.value, np.int32)
    arrays["labels"] = labels.astype(np.int32)
  elif _LABEL.value is not None:
    raise app.UsageError("--label given, but the model is unconditional.")
  out = samples.draw(gan, state, rng, _NUM_SAMPLES.value, use_ema, arrays.get("labels"),
                     _TRUNCATION.value)
  if exp.data.spec.is_image:
    out = samples.to_uint8(out)
  np.savez(_OUT.value, samples=out, **arrays)
  print(f"Wrote {len(out)} samples of shape {out.shape[1:]} to {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
