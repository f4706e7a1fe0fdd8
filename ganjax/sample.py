r"""Draws samples from a trained run: an .npz of samples (and a PNG grid),
latent interpolations as a PNG strip or a GIF, or a style-mixing grid.

  python -m ganjax.sample --workdir=DIR --num_samples=N --out=FILE.npz \
      [--grid=GRID.png] [--seed=S] [--use_ema=true|false] [--label=K] \
      [--truncation=T | --truncation_psi=PSI] [--standing_stats=M] \
      [--step=N|best [--metric=fid]]
  python -m ganjax.sample --workdir=DIR --interpolate=A:B[,C:D...] \
      --out=STRIP.png|ANIMATION.gif [--steps=8] [--spherical | --space=w] \
      [--label=K] [--truncation_psi=PSI]
  python -m ganjax.sample --workdir=DIR --mix_rows=A,B,... \
      --mix_cols=C,D,... [--mix_styles=0-6] --out=GRID.png [--label=K] \
      [--truncation_psi=PSI]

The .npz holds `samples`: [N, D] float32 for vector data, [N, H, W, C] uint8
for images, and for a class-conditional model `labels`: [N] int32, drawn
uniformly or all equal to --label. An interpolation goes from the latent of
seed A to that of seed B (one class throughout for a conditional model); a
strip has a row per pair, a GIF a frame per step with the pairs side by
side; `--space=w` walks linearly between the seeds' ws (StyleGAN2) instead
of their zs. A style-mixing grid (StyleGAN2) has the column seeds' images
on top, the row seeds' on the left, and in each cell the row seed's ws with
the layers --mix_styles taken from the column seed. StyleGAN2's noise
inputs are drawn once per interpolation or grid, so its images differ only
by their latents. The model is rebuilt from `<workdir>/config.gin` and the
checkpoint --step chooses: by default the newest that restores.
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
from absl import app
from absl import flags
import numpy as np

from ganjax import console
from ganjax import step_flags
from ganjax.core import sampling
from ganjax.run import image_files
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's directory.",
                               required=True)
_OUT = flags.DEFINE_string(
    "out", None, "The file to write: .npz for samples, .png or .gif for "
    "--interpolate.", required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", None, "How many samples.",
                                    lower_bound=1)
_GRID = flags.DEFINE_string("grid", None, "Also write the samples as a PNG "
                            "grid here (image data).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the latents.")
_USE_EMA = flags.DEFINE_bool(
    "use_ema", None, "Sample with the EMA of G's weights; by default when the "
    "run keeps one.")
_LABEL = flags.DEFINE_integer("label", None, "Class of every sample of a "
                              "conditional model; by default uniform.")
_TRUNCATION = flags.DEFINE_float(
    "truncation", None, "Truncation trick: latents from N(0, I) truncated to "
    "[-T, T] (BigGAN).", lower_bound=0.0)
_TRUNCATION_PSI = flags.DEFINE_float(
    "truncation_psi", None, "StyleGAN2's truncation trick: every w moved "
    "toward G's mean w, w_avg + psi * (w - w_avg) (e.g. 0.7).")
_STANDING_STATS = flags.DEFINE_integer(
    "standing_stats", 0, "Recompute G's batch-norm statistics over this many "
    "samples first (Compare GAN's standing statistics; it used 204800).",
    lower_bound=0)
_INTERPOLATE = flags.DEFINE_list(
    "interpolate", None, "Seed pairs A:B to interpolate between, instead of "
    "drawing samples.")
_STEPS = flags.DEFINE_integer("steps", 8, "Images per interpolation, ends "
                              "included.", lower_bound=2)
_SPHERICAL = flags.DEFINE_bool("spherical", False, "Interpolate spherically "
                               "(slerp) instead of linearly.")
_SPACE = flags.DEFINE_enum("space", "z", ["z", "w"], "Interpolate between "
                           "the seeds' latents z, or their ws (StyleGAN2).")
_MIX_ROWS = flags.DEFINE_list("mix_rows", None, "Seeds of a style-mixing "
                              "grid's rows (StyleGAN2), instead of samples.")
_MIX_COLS = flags.DEFINE_list("mix_cols", None, "Seeds of its columns, whose "
                              "--mix_styles replace the rows'.")
_MIX_STYLES = flags.DEFINE_string(
    "mix_styles", "0-6", "Layers (of the ws) taken from the column seeds: "
    "indices and ranges, e.g. 0-6 (the coarse styles) or 0,2,8-9.")


def _seed_pairs(values: list[str]) -> list[tuple[int, int]]:
  try:
    pairs = [tuple(int(s) for s in v.split(":")) for v in values]
  except ValueError:
    pairs = []
  if not pairs or any(len(p) != 2 for p in pairs):
    raise app.UsageError(f"--interpolate takes seed pairs A:B, e.g. 0:1,2:3;"
                         f" got {','.join(values)}.")
  return pairs


def _tiled(rows: np.ndarray) -> np.ndarray:
  """[rows, cols, H, W, C] images side by side, without gaps."""
  return np.concatenate([np.concatenate(list(row), axis=1) for row in rows],
                        axis=0)


def _seeds(flag: str, values: list[str]) -> list[int]:
  try:
    seeds = [int(v) for v in values]
  except ValueError:
    seeds = []
  if not seeds:
    raise app.UsageError(f"--{flag} takes seeds, e.g. 1,2,3; got "
                         f"{','.join(values)}.")
  return seeds


def _load_images(what: str):
  """(GAN, state, use_ema) of the run, for `what` (drawing images)."""
  exp, gan, state, use_ema = run_dir.load_for_sampling(
      _WORKDIR.value, _SEED.value, _USE_EMA.value, _STANDING_STATS.value,
      _TRUNCATION_PSI.value, step_flags.chosen_step(_WORKDIR.value))
  if not exp.data.spec.is_image:
    raise app.UsageError(f"{what} draws images; this model makes vectors.")
  run_dir.check_label(gan, _LABEL.value)
  return gan, state, use_ema


def _interpolate() -> str:
  """Writes the interpolations; returns what was written."""
  if not _OUT.value.endswith((".png", ".gif")):
    raise app.UsageError("With --interpolate, --out must end in .png or "
                         ".gif.")
  pairs = _seed_pairs(_INTERPOLATE.value)
  gan, state, use_ema = _load_images("--interpolate")
  rows = image_files.to_uint8(sampling.interpolations(
      gan, state, pairs, _STEPS.value, _SPHERICAL.value, use_ema,
      _LABEL.value, _SPACE.value))  # [pairs, steps, H, W, C]
  if _OUT.value.endswith(".gif"):
    image_files.save_gif(_OUT.value, np.concatenate(list(rows), axis=2))
    return f"a GIF of {_STEPS.value} frames of {len(pairs)} interpolations"
  image_files.save_png(_OUT.value, _tiled(rows))
  return f"a strip of {len(pairs)} interpolations of {_STEPS.value} steps"


def _style_mixing() -> str:
  """Writes the style-mixing grid; returns what was written."""
  if not _OUT.value.endswith(".png"):
    raise app.UsageError("With --mix_rows, --out must end in .png.")
  if not _MIX_COLS.value:
    raise app.UsageError("--mix_rows needs --mix_cols, the seeds of the "
                         "columns.")
  rows = _seeds("mix_rows", _MIX_ROWS.value)
  cols = _seeds("mix_cols", _MIX_COLS.value)
  styles = sampling.parse_styles(_MIX_STYLES.value)
  gan, state, use_ema = _load_images("--mix_rows")
  grid = image_files.to_uint8(sampling.style_mixing(
      gan, state, rows, cols, styles, use_ema, _LABEL.value))
  image_files.save_png(_OUT.value, _tiled(grid))
  return (f"a style-mixing grid of {len(rows)} rows and {len(cols)} "
          f"columns")


def _draw() -> str:
  """Writes the samples (and grid); returns what was written."""
  if _NUM_SAMPLES.value is None:
    raise app.UsageError("--num_samples is required (or --interpolate).")
  if not _OUT.value.endswith(".npz"):
    raise app.UsageError("--out must end in .npz (PNG grids: --grid).")
  arrays = run_dir.draw_from_run(
      _WORKDIR.value, _NUM_SAMPLES.value, _SEED.value, _USE_EMA.value,
      _LABEL.value, _TRUNCATION.value, _STANDING_STATS.value,
      _TRUNCATION_PSI.value, step_flags.chosen_step(_WORKDIR.value))
  np.savez(_OUT.value, **arrays)
  out = arrays["samples"]
  if _GRID.value:
    if out.ndim != 4:
      raise app.UsageError("--grid draws images; this model makes vectors.")
    image_files.save_png(_GRID.value, image_files.image_grid(out))
  return f"{len(out)} samples of shape {out.shape[1:]}"


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if _MIX_ROWS.value:
    written = _style_mixing()
  elif _INTERPOLATE.value:
    written = _interpolate()
  else:
    written = _draw()
  print(f"Wrote {written} to {_OUT.value}"
        + (f" and {_GRID.value}" if _GRID.value else ""))


if __name__ == "__main__":
  console.run(main)
