r"""Exports a trained run's G for use without ganjax: a serialized
`jax.export` artifact (StableHLO) and a TensorFlow SavedModel (jax2tf), with
a README of their inputs and outputs.

  python -m ganjax.export --workdir=DIR --out=G_DIR [--use_ema=true|false] \
      [--truncation_psi=PSI] [--step=N|best [--metric=fid]]

G_DIR gets `generator.jax_export`, `saved_model/`, `README.md` and
`inputs.json`. The function is G in inference mode, as `ganjax.sample`
calls it: (z[, label][, noise_seed]) ↦ images in [−1, 1] for any batch size
(run/generator_export.py). BigGAN's truncation acts on z: feed z drawn from
a truncated normal; StyleGAN2's (--truncation_psi) is built in.
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
import os

from absl import app
from absl import flags

from ganjax import console
from ganjax import step_flags
from ganjax.run import generator_export
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's directory.",
                               required=True)
_OUT = flags.DEFINE_string("out", None, "The folder to write.", required=True)
_USE_EMA = flags.DEFINE_bool(
    "use_ema", None, "Export the EMA of G's weights; by default when the run "
    "keeps one.")
_TRUNCATION_PSI = flags.DEFINE_float(
    "truncation_psi", None, "StyleGAN2's truncation trick, built into the "
    "export: every w moved toward G's mean w by PSI.")


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  exp, gan, state, use_ema = run_dir.load_for_sampling(
      _WORKDIR.value, use_ema=_USE_EMA.value,
      truncation_psi=_TRUNCATION_PSI.value,
      step=step_flags.chosen_step(_WORKDIR.value))
  out = _OUT.value
  os.makedirs(out, exist_ok=True)
  generator_export.write_stablehlo(
      gan, state, use_ema, os.path.join(out, generator_export.STABLEHLO))
  generator_export.write_saved_model(
      gan, state, use_ema, os.path.join(out, generator_export.SAVED_MODEL))
  generator_export.write_readme(gan, out, os.path.abspath(_WORKDIR.value),
                                int(state.step), use_ema,
                                exp.data.spec.shape)
  print(f"Wrote G of step {int(state.step)} to {out}: "
        f"{generator_export.STABLEHLO}, {generator_export.SAVED_MODEL}/ and "
        "README.md.")


if __name__ == "__main__":
  console.run(main)
