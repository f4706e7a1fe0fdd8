r"""Seeds trained together (one vmapped step) against the same seeds one by one.

Trains `experiments/mog_ring.gin` (PacGAN's ring: MLP G and packed maxout D,
batch 256) for N seeds with `train.train(workdirs, seeds=...)` and then, in
the same process, with N ordinary runs one after the other, each for the same
number of steps with the same cadence (one log, sample grid and checkpoint,
at the end). Wall times include compiling, data, checkpoints and samples:
what a user of `ganjax.study` waits for. Prints a Markdown table.

  python benchmarks/vmap_seeds.py [--seeds=1,5,8,16] [--steps=2000] \
      [--gin_bindings='experiment.batch_size = 64']
"""

import os
import tempfile
import time

from absl import app
from absl import flags
import gin
import jax

from ganjax import config
from ganjax import registry  # pylint: disable=unused-import
from ganjax import train

_SEEDS = flags.DEFINE_list("seeds", ["1", "5", "8", "16"],
                           "Numbers of seeds trained at once.")
_STEPS = flags.DEFINE_integer("steps", 2000, "Train steps of every run.")
_EXPERIMENT = flags.DEFINE_string("experiment", "experiments/mog_ring.gin",
                                  "The gin experiment.")
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Extra bindings for every run (e.g. a smaller model).")


def _parse(seed: int) -> None:
  gin.clear_config()
  config.parse([_EXPERIMENT.value], [
      f"NUM_STEPS = {_STEPS.value}", "train.log_every = 0",
      "train.sample_every = 0", "train.checkpoint_every = 0",
      f"experiment.seed = {seed}", *_GIN_BINDINGS.value])


def _together(root: str, seeds: list[int]) -> float:
  _parse(seeds[0])
  start = time.perf_counter()
  jax.block_until_ready(train.train(
      [os.path.join(root, f"together{s}") for s in seeds], seeds=seeds))
  return time.perf_counter() - start


def _one_by_one(root: str, seeds: list[int]) -> float:
  start = time.perf_counter()
  for seed in seeds:
    _parse(seed)
    jax.block_until_ready(train.train(os.path.join(root, f"alone{seed}")))
  return time.perf_counter() - start


def main(argv):
  del argv
  print(f"{_EXPERIMENT.value} {_GIN_BINDINGS.value}, {_STEPS.value} steps "
        "per run, "
        f"{os.cpu_count()} CPUs, jax {jax.__version__}, "
        f"{jax.devices()[0].device_kind}")
  print("| seeds | together s | one by one s | speed-up | "
        "seed-steps/s together | seed-steps/s one by one |")
  print("|---:|---:|---:|---:|---:|---:|")
  for n in map(int, _SEEDS.value):
    seeds = list(range(n))
    with tempfile.TemporaryDirectory() as root:
      together = _together(root, seeds)
      alone = _one_by_one(root, seeds)
    work = n * _STEPS.value
    print(f"| {n} | {together:.1f} | {alone:.1f} | {alone / together:.2f}x "
          f"| {work / together:.0f} | {work / alone:.0f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
