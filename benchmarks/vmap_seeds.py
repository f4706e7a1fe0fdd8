r"""Runs trained together (one vmapped step) against the same runs one by one.

Trains `experiments/mog_ring.gin` (PacGAN's ring: MLP G and packed maxout D,
batch 256) as N runs that differ in their seed (or, with `--vary=lr`, in G's
and D's learning rate) with `train.train(workdirs, bindings=...)` and then,
in the same process, as N ordinary runs one after the other, each for the
same number of steps with the same cadence (one log, sample grid and
checkpoint, at the end). Wall times include compiling, data, checkpoints and
samples: what a user of `ganjax.study` waits for. Prints a Markdown table.

  python benchmarks/vmap_seeds.py [--seeds=1,5,8,16] [--steps=2000] \
      [--vary=seed|lr] [--gin_bindings='experiment.batch_size = 64']
"""

import os
import tempfile
import time

from absl import app
from absl import flags
import gin
import jax
import numpy as np

from ganjax.run import config
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import train

_SEEDS = flags.DEFINE_list("seeds", ["1", "5", "8", "16"],
                           "Numbers of runs trained at once.")
_VARY = flags.DEFINE_enum(
    "vary", "seed", ["seed", "lr"], "What the runs differ in: the seed, or "
    "G's and D's learning rate (log-spaced over [1e-4, 1e-3], seed 0).")
_STEPS = flags.DEFINE_integer("steps", 2000, "Train steps of every run.")
_EXPERIMENT = flags.DEFINE_string("experiment", "experiments/mog_ring.gin",
                                  "The gin experiment.")
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Extra bindings for every run (e.g. a smaller model).")


def _runs(n: int) -> list[list[str]]:
  """The bindings of each of n runs."""
  if _VARY.value == "seed":
    return [[f"experiment.seed = {seed}"] for seed in range(n)]
  return [[f"{net}/optax.adam.learning_rate = {float(lr)!r}"
           for net in ("generator", "discriminator")]
          for lr in np.geomspace(1e-4, 1e-3, n)]


def _parse(run: list[str]) -> None:
  gin.clear_config()
  config.parse([_EXPERIMENT.value], [
      f"NUM_STEPS = {_STEPS.value}", "train.log_every = 0",
      "train.sample_every = 0", "train.checkpoint_every = 0",
      *_GIN_BINDINGS.value, *run])


def _together(root: str, runs: list[list[str]]) -> float:
  _parse(runs[0])
  start = time.perf_counter()
  jax.block_until_ready(train.train(
      [os.path.join(root, f"together{i}") for i in range(len(runs))],
      bindings=runs))
  return time.perf_counter() - start


def _one_by_one(root: str, runs: list[list[str]]) -> float:
  start = time.perf_counter()
  for i, run in enumerate(runs):
    _parse(run)
    jax.block_until_ready(train.train(os.path.join(root, f"alone{i}")))
  return time.perf_counter() - start


def main(argv):
  del argv
  print(f"{_EXPERIMENT.value} {_GIN_BINDINGS.value}, runs differing in "
        f"{_VARY.value}, {_STEPS.value} steps per run, "
        f"{os.cpu_count()} CPUs, jax {jax.__version__}, "
        f"{jax.devices()[0].device_kind}")
  print("| runs | together s | one by one s | speed-up | "
        "run-steps/s together | run-steps/s one by one |")
  print("|---:|---:|---:|---:|---:|---:|")
  for n in map(int, _SEEDS.value):
    runs = _runs(n)
    with tempfile.TemporaryDirectory() as root:
      together = _together(root, runs)
      alone = _one_by_one(root, runs)
    work = n * _STEPS.value
    print(f"| {n} | {together:.1f} | {alone:.1f} | {alone / together:.2f}x "
          f"| {work / together:.0f} | {work / alone:.0f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
