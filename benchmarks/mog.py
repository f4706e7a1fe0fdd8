r"""PacGAN's 2-D mixture benchmark: ring of 8 and grid of 25 Gaussians.

Trains each gin experiment for several seeds at once (`train.train` with
`seeds`: one compiled step, vmapped over the seeds' states, serves them all),
evaluates PacGAN's metrics on 2,500 samples per seed, and prints a table
beside PacGAN's Table 1 (Lin et al. 2018; mean ± standard error), with the
per-seed scores, the training wall and CPU time of each experiment (its
seeds together, compiling included), the machine's CPU model, the date and
the load average (which counts this process too) at the end of each run.

  python benchmarks/mog.py [--seeds=5] [--gin_bindings='NUM_STEPS = 5000']
"""

import datetime
import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import gin
import jax
import numpy as np

from ganjax.core import sampling
from ganjax.metrics import mode_coverage
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import train
import machine

_EXPERIMENTS = flags.DEFINE_multi_string(
    "experiment", ["experiments/mog_ring.gin", "experiments/mog_grid.gin"],
    "Gin experiments (relative to gin_configs/) to run.")
_SEEDS = flags.DEFINE_integer("seeds", 5, "Seeds per experiment.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [],
                                          "Extra bindings for every run.")

# PacGAN Table 1 (arXiv:1712.04086): modes, HQ %, reverse KL; ring then grid.
PACGAN_TABLE = {
    "GAN": ((6.3, 98.2, 0.45), (17.3, 94.8, 0.70)),
    "PacGAN2": ((7.9, 95.6, 0.07), (23.8, 91.3, 0.13)),
    "PacGAN3": ((7.8, 97.7, 0.10), (24.6, 94.2, 0.06)),
    "PacGAN4": ((7.8, 95.9, 0.07), (24.8, 93.6, 0.04)),
}


def _load() -> str:
  return "/".join(f"{v:.1f}" for v in os.getloadavg())


def run_seeds(gin_file: str, seeds: list[int], bindings: list[str]
              ) -> tuple[list[dict], float, float, int]:
  """Trains one experiment for all seeds at once; returns per-seed scores,
  the training's wall and CPU seconds and its number of steps."""
  gin.clear_config()
  config.parse([gin_file], bindings)
  num_steps = gin.query_parameter("train.num_steps")
  if isinstance(num_steps, gin.config.ConfigurableReference):  # A macro.
    num_steps = num_steps.scoped_configurable_fn()
  start, cpu_start = time.time(), time.process_time()
  with tempfile.TemporaryDirectory() as root:
    states = train.train([os.path.join(root, str(s)) for s in seeds],
                         seeds=seeds)
  elapsed, cpu = time.time() - start, time.process_time() - cpu_start
  exps = [experiment_lib.make_experiment(seed=s) for s in seeds]
  scores = []
  for e, state in zip(exps, states):
    points = sampling.draw(e.gan, state, e.sample_key, 2500,
                           use_ema=state.ema_params is not None)
    m = e.data.mixture
    scores.append(mode_coverage.mode_coverage(points, m.means, m.std))
  return scores, elapsed, cpu, num_steps


def _mean_se(values: list[float], digits: int = 2) -> str:
  values = np.asarray(values)
  se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
  return f"{values.mean():.{digits}f}±{se:.{digits}f}"


def main(argv):
  del argv
  seeds = list(range(_SEEDS.value))
  rows = []
  total = time.time()
  for gin_file in _EXPERIMENTS.value:
    scores, elapsed, cpu, num_steps = run_seeds(gin_file, seeds,
                                                _GIN_BINDINGS.value)
    rows.append((os.path.basename(gin_file), num_steps, elapsed, cpu,
                 _load(), scores))
    print(f"{gin_file}: trained in {elapsed:.0f} s", flush=True)
  print(f"\nganjax, {len(seeds)} seeds each (mean ± s.e.), "
        f"total wall time {time.time() - total:.0f} s, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{machine.cpu_model()}, jax {jax.__version__}"
        + "".join(f", {b}" for b in _GIN_BINDINGS.value))
  print("train s: wall time of training all seeds together (compiling "
        "included, scoring not); CPU s: this process's CPU time in it; "
        "load: 1/5/15-min load average at its end (this process included)")
  print("| run | steps | train s (per seed) | CPU s | load | modes | HQ % "
        "| reverse KL |")
  print("|---|---:|---:|---:|---|---:|---:|---:|")
  for name, num_steps, elapsed, cpu, load, scores in rows:
    print(f"| {name} | {num_steps} | {elapsed:.0f} "
          f"({elapsed / len(seeds):.0f}) | {cpu:.0f} | {load} | "
          f"{_mean_se([s['modes'] for s in scores])} | "
          f"{_mean_se([100 * s['high_quality'] for s in scores])} | "
          f"{_mean_se([s['reverse_kl'] for s in scores], 3)} |")
    for seed, s in zip(seeds, scores):
      print(f"|   seed {seed} | | | | | {s['modes']:.0f} | "
            f"{100 * s['high_quality']:.1f} | {s['reverse_kl']:.3f} |")
  print("\nPacGAN Table 1 (400k steps, 10 trials): ring | grid")
  for name, (ring, grid) in PACGAN_TABLE.items():
    print(f"| {name} | {ring[0]} / {ring[1]} % / {ring[2]} | "
          f"{grid[0]} / {grid[1]} % / {grid[2]} |")
  sys.stdout.flush()


if __name__ == "__main__":
  app.run(main)
