r"""The quickstart, seed by seed: does it draw all ten digits, and how fast?

  python benchmarks/quickstart.py [--seeds=0,1,2] [--out_dir=runs/quickstart_seeds]

Runs the README's first command's training (`python -m ganjax.main` on
gin_configs/experiments/quickstart.gin) once per seed, timing each process,
then draws 1,000 samples from each run as `python -m ganjax.sample` does
(seed 0, EMA weights) and judges them with `metrics.digit_classes`. Prints
a Markdown table with the CPU model and the date. Issue 22's thresholds:
confident ≥ 0.8, all 10 digits, KL ≤ 0.1.
"""

import datetime
import os
import subprocess
import sys
import time

from absl import app
from absl import flags
import gin
import numpy as np

from ganjax.metrics import digit_classes
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir
import machine

_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds to train.")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/quickstart_seeds",
                               "Where the runs go (one folder per seed).")

_CONFIG = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "gin_configs", "experiments",
                       "quickstart.gin")


def main(argv):
  del argv
  rows = []
  for seed in map(int, _SEEDS.value):
    workdir = os.path.join(_OUT_DIR.value, f"seed_{seed}")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganjax.main",
                    f"--gin_file={_CONFIG}", f"--workdir={workdir}",
                    f"--gin_bindings=experiment.seed = {seed}"], check=True)
    wall = time.perf_counter() - start
    gin.clear_config()
    images = run_dir.draw_from_run(workdir, 1000)["samples"]
    rows.append((seed, wall, digit_classes.digit_classes(images)))
  print(f"{datetime.date.today()}, {machine.cpu_model()}\n")
  print("| seed | `ganjax.main` wall s | confident | digits | KL |")
  print("|---:|---:|---:|---:|---:|")
  for seed, wall, s in rows:
    print(f"| {seed} | {wall:.0f} | {s['digit_confident']:.3f} | "
          f"{s['digit_classes']:.0f} | {s['digit_kl']:.3f} |")
  confident = [s["digit_confident"] for _, _, s in rows]
  print(f"\nconfident: mean {np.mean(confident):.3f}, "
        f"min {np.min(confident):.3f}")


if __name__ == "__main__":
  app.run(main)
