r"""Few labels on Fashion-MNIST: unconditional, S²GAN, S³GAN and fully
supervised DCGANs on the same budget, by FID and KID and by the accuracy of
the labels S²GAN and S³GAN infer for the 90 % of garments without one.

  python benchmarks/s3gan_fashion_mnist.py \
      [--out_dir=runs/s3gan_fashion_mnist_cpu] [--num_samples=10000]

Trains the configs of gin_configs/experiments/s3gan_fashion_mnist_cpu/ one
after the other (`ganjax.main`; a finished run is only resumed), with
S²GAN's linear probe between its stages, then scores every GAN's last
checkpoint against the test split and prints a Markdown table. Needs
Fashion-MNIST prepared (see common.gin).
"""

import os
import subprocess
import sys
import time

from absl import app
from absl import flags
import gin
import numpy as np

from ganjax.core import inferred_labels
from ganjax.data import catalog
from ganjax.metrics import suite
from ganjax.metrics.inception import features
from ganjax.run import evaluation
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir

_OUT_DIR = flags.DEFINE_string("out_dir", "runs/s3gan_fashion_mnist_cpu",
                               "Where the runs go.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 10000,
                                    "Generated (and real) images per score.")

_CONFIGS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "gin_configs", "experiments",
                        "s3gan_fashion_mnist_cpu")
_LABELS_USED = {"unconditional": "none", "s2gan": "10 % + probe's",
                "s3gan": "10 % + D's", "supervised": "100 %"}


def _train(name: str, bindings: tuple[str, ...] = ()) -> float:
  """Trains config `name` into out_dir/name; returns the wall seconds."""
  start = time.perf_counter()
  subprocess.run(
      [sys.executable, "-m", "ganjax.main",
       f"--gin_file={os.path.join(_CONFIGS, name + '.gin')}",
       f"--workdir={os.path.join(_OUT_DIR.value, name)}",
       *[f"--gin_bindings={b}" for b in bindings]], check=True)
  return time.perf_counter() - start


def _accuracy_on_withheld(labels: np.ndarray) -> float:
  """Accuracy of inferred labels on the garments whose label was withheld
  (the configs' 10 %, label_seed 0)."""
  # Explicit arguments: gin may still hold a run's labeled_fraction.
  truth = catalog.tfds_dataset(0, name="fashion_mnist_32",
                               labeled_fraction=None).labels
  kept = catalog.tfds_dataset(0, name="fashion_mnist_32",
                              labeled_fraction=0.1, label_seed=0).labels
  withheld = kept == -1
  return inferred_labels.accuracy(labels[withheld], truth[withheld])


def main(argv):
  del argv
  seconds = {name: _train(name) for name in
             ("unconditional", "supervised", "s3gan", "s2gan_pretrain")}
  gin.clear_config()
  probe_labels = run_dir.inferred_train_labels(
      os.path.join(_OUT_DIR.value, "s2gan_pretrain"), "probe")
  labels_path = os.path.abspath(
      os.path.join(_OUT_DIR.value, "s2gan_labels.npy"))
  np.save(labels_path, probe_labels)
  seconds["s2gan"] = _train(
      "s2gan", (f"datasets.tfds.label_file = '{labels_path}'",))
  gin.clear_config()
  accuracy = {
      "s2gan": _accuracy_on_withheld(probe_labels),
      "s3gan": _accuracy_on_withheld(run_dir.inferred_train_labels(
          os.path.join(_OUT_DIR.value, "s3gan"), "head"))}

  make_extractor = features.factory()
  print(f"\n{_NUM_SAMPLES.value} samples against the test split; S²GAN's "
        f"time includes its {seconds['s2gan_pretrain']:.0f} s rotation "
        f"pre-training.")
  print("| run | labels | accuracy of inferred labels | FID | KID | "
        "train seconds |")
  print("|---|---|---:|---:|---:|---:|")
  for name in ("unconditional", "s2gan", "s3gan", "supervised"):
    _, scores = evaluation.score_run(os.path.join(_OUT_DIR.value, name),
                                     [suite.fid, suite.kid],
                                     _NUM_SAMPLES.value, make_extractor)
    train_seconds = seconds[name] + seconds.get(f"{name}_pretrain", 0.0)
    inferred = f"{accuracy[name]:.3f}" if name in accuracy else "—"
    print(f"| {name} | {_LABELS_USED[name]} | {inferred} | "
          f"{scores['fid']:.2f} | {scores['kid']:.4f} | "
          f"{train_seconds:.0f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
