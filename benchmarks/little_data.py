r"""Does augmentation help on little data? Fashion-MNIST cut to 1,000 images.

  python benchmarks/little_data.py [--seeds=0,1,2] [--rows=none,diffaugment,...]
      [--out_dir=runs/little_data] [--gin_bindings=...]

Trains `experiments/little_data/fashion_mnist_1k_cpu.gin` once per row and
seed, each in its own process and run folder, with the row's objective
terms: no augmentation, DiffAugment (color, translation, cutout), ADA (bgc,
target 0.6), DiffAugment + LeCam and bCR (and, when asked for, all 60,000
images without augmentation, `none_all_data`, and ADA at a fixed p of 0.2,
`ada_fixed_p`). Each run scores FID and KID
of 10k samples against the 10k test images at its last step (the config's
evaluation). A run folder that already has its score is not trained again,
and an unfinished one resumes, so the benchmark can be stopped and
continued. Prints a Markdown table (mean ± std over seeds, training and
scoring time) with the CPU model and the date. The target of issue 24: the
best augmented row's FID at least 30 % below the unaugmented one.
"""

import datetime
import os
import subprocess
import sys
import time

from absl import app
from absl import flags
import numpy as np

from ganjax.run import scores_file
import machine

ROWS = {
    "none": [],
    "diffaugment": ["GAN.terms = [@terms.DiffAugment()]"],
    "ada": ["GAN.terms = [@terms.ADA()]"],
    "diffaugment_lecam": ["GAN.terms = [@terms.DiffAugment(), @terms.LeCam()]"],
    "bcr": ["GAN.terms = [@terms.BCR()]"],
    # Not default rows. All 60,000 images, no augmentation: tells whether
    # the budget or the 1,000 images limit the unaugmented row.
    "none_all_data": ["datasets.tfds.train_examples = None"],
    # ADA's pipeline at a fixed p of 0.2 (untuned): whether the pipeline
    # helps here at all, as the adaptive p stays near 0 in this budget.
    "ada_fixed_p": ["GAN.terms = [@terms.ADA()]", "terms.ADA.target = None",
                    "terms.ADA.initial_p = 0.2"],
}
_DEFAULT_ROWS = ["none", "diffaugment", "ada", "diffaugment_lecam", "bcr"]
_CONFIG = "experiments/little_data/fashion_mnist_1k_cpu.gin"

_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of each row.")
_ROWS = flags.DEFINE_list("rows", _DEFAULT_ROWS, "Rows to run, of " +
                          ", ".join(ROWS) + ".")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/little_data",
                               "Where the runs go (one folder per run).")
_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", [], "Extra bindings for every run (e.g. a shorter "
    "train.num_steps for a trial; the recorded table uses none).")


def last_scores(workdir: str) -> dict[str, float] | None:
  """A run's last recorded scores (`scores_file.rows`), or None."""
  rows = scores_file.rows(workdir)
  return rows[-1] if rows else None


def train(workdir: str, row: str, seed: int) -> float:
  """Trains (or resumes) one run in its own process; its wall seconds."""
  command = [sys.executable, "-m", "ganjax.main", f"--gin_file={_CONFIG}",
             f"--workdir={workdir}"]
  for binding in [f"experiment.seed = {seed}", *ROWS[row],
                  *_BINDINGS.value]:
    command.append(f"--gin_bindings={binding}")
  start = time.perf_counter()
  subprocess.run(command, check=True)
  return time.perf_counter() - start


def main(argv):
  del argv
  unknown = sorted(set(_ROWS.value) - set(ROWS))
  if unknown:
    raise app.UsageError(f"Unknown rows {unknown}; use {sorted(ROWS)}.")
  table = []
  for row in _ROWS.value:
    scores, seconds = [], []
    for seed in map(int, _SEEDS.value):
      workdir = os.path.join(_OUT_DIR.value, f"{row}_seed{seed}")
      if last_scores(workdir) is None:
        seconds.append(train(workdir, row, seed))
      if last_scores(workdir) is None:
        raise RuntimeError(f"{workdir} finished without a score: its config "
                           "must evaluate at its last step "
                           "(train.eval_every).")
      scores.append(last_scores(workdir))
    fid = np.array([s["fid"] for s in scores])
    kid = np.array([s["kid"] for s in scores])
    table.append((row, fid, kid, seconds))
  base = next((fid.mean() for row, fid, _, _ in table if row == "none"),
              None)
  print(f"{datetime.date.today()}, {machine.cpu_model()}, "
        f"{len(_SEEDS.value)} seeds; extra bindings: {_BINDINGS.value}")
  print("| row | FID | KID | vs. none | seconds per run (this call) |")
  print("|---|---:|---:|---:|---:|")
  for row, fid, kid, seconds in table:
    change = "" if base is None else f"{fid.mean() / base - 1:+.0%}"
    timing = f"{np.mean(seconds):.0f}" if seconds else "(earlier call)"
    print(f"| {row} | {fid.mean():.2f} ± {fid.std():.2f} | "
          f"{kid.mean():.4f} ± {kid.std():.4f} | {change} | {timing} |")


if __name__ == "__main__":
  app.run(main)
