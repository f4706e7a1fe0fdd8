"""StyleGAN2's G and D in PyTorch for the parity tests, written without
ganjax from stylegan2-ada-pytorch's `training/networks.py` and
`torch_utils/ops` (upfirdn2d, conv2d_resample, bias_act): NCHW, float64.

Names are ganjax's ("synthesis/b8/conv0/kernel"), layouts PyTorch's (conv
OIHW, linear [out, in]; the constant input [4, 4, C] as ganjax stores it).
G takes its noise inputs as a list, one [N, 1, H, W] tensor per synthesis
layer in order, so that a test can feed both implementations the same;
called as g(z, y), it is a G without noise inputs (`use_noise=False`).
"""

import itertools
import math
from typing import Sequence

import torch
from torch.nn import functional as F

from tests.parity import torch_reference

Tensor = torch.Tensor
_FILTER = (1.0, 3.0, 3.0, 1.0)
_SQRT2 = math.sqrt(2.0)


def upfirdn2d(x: Tensor, up: int = 1, down: int = 1,
              padding: Sequence[int] = (0, 0, 0, 0),
              gain: float = 1.0) -> Tensor:
  """upsample (zeros), pad (x0, x1, y0, y1; negative crops), convolve with
  the normalized outer product of [1, 3, 3, 1] times `gain`, subsample."""
  n, c, h, w = x.shape
  x = x.reshape(n, c, h, 1, w, 1)
  x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1)).reshape(n, c, h * up, w * up)
  x = F.pad(x, tuple(padding))
  f = torch_reference.tensor(_FILTER)
  f = torch.outer(f, f) / f.sum() ** 2 * gain
  weight = f.flip([0, 1])[None, None].repeat(c, 1, 1, 1)
  return F.conv2d(x, weight, groups=c)[:, :, ::down, ::down]


def bias_act(x: Tensor, b: Tensor | None, act: str = "linear",
             gain: float = 1.0, clamp: float | None = None) -> Tensor:
  if b is not None:
    x = x + (b.view(1, -1, 1, 1) if x.ndim == 4 else b)
  if act == "lrelu":
    x = F.leaky_relu(x, 0.2) * _SQRT2
  x = x * gain
  return x if clamp is None else x.clamp(-clamp * gain, clamp * gain)


def normalize_2nd_moment(x: Tensor) -> Tensor:
  return x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


class _StyleGAN2(torch_reference.Network):
  """The layers both networks share."""

  def __init__(self, params, *, conv_clamp: float | None = None):
    super().__init__(params, {})
    self.conv_clamp = conv_clamp

  def fc(self, name: str, x: Tensor, act: str = "linear",
         lr_multiplier: float = 1.0) -> Tensor:
    w = self.params[f"{name}/kernel"]
    x = x @ (w * (lr_multiplier / math.sqrt(w.shape[1]))).T
    return bias_act(x, self.params[f"{name}/bias"] * lr_multiplier, act)

  def mapping(self, prefix: str, z: Tensor | None, y: Tensor | None,
              num_layers: int, lr_multiplier: float = 0.01) -> Tensor:
    parts = [] if z is None else [normalize_2nd_moment(z)]
    if y is not None:
      parts.append(normalize_2nd_moment(self.fc(f"{prefix}/embed", y)))
    x = torch.cat(parts, dim=1)
    for i in range(num_layers):
      x = self.fc(f"{prefix}/fc{i}", x, "lrelu", lr_multiplier)
    return x


class Generator(_StyleGAN2):
  """Mapping (z normalized; labels embedded and normalized), the constant,
  modulated convs (the per-sample kernels as a grouped conv: the
  reference's fused path), noise, skip toRGBs."""

  def __init__(self, params, *, mapping_layers: int, side: int,
               conv_clamp: float | None = None):
    super().__init__(params, conv_clamp=conv_clamp)
    self.mapping_layers = mapping_layers
    self.side = side

  def _modconv(self, x: Tensor, weight: Tensor, styles: Tensor,
               demodulate: bool = True, up: int = 1) -> Tensor:
    n = x.shape[0]
    w = weight[None] * styles[:, None, :, None, None]  # [N, O, I, k, k]
    if demodulate:
      w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()[
          :, :, None, None, None]
    k = weight.shape[-1]
    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, weight.shape[1], k, k)
    if up > 1:  # Pad once, FIR-upsample, convolve (the kernel flipped).
      p = k // 2
      x = upfirdn2d(x, up=2, padding=(p + 2, p + 1) * 2, gain=4.0)
      x = F.conv2d(x, w.flip([2, 3]), groups=n)
    else:
      x = F.conv2d(x, w, padding=k // 2, groups=n)
    return x.reshape(n, -1, *x.shape[2:])

  def _layer(self, name: str, x: Tensor, w: Tensor, noise: Tensor | None,
             up: int = 1) -> Tensor:
    styles = self.fc(f"{name}/affine", w)
    x = self._modconv(x, self.params[f"{name}/kernel"], styles, up=up)
    if noise is not None:
      x = x + noise * self.params[f"{name}/noise_strength"]
    return bias_act(x, self.params[f"{name}/bias"], "lrelu",
                    clamp=self.conv_clamp)

  def _to_rgb(self, name: str, x: Tensor, w: Tensor) -> Tensor:
    styles = self.fc(f"{name}/affine", w) / math.sqrt(x.shape[1])
    x = self._modconv(x, self.params[f"{name}/kernel"], styles,
                      demodulate=False)
    return bias_act(x, self.params[f"{name}/bias"], clamp=self.conv_clamp)

  def ws(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    num_ws = 2 * int(math.log2(self.side)) - 2
    w = self.mapping("mapping", z, y, self.mapping_layers)
    return w[:, None].repeat(1, num_ws, 1)

  def synthesis(self, ws: Tensor, noises: Sequence[Tensor]) -> Tensor:
    noises = iter(noises)
    const = self.params["synthesis/b4/const"].permute(2, 0, 1)
    x = const[None].repeat(ws.shape[0], 1, 1, 1)
    x = self._layer("synthesis/b4/conv1", x, ws[:, 0], next(noises))
    image = self._to_rgb("synthesis/b4/torgb", x, ws[:, 1])
    index, side = 1, 8
    while side <= self.side:
      block = f"synthesis/b{side}"
      x = self._layer(f"{block}/conv0", x, ws[:, index], next(noises), up=2)
      x = self._layer(f"{block}/conv1", x, ws[:, index + 1], next(noises))
      image = upfirdn2d(image, up=2, padding=(2, 1, 2, 1), gain=4.0)
      image = image + self._to_rgb(f"{block}/torgb", x, ws[:, index + 2])
      index, side = index + 2, side * 2
    return image

  def generate(self, z: Tensor, y: Tensor | None,
               noises: Sequence[Tensor]) -> Tensor:
    return self.synthesis(self.ws(z, y), noises)

  def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    return self.synthesis(self.ws(z, y), itertools.repeat(None))


class Discriminator(_StyleGAN2):
  """fromRGB; per block conv0, conv1 (FIR downsampling: pad once, filter,
  stride 2) and, "resnet", a 1×1 downsampling skip, both times √½; the
  epilogue with minibatch stddev; the projection on a label mapping."""

  def __init__(self, params, *, architecture: str = "resnet",
               mbstd_group_size: int = 4, mapping_layers: int = 8,
               conv_clamp: float | None = None):
    super().__init__(params, conv_clamp=conv_clamp)
    self.architecture = architecture
    self.mbstd_group_size = mbstd_group_size
    self.mapping_layers = mapping_layers

  def _conv(self, name: str, x: Tensor, act: str = "lrelu", down: int = 1,
            gain: float = 1.0, clamp: bool = True) -> Tensor:
    w = self.params[f"{name}/kernel"]
    w = w / math.sqrt(w[0].numel())
    k = w.shape[-1]
    p = k // 2
    if down > 1 and k == 1:
      x = F.conv2d(upfirdn2d(x, down=2, padding=(1, 1, 1, 1)), w)
    elif down > 1:
      x = F.conv2d(upfirdn2d(x, padding=(p + 1,) * 4), w, stride=2)
    else:
      x = F.conv2d(x, w, padding=p)
    return bias_act(x, self.params.get(f"{name}/bias"), act, gain,
                    self.conv_clamp if clamp else None)

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    side = x.shape[-1]
    h = self._conv(f"b{side}/fromrgb", x)
    while side > 4:
      block = f"b{side}"
      gain = math.sqrt(0.5) if self.architecture == "resnet" else 1.0
      out = self._conv(f"{block}/conv0", h)
      out = self._conv(f"{block}/conv1", out, down=2, gain=gain)
      if self.architecture == "resnet":
        out = out + self._conv(f"{block}/skip", h, "linear", down=2,
                               gain=gain, clamp=False)
      h, side = out, side // 2
    h = self._conv("b4/conv", torch_reference.minibatch_stddev(
        h, self.mbstd_group_size))
    h = self.fc("b4/fc", torch_reference.flatten_nhwc(h), "lrelu")
    out = self.fc("b4/out", h)
    if y is None:
      return out
    cmap = self.mapping("mapping", None, y, self.mapping_layers)
    return (out * cmap).sum(dim=1, keepdim=True) / math.sqrt(cmap.shape[1])
