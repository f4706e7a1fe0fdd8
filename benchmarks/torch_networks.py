"""PyTorch versions of Compare GAN's dcgan, infogan, sndcgan and resnet_cifar.

The reference networks of `step_throughput.py`: the same layer tables as
Compare GAN's `architectures/{dcgan,infogan,sndcgan,resnet_cifar}.py` (and so
as `ganjax.models`), written in plain PyTorch so that a training step can be
timed against ganjax's on the same CPU. Images are NCHW here (PyTorch's
layout; ganjax is NHWC); parameter counts do not depend on the layout, and
the benchmark checks that they equal the ganjax networks'.

Conventions shared with Compare GAN: "SAME" padding (symmetric where that
gives the same output size), transposed convolutions with an explicit output
size (so 28 → 14 → 7 → 4 → 2 works), biases everywhere but the projection
embedding, leaky ReLU 0.2 (0.1 in SNDCGAN's D), batch norm with a learned
scale and offset (momentum 0.1 in PyTorch's convention = decay 0.9,
ε = 1e-5), kernels initialized N(0, 0.02²). Spectral norm, when on, is
`torch.nn.utils.parametrizations.spectral_norm` (one power iteration per
training forward pass, as Compare GAN); its `u` vectors are buffers, not
parameters.

Needs `pip install torch` (not a ganjax dependency).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrizations

_STD = 0.02


def _out_size(size: int, stride: int) -> int:
  return math.ceil(size / stride)


def _init(module: nn.Module) -> nn.Module:
  nn.init.normal_(module.weight, 0.0, _STD)
  if module.bias is not None:
    nn.init.zeros_(module.bias)
  return module


def _sn(module: nn.Module, on: bool) -> nn.Module:
  return parametrizations.spectral_norm(module) if on else module


def conv(cin: int, cout: int, kernel: int, stride: int, sn: bool = False):
  """TF "SAME" convolution (output ⌈H/stride⌉), with bias."""
  return _sn(_init(nn.Conv2d(cin, cout, kernel, stride,
                             padding=(kernel - 1) // 2)), sn)


def linear(cin: int, cout: int, sn: bool = False, bias: bool = True):
  return _sn(_init(nn.Linear(cin, cout, bias=bias)), sn)


class ConvTranspose(nn.Module):
  """TF's conv2d_transpose with an explicit output size, "SAME" padding."""

  def __init__(self, cin: int, cout: int, kernel: int, stride: int,
               in_hw: tuple[int, int], out_hw: tuple[int, int]):
    super().__init__()
    paddings, extras = [], []
    for i, o in zip(in_hw, out_hw):
      # PyTorch: out = (in - 1)·s − 2p + k + output_padding.
      excess = (i - 1) * stride + kernel - o
      pad = math.ceil(excess / 2)
      paddings.append(pad)
      extras.append(2 * pad - excess)
    self.layer = _init(nn.ConvTranspose2d(
        cin, cout, kernel, stride, padding=tuple(paddings),
        output_padding=tuple(extras)))
    self.out_hw = tuple(out_hw)

  def forward(self, x):
    y = self.layer(x)
    assert tuple(y.shape[2:]) == self.out_hw, (y.shape, self.out_hw)
    return y


def _lrelu(x, slope=0.2):
  return F.leaky_relu(x, slope)


def _norm2d(channels: int, on: bool) -> nn.Module:
  return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1) if on else (
      nn.Identity())


def _norm1d(features: int, on: bool) -> nn.Module:
  return nn.BatchNorm1d(features, eps=1e-5, momentum=0.1) if on else (
      nn.Identity())


# --------------------------------------------------------------------------
# DCGAN (Radford et al.; Compare GAN's dcgan_arch, gf_dim = df_dim = 64).


class DCGANGenerator(nn.Module):
  """FC → [s/16, s/16, 512] → BN, ReLU → 5×5/2 deconvs 256, 128, 64 (BN,
  ReLU each) → 5×5/2 deconv C → tanh."""

  def __init__(self, image_shape, z_dim: int = 128, width: int = 64):
    super().__init__()
    height, wide, channels = image_shape
    hs, ws = [height], [wide]
    for _ in range(4):
      hs.append(_out_size(hs[-1], 2))
      ws.append(_out_size(ws[-1], 2))
    self.start = (8 * width, hs[4], ws[4])
    self.fc = linear(z_dim, 8 * width * hs[4] * ws[4])
    self.bn0 = nn.BatchNorm2d(8 * width)
    chans = [8 * width, 4 * width, 2 * width, width]
    self.deconvs = nn.ModuleList()
    self.bns = nn.ModuleList()
    for level, (cin, cout) in zip((3, 2, 1), zip(chans, chans[1:])):
      self.deconvs.append(ConvTranspose(cin, cout, 5, 2,
                                        (hs[level + 1], ws[level + 1]),
                                        (hs[level], ws[level])))
      self.bns.append(nn.BatchNorm2d(cout))
    self.out = ConvTranspose(width, channels, 5, 2, (hs[1], ws[1]),
                             (hs[0], ws[0]))

  def forward(self, z):
    h = self.fc(z).view(z.shape[0], *self.start)
    h = F.relu(self.bn0(h))
    for deconv, bn in zip(self.deconvs, self.bns):
      h = F.relu(bn(deconv(h)))
    return torch.tanh(self.out(h))


class DCGANDiscriminator(nn.Module):
  """5×5/2 convs 64, 128, 256, 512, lrelu 0.2, BN on all but the first
  (when `norm`), → FC 1."""

  def __init__(self, image_shape, width: int = 64, norm: bool = True,
               sn: bool = False):
    super().__init__()
    height, wide, channels = image_shape
    chans = [channels, width, 2 * width, 4 * width, 8 * width]
    self.convs = nn.ModuleList(
        conv(cin, cout, 5, 2, sn) for cin, cout in zip(chans, chans[1:]))
    self.norms = nn.ModuleList(
        [nn.Identity()] + [_norm2d(c, norm) for c in chans[2:]])
    for _ in range(4):
      height, wide = _out_size(height, 2), _out_size(wide, 2)
    self.fc = linear(8 * width * height * wide, 1, sn)

  def forward(self, x):
    h = x
    for c, n in zip(self.convs, self.norms):
      h = _lrelu(n(c(h)))
    return self.fc(h.flatten(1))


# --------------------------------------------------------------------------
# InfoGAN (Chen et al.; Compare GAN's infogan_arch, the network of Lucic et
# al.'s "Are GANs created equal?").


class InfoGANGenerator(nn.Module):
  """FC 1024 → BN, lrelu → FC 128·H/4·W/4 → BN (before the reshape: one
  γ, β per feature), lrelu → 4×4/2 deconv 64 → BN, lrelu → 4×4/2 deconv C →
  sigmoid."""

  def __init__(self, image_shape, z_dim: int = 128):
    super().__init__()
    height, wide, channels = image_shape
    self.start = (128, height // 4, wide // 4)
    features = 128 * (height // 4) * (wide // 4)
    self.fc1 = linear(z_dim, 1024)
    self.bn1 = nn.BatchNorm1d(1024)
    self.fc2 = linear(1024, features)
    self.bn2 = nn.BatchNorm1d(features)
    self.dc3 = ConvTranspose(128, 64, 4, 2, (height // 4, wide // 4),
                             (height // 2, wide // 2))
    self.bn3 = nn.BatchNorm2d(64)
    self.dc4 = ConvTranspose(64, channels, 4, 2, (height // 2, wide // 2),
                             (height, wide))

  def forward(self, z):
    h = _lrelu(self.bn1(self.fc1(z)))
    h = _lrelu(self.bn2(self.fc2(h))).view(z.shape[0], *self.start)
    h = _lrelu(self.bn3(self.dc3(h)))
    return torch.sigmoid(self.dc4(h))


class InfoGANDiscriminator(nn.Module):
  """4×4/2 conv 64, lrelu → 4×4/2 conv 128 → [BN] → lrelu → FC 1024 → [BN] →
  lrelu → FC 1. Compare GAN's BN slots here are D.batch_norm_fn (`norm`)."""

  def __init__(self, image_shape, norm: bool = True, sn: bool = False):
    super().__init__()
    height, wide, channels = image_shape
    self.conv1 = conv(channels, 64, 4, 2, sn)
    self.conv2 = conv(64, 128, 4, 2, sn)
    self.bn2 = _norm2d(128, norm)
    self.fc3 = linear(128 * _out_size(_out_size(height, 2), 2) *
                      _out_size(_out_size(wide, 2), 2), 1024, sn)
    self.bn3 = _norm1d(1024, norm)
    self.fc4 = linear(1024, 1, sn)

  def forward(self, x):
    h = _lrelu(self.conv1(x))
    h = _lrelu(self.bn2(self.conv2(h)))
    h = _lrelu(self.bn3(self.fc3(h.flatten(1))))
    return self.fc4(h)


# --------------------------------------------------------------------------
# SNDCGAN (Miyato et al. 2018; Compare GAN's sndcgan_arch).


class SNDCGANGenerator(nn.Module):
  """FC → BN (before the reshape) → ReLU → [s/8, s/8, 512] → 4×4/2 deconvs
  256, 128, 64 (BN, ReLU each) → 3×3/1 deconv C → tanh."""

  def __init__(self, image_shape, z_dim: int = 128):
    super().__init__()
    height, wide, channels = image_shape
    hs, ws = [height], [wide]
    for _ in range(3):
      hs.append(_out_size(hs[-1], 2))
      ws.append(_out_size(ws[-1], 2))
    self.start = (512, hs[3], ws[3])
    self.fc = linear(z_dim, 512 * hs[3] * ws[3])
    self.bn1 = nn.BatchNorm1d(512 * hs[3] * ws[3])
    chans = [512, 256, 128, 64]
    self.deconvs = nn.ModuleList()
    self.bns = nn.ModuleList()
    for level, (cin, cout) in zip((2, 1, 0), zip(chans, chans[1:])):
      self.deconvs.append(ConvTranspose(cin, cout, 4, 2,
                                        (hs[level + 1], ws[level + 1]),
                                        (hs[level], ws[level])))
      self.bns.append(nn.BatchNorm2d(cout))
    self.out = ConvTranspose(64, channels, 3, 1, (height, wide),
                             (height, wide))

  def forward(self, z):
    h = F.relu(self.bn1(self.fc(z))).view(z.shape[0], *self.start)
    for deconv, bn in zip(self.deconvs, self.bns):
      h = F.relu(bn(deconv(h)))
    return torch.tanh(self.out(h))


class SNDCGANDiscriminator(nn.Module):
  """conv3×3 64 / 4×4/2 128 / 3×3 128 / 4×4/2 256 / 3×3 256 / 4×4/2 512 /
  3×3 512, lrelu 0.1 each → FC 1; spectral norm on every layer when `sn`."""

  def __init__(self, image_shape, sn: bool = True):
    super().__init__()
    height, wide, channels = image_shape
    table = [(channels, 64, 3, 1), (64, 128, 4, 2), (128, 128, 3, 1),
             (128, 256, 4, 2), (256, 256, 3, 1), (256, 512, 4, 2),
             (512, 512, 3, 1)]
    self.convs = nn.ModuleList(conv(*row, sn=sn) for row in table)
    for _ in range(3):
      height, wide = _out_size(height, 2), _out_size(wide, 2)
    self.fc = linear(512 * height * wide, 1, sn)

  def forward(self, x):
    h = x
    for c in self.convs:
      h = _lrelu(c(h), 0.1)
    return self.fc(h.flatten(1))


# --------------------------------------------------------------------------
# ResNet CIFAR (SN-GAN Table 4; Compare GAN's resnet_cifar_arch).


def unpool(x):
  """Zero insertion: each value at the top-left of a 2×2 block (Compare GAN's
  `unpool`, not nearest-neighbour upsampling)."""
  n, c, h, w = x.shape
  x = torch.stack([x, torch.zeros_like(x)], dim=-1).view(n, c, h, 2 * w)
  return torch.stack([x, torch.zeros_like(x)], dim=-2).view(n, c, 2 * h, 2 * w)


class ResNetBlock(nn.Module):
  """Compare GAN's generic block: BN → ReLU → [up] conv3×3 → BN → ReLU →
  conv3×3 → [down], plus a 3×3-conv shortcut with the same scaling. In G the
  upsampling is before conv1, in D the 2×2 average pooling after conv2."""

  def __init__(self, cin: int, cout: int, scale: str, is_gen: bool,
               norm: bool, sn: bool):
    super().__init__()
    self.scale, self.is_gen = scale, is_gen
    self.shortcut = conv(cin, cout, 3, 1, sn)
    self.bn1 = _norm2d(cin, norm)
    self.conv1 = conv(cin, cout, 3, 1, sn)
    self.bn2 = _norm2d(cout, norm)
    self.conv2 = conv(cout, cout, 3, 1, sn)

  def _scaled_conv(self, layer, x, scale):
    if scale == "up":
      x = unpool(x)
    x = layer(x)
    if scale == "down":
      x = F.avg_pool2d(x, 2)
    return x

  def forward(self, x):
    scale1 = self.scale if self.is_gen else "none"
    scale2 = "none" if self.is_gen else self.scale
    shortcut = self._scaled_conv(self.shortcut, x, self.scale)
    h = self._scaled_conv(self.conv1, F.relu(self.bn1(x)), scale1)
    h = self._scaled_conv(self.conv2, F.relu(self.bn2(h)), scale2)
    return h + shortcut


class ResNetCifarGenerator(nn.Module):
  """FC 4·4·256 → 3 up-blocks 256 → 256 (BN) → BN → ReLU → conv3×3 C →
  sigmoid."""

  def __init__(self, image_shape, z_dim: int = 128):
    super().__init__()
    height, wide, channels = image_shape
    assert (height, wide) == (32, 32), image_shape
    self.fc = linear(z_dim, 4 * 4 * 256)
    self.blocks = nn.Sequential(*[
        ResNetBlock(256, 256, "up", True, norm=True, sn=False)
        for _ in range(3)])
    self.bn = nn.BatchNorm2d(256)
    self.out = conv(256, channels, 3, 1)

  def forward(self, z):
    h = self.blocks(self.fc(z).view(z.shape[0], 256, 4, 4))
    return torch.sigmoid(self.out(F.relu(self.bn(h))))


class ResNetCifarDiscriminator(nn.Module):
  """4 blocks of 128 channels (down, down, none, none; BN slots are
  D.batch_norm_fn, none by default) → ReLU → global mean pool → FC 1."""

  def __init__(self, image_shape, norm: bool = False, sn: bool = True):
    super().__init__()
    channels = image_shape[2]
    self.blocks = nn.Sequential(*[
        ResNetBlock(channels if i == 0 else 128, 128,
                    "down" if i <= 1 else "none", False, norm=norm, sn=sn)
        for i in range(4)])
    self.fc = linear(128, 1, sn)

  def forward(self, x):
    h = F.relu(self.blocks(x)).mean(dim=(2, 3))
    return self.fc(h)


# --------------------------------------------------------------------------

GENERATORS = {
    "dcgan": DCGANGenerator,
    "infogan": InfoGANGenerator,
    "sndcgan": SNDCGANGenerator,
    "resnet_cifar": ResNetCifarGenerator,
}
DISCRIMINATORS = {
    "dcgan": DCGANDiscriminator,
    "infogan": InfoGANDiscriminator,
    "sndcgan": SNDCGANDiscriminator,
    "resnet_cifar": ResNetCifarDiscriminator,
}


def build(network: str, image_shape, z_dim: int = 128, d_norm: bool = False,
          d_sn: bool = False) -> tuple[nn.Module, nn.Module]:
  """(G, D) of `network` for images of `image_shape` (H, W, C).

  `d_norm` puts batch norm in D's normalizer slots (dcgan, infogan,
  resnet_cifar; SNDCGAN's D has none); `d_sn` spectral-normalizes every D
  layer. G never uses spectral norm (as Compare GAN's configs).
  """
  g = GENERATORS[network](image_shape, z_dim=z_dim)
  kwargs = {"sn": d_sn}
  if network != "sndcgan":
    kwargs["norm"] = d_norm
  elif d_norm:
    raise ValueError("SNDCGAN's D has no batch-norm slots.")
  return g, DISCRIMINATORS[network](image_shape, **kwargs)


def num_params(module: nn.Module) -> int:
  return sum(p.numel() for p in module.parameters())
