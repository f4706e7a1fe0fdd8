"""Writes the small PyTorch files that torch_file_test.py reads without torch.

Run once, from the repository root, with torch installed:

  python tests/metrics/inception/testdata/make_torch_files.py

Outputs, in tests/metrics/inception/testdata/:
  torch_module.pt: `torch.jit.save` of a scripted module tree.
  torch_state_zip.pt: its state dict, `torch.save` in the zip format.
  torch_state_legacy.pt: the same, in the legacy (pre-1.6) format.
  torch_expected.npz: every tensor of the state dict, by dotted name.
  torch_attributes.json: the module tree's non-tensor attributes.

The tensors cover float32, float16, float64, int64, int32, uint8 and bool
storages, a transposed (non-contiguous) view, two tensors sharing one storage
at different offsets and a 0-d tensor.
"""

import collections
import json
import os

import numpy as np
import torch
from torch import nn

_DIR = os.path.dirname(os.path.abspath(__file__))


class Conv(nn.Module):
  """A leaf with an int and a list attribute besides its parameters."""

  def __init__(self):
    super().__init__()
    self.stride = 2
    self.padding = [1, 0]
    self.weight = nn.Parameter(torch.randn(4, 3, 2, 2))
    self.scale = nn.Parameter(torch.randn(4).half())

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return x * self.weight.sum() * self.stride + self.padding[0]


class Net(nn.Module):
  """Nested submodules and buffers with unusual layouts."""

  def __init__(self):
    super().__init__()
    self.layers = nn.Sequential(collections.OrderedDict(conv=Conv()))
    square = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    self.register_buffer("transposed", square.t())  # Strides (1, 4).
    shared = torch.arange(10, dtype=torch.int64)
    self.register_buffer("head", shared[:4])
    self.register_buffer("tail", shared[6:])  # Storage offset 6.
    self.register_buffer("count", torch.tensor(7, dtype=torch.int32))  # 0-d.
    self.register_buffer("pixels", torch.arange(5, dtype=torch.uint8))
    self.register_buffer("mask", torch.tensor([True, False, True]))

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return self.layers(x)


class Wrap(nn.Module):

  def __init__(self):
    super().__init__()
    self.net = Net()

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return self.net(x)


def main() -> None:
  torch.manual_seed(0)
  module = torch.jit.script(Wrap().eval())
  torch.jit.save(module, os.path.join(_DIR, "torch_module.pt"))
  state = module.state_dict()
  assert not state["net.transposed"].is_contiguous()
  assert state["net.tail"].storage_offset() == 6
  torch.save(state, os.path.join(_DIR, "torch_state_zip.pt"))
  torch.save(state, os.path.join(_DIR, "torch_state_legacy.pt"),
             _use_new_zipfile_serialization=False)
  np.savez(os.path.join(_DIR, "torch_expected.npz"),
           **{name: t.numpy() for name, t in state.items()})
  attributes = {
      name: value for name, value in
      torch._C._jit_debug_module_iterators(module._c)["named_attributes_r"]
      if not isinstance(value, (torch.Tensor, torch.ScriptObject))}
  with open(os.path.join(_DIR, "torch_attributes.json"), "w") as f:
    json.dump(attributes, f, indent=1)
  print(sorted(state), attributes)


if __name__ == "__main__":
  main()
