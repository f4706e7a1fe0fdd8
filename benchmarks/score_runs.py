r"""FID, KID, MS-SSIM and SWD of finished runs' latest checkpoints, as a
Markdown table.

Each run is scored with its own experiment (its data and the evaluation split
its config names) by `evaluation.evaluate`, with these metrics and sample
count instead of the config's. Real images' Inception features are cached on
disk, so runs on the same data compute them once.

  python benchmarks/score_runs.py \
      --workdirs=runs/pggan_fashion_mnist_cpu,runs/dcgan_fashion_mnist_cpu \
      [--num_samples=10000]
"""

import time

from absl import app
from absl import flags

from ganjax.metrics import suite
from ganjax.metrics.inception import features
from ganjax.run import evaluation
from ganjax.run import registry  # pylint: disable=unused-import

_WORKDIRS = flags.DEFINE_list("workdirs", None, "Run directories to score.",
                              required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 10000,
                                    "Generated (and real) images per score.")


def main(argv):
  del argv
  make_extractor = features.factory()
  print(f"{_NUM_SAMPLES.value} samples")
  print("| run | step | FID | KID | MS-SSIM | SWD (x1e3) | seconds |")
  print("|---|---:|---:|---:|---:|---:|---:|")
  for workdir in _WORKDIRS.value:
    start = time.perf_counter()
    step, scores = evaluation.score_run(
        workdir, [suite.fid, suite.kid, suite.ms_ssim,
                  suite.sliced_wasserstein], _NUM_SAMPLES.value,
        make_extractor)
    print(f"| {workdir} | {step} | {scores['fid']:.2f} | "
          f"{scores['kid']:.4f} | {scores['ms_ssim']:.3f} | "
          f"{scores['swd_mean']:.1f} | {time.perf_counter() - start:.0f} |",
          flush=True)


if __name__ == "__main__":
  app.run(main)
