"""StyleGAN2 (Karras et al. 2020) G and D, as stylegan2-ada-pytorch builds
them (`training/networks.py`; layers in `stylegan2_layers.py`).

G maps z (normalized to unit RMS; with labels, concatenated to their
normalized embedding) through `mapping_layers` dense layers with learning
rate multiplier 0.01 to w, broadcast to one w per layer. The synthesis
network starts from a learned 4×4 constant; each block doubles the side
(FIR upsampling in its first modulated 3×3 conv), adds noise of learned
strength after every conv, and adds its toRGB output to the FIR-upsampled
image so far ("skip" architecture). Channels at side r: min(channel_base /
r, channel_max). G tracks the mean w (`w_avg`, decay 0.995) in training, in
its "w_avg" collection, for the truncation trick (ψ, `truncation_psi`); with
`style_mixing_prob`, a training call switches to the w of a second z from a
random layer on (one cutoff per batch, as the reference's loss draws it).
G's randomness (noise inputs, mixing) comes from the "noise" key stream.

D is residual ("resnet") or plain ("orig", the reference's `cifar` config):
fromRGB, then per block two 3×3 convs, the second downsampling, then the
epilogue at 4×4: minibatch standard deviation, a 3×3 conv, two dense layers.
A conditional D projects its output on a mapping of the label
(stylegan2-ada-pytorch's conditioning).

Parameter layouts are NHWC/HWIO; names follow the reference's
(`synthesis/b8/conv0/affine/kernel` is its `synthesis.b8.conv0.affine.
weight`, transposed).
"""

import math
from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import pggan
from ganjax.models import resample
from ganjax.models import stylegan2_layers as sg2

D_ARCHITECTURES = ("resnet", "orig")
NOISE_MODES = ("random", "shared", "none")


def _log2_side(shape: Sequence[int], name: str, smallest: int = 4) -> int:
  """log₂ of the side of square images of `shape` (H, W, …); raises unless
  it is a power of two of at least `smallest`."""
  side, width = shape[0], shape[1]
  if width != side:
    raise ValueError(f"StyleGAN2 needs square images, got {side}×{width}.")
  log2 = blocks.log2_int(side)
  if log2 is None or side < smallest:
    raise ValueError(f"StyleGAN2's {name} needs square images whose side is "
                     f"a power of two, at least {smallest}; got {side}. Pad "
                     "or resize the data (e.g. 28 → 32).")
  return log2


def _channels(side: int, channel_base: int, channel_max: int) -> int:
  return min(channel_base // side, channel_max)


def _block_dtype(log2: int, top: int, num_bf16_res: int) -> jnp.dtype | None:
  """bfloat16 for the blocks of the `num_bf16_res` highest resolutions (of
  2^top), None (the input's dtype) for the others."""
  if num_bf16_res < 0:
    raise ValueError(f"StyleGAN2's num_bf16_res must be >= 0, got "
                     f"{num_bf16_res}.")
  return jnp.bfloat16 if log2 > top - num_bf16_res else None


class Mapping(nn.Module):
  """The mapping network: (z, one-hot y) ↦ w.

  Attributes:
    w_dim: features of w (and of every layer and the label embedding).
    num_layers: dense layers.
    lr_multiplier: their learning-rate multiplier.
    w_avg_beta: decay of the tracked mean of w, or None: none tracked.
  """
  w_dim: int
  num_layers: int = 8
  lr_multiplier: float = 0.01
  w_avg_beta: float | None = 0.995

  @nn.compact
  def __call__(self, z: jax.Array | None, y: jax.Array | None, *,
               train: bool, update_w_avg: bool = True) -> jax.Array:
    parts = [] if z is None else [sg2.normalize_2nd_moment(z)]
    if y is not None:
      parts.append(sg2.normalize_2nd_moment(
          sg2.Dense(self.w_dim, name="embed")(y)))
    x = jnp.concatenate(parts, -1)
    for i in range(self.num_layers):
      x = sg2.Dense(self.w_dim, "lrelu", self.lr_multiplier, name=f"fc{i}")(x)
    if self.w_avg_beta is not None:
      w_avg = self.variable("w_avg", "w_avg", jnp.zeros, (self.w_dim,))
      if (train and update_w_avg and not self.is_initializing()
          and self.is_mutable_collection("w_avg")):
        mean = jnp.mean(jax.lax.stop_gradient(x), 0).astype(jnp.float32)
        w_avg.value = mean + self.w_avg_beta * (w_avg.value - mean)
    return x


class SynthesisLayer(nn.Module):
  """Modulated 3×3 conv (FIR-upsampling with up = 2), noise, bias, lReLU."""
  features: int
  up: int = 1
  use_noise: bool = True
  conv_clamp: float | None = None
  modconv: str = "activations"
  noise_mode: str = "random"

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array,
               gain: float = 1.0) -> jax.Array:
    styles = sg2.Dense(x.shape[-1], bias_init=1.0, name="affine")(w)
    kernel = self.param("kernel", nn.initializers.normal(1.0),
                        (3, 3, x.shape[-1], self.features))
    x = sg2.modulated_conv2d(x, kernel, styles, up=self.up,
                             implementation=self.modconv)
    if self.use_noise:
      strength = self.param("noise_strength", nn.initializers.zeros, ())
      if self.noise_mode != "none":
        num = x.shape[0] if self.noise_mode == "random" else 1
        x = x + sg2.noise_input(self, (num, *x.shape[1:3], 1),
                                x.dtype) * strength.astype(x.dtype)
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return sg2.bias_act(x, bias, "lrelu", gain, self.conv_clamp)


class ToRGB(nn.Module):
  """Modulated 1×1 conv to the image's channels, without demodulation."""
  features: int
  conv_clamp: float | None = None
  modconv: str = "activations"

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
    c_in = x.shape[-1]
    styles = sg2.Dense(c_in, bias_init=1.0, name="affine")(w) / math.sqrt(
        c_in)
    kernel = self.param("kernel", nn.initializers.normal(1.0),
                        (1, 1, c_in, self.features))
    x = sg2.modulated_conv2d(x, kernel, styles,
                             demodulate=False, implementation=self.modconv)
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return sg2.bias_act(x, bias, clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
  """One side of the synthesis network: (x, image so far, its ws) ↦ the
  doubled x and image (the first block: the constant, no upsampling)."""
  features: int
  image_channels: int
  first: bool
  use_noise: bool = True
  conv_clamp: float | None = None
  modconv: str = "activations"
  noise_mode: str = "random"
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array | None, image: jax.Array | None,
               ws: Sequence[jax.Array]) -> tuple[jax.Array, jax.Array]:
    layer = lambda name, up=1: SynthesisLayer(
        self.features, up, self.use_noise, self.conv_clamp, self.modconv,
        self.noise_mode, name=name)
    ws = iter(ws)
    if self.first:
      const = self.param("const", nn.initializers.normal(1.0),
                         (4, 4, self.features))
      w = next(ws)
      x = jnp.broadcast_to(const.astype(self.dtype or w.dtype),
                           (w.shape[0], *const.shape))
      x = layer("conv1")(x, w)
    else:
      x = layer("conv0", up=2)(x.astype(self.dtype or x.dtype), next(ws))
      x = layer("conv1")(x, next(ws))
    w = next(ws)
    # The image accumulates in w's dtype, as the reference's in float32.
    rgb = ToRGB(self.image_channels, self.conv_clamp, self.modconv,
                name="torgb")(x, w).astype(w.dtype)
    if image is not None:
      rgb = rgb + resample.upsample2d(image, resample.setup_filter())
    return x, rgb


class Synthesis(nn.Module):
  """The synthesis network: ws [N, num_ws, w_dim] ↦ images [N, H, W, C]."""
  output_shape: Sequence[int]
  channel_base: int = 32768
  channel_max: int = 512
  use_noise: bool = True
  conv_clamp: float | None = None
  modconv: str = "activations"
  noise_mode: str = "random"
  num_bf16_res: int = 0

  @property
  def num_ws(self) -> int:
    """The ws the network reads: two per block, one less at 4×4, plus the
    last toRGB's."""
    return 2 * _log2_side(self.output_shape, "generator") - 2

  @nn.compact
  def __call__(self, ws: jax.Array) -> jax.Array:
    channels = self.output_shape[-1]
    x = image = None
    index = 0
    top = _log2_side(self.output_shape, "generator")
    for log2 in range(2, top + 1):
      first = log2 == 2
      block_ws = [ws[:, index + i] for i in range(2 if first else 3)]
      index += 1 if first else 2
      x, image = SynthesisBlock(
          _channels(2 ** log2, self.channel_base, self.channel_max), channels,
          first, self.use_noise, self.conv_clamp, self.modconv,
          self.noise_mode, _block_dtype(log2, top, self.num_bf16_res),
          name=f"b{2 ** log2}")(x, image, block_ws)
    return image


@gin.configurable(module="models.stylegan2")
class Generator(nn.Module):
  """StyleGAN2's G: mapping net, demodulated modulated convs, noise, skips.

  Config F's by default; the module docstring describes it.

  Attributes:
    output_shape: (H, W, C); set from the data set.
    num_classes: classes of a conditional G (0: unconditional).
    w_dim: features of w.
    mapping_layers: layers of the mapping network (8; 2 in the `cifar`
      config).
    mapping_lr_multiplier: their learning-rate multiplier.
    w_avg_beta: decay of the tracked mean of w.
    channel_base, channel_max: the channel schedule.
    use_noise: add the per-layer noise inputs.
    conv_clamp: clamp of the synthesis convs' outputs (256 in the reference
      configs), or None.
    style_mixing_prob: probability of style mixing in a training call (0.9
      in the paper's configs, 0 in `cifar`).
    truncation_psi: ψ of the truncation trick, w ↦ w_avg + ψ·(w − w_avg)
      (1: none).
    truncation_cutoff: truncate only the first this many ws (None: all).
    modconv: "activations" or "grouped" (`stylegan2_layers`).
    noise_mode: "random" (fresh noise inputs per sample), "shared" (one
      draw per layer for the whole call, so that the images of a
      latent walk or a style-mixing grid differ only by their ws), "none"
      (no noise; the reference's noise_mode "none").
    num_bf16_res: the blocks of this many highest resolutions compute in
      bfloat16 (the reference's num_fp16_res, 4 in its configs, in
      float16); the mapping, the lower blocks, the styles, the
      demodulation and the image accumulated from the toRGBs stay float32,
      as the reference keeps them. Parameters stay float32.
  """
  output_shape: Sequence[int]
  num_classes: int = 0
  w_dim: int = 512
  mapping_layers: int = 8
  mapping_lr_multiplier: float = 0.01
  w_avg_beta: float = 0.995
  channel_base: int = 32768
  channel_max: int = 512
  use_noise: bool = True
  conv_clamp: float | None = None
  style_mixing_prob: float = 0.0
  truncation_psi: float = 1.0
  truncation_cutoff: int | None = None
  modconv: str = "activations"
  noise_mode: str = "random"
  num_bf16_res: int = 0

  def setup(self):
    if self.noise_mode not in NOISE_MODES:
      raise ValueError(f"models.stylegan2.Generator.noise_mode must be one "
                       f"of {NOISE_MODES}, got {self.noise_mode!r}.")
    self.mapping_network = Mapping(self.w_dim, self.mapping_layers,
                                   self.mapping_lr_multiplier,
                                   self.w_avg_beta, name="mapping")
    self.synthesis_network = Synthesis(
        tuple(self.output_shape), self.channel_base, self.channel_max,
        self.use_noise, self.conv_clamp, self.modconv, self.noise_mode,
        self.num_bf16_res, name="synthesis")

  def mapping(self, z: jax.Array, y: jax.Array | None = None, *,
              train: bool) -> jax.Array:
    """ws [N, num_ws, w_dim] of (z, y): mixed in training with probability
    `style_mixing_prob`, truncated by `truncation_psi`."""
    layers.check_labels(self.num_classes, y)
    num_ws = self.synthesis_network.num_ws
    w = self.mapping_network(z, y, train=train)
    ws = jnp.broadcast_to(w[:, None], (w.shape[0], num_ws, w.shape[-1]))
    if train and self.style_mixing_prob > 0 and not self.is_initializing():
      cutoff_key, mix_key, z_key = jax.random.split(self.make_rng("noise"), 3)
      cutoff = jnp.where(
          jax.random.uniform(mix_key) < self.style_mixing_prob,
          jax.random.randint(cutoff_key, (), 1, num_ws), num_ws)
      w2 = self.mapping_network(jax.random.normal(z_key, z.shape, z.dtype), y,
                                train=train, update_w_avg=False)
      ws = jnp.where((jnp.arange(num_ws) >= cutoff)[None, :, None],
                     w2[:, None], ws)
    if self.truncation_psi != 1:
      w_avg = self.mapping_network.variables["w_avg"]["w_avg"].astype(
          ws.dtype)
      truncated = w_avg + self.truncation_psi * (ws - w_avg)
      cutoff = num_ws if self.truncation_cutoff is None else (
          self.truncation_cutoff)
      ws = jnp.where((jnp.arange(num_ws) < cutoff)[None, :, None], truncated,
                     ws)
    return ws

  def synthesis(self, ws: jax.Array, *, train: bool = False) -> jax.Array:
    """Images [N, H, W, C] of ws [N, num_ws, w_dim] (the same in training
    and inference mode)."""
    del train
    return self.synthesis_network(ws)

  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    return self.synthesis(self.mapping(z, y, train=train))


class DiscriminatorBlock(nn.Module):
  """Two 3×3 convs, the second FIR-downsampling; with "resnet", plus a
  1×1 downsampling shortcut, both paths scaled by √½."""
  features: int
  out_features: int
  architecture: str
  first: bool
  conv_clamp: float | None = None
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array | None, image: jax.Array) -> jax.Array:
    conv = lambda features, k, name, **kw: sg2.Conv(
        features, k, name=name, conv_clamp=self.conv_clamp, **kw)
    out_dtype = image.dtype
    if self.first:
      x = conv(self.features, 1, "fromrgb", activation="lrelu")(
          image.astype(self.dtype or image.dtype))
    x = x.astype(self.dtype or x.dtype)
    gain = math.sqrt(0.5) if self.architecture == "resnet" else 1.0
    h = conv(self.features, 3, "conv0", activation="lrelu")(x)
    h = conv(self.out_features, 3, "conv1", activation="lrelu", down=2)(
        h, gain)
    if self.architecture == "resnet":
      h = h + sg2.Conv(self.out_features, 1, down=2, use_bias=False,
                       name="skip")(x, gain)
    return h.astype(out_dtype)


@gin.configurable(module="models.stylegan2")
class Discriminator(nn.Module):
  """StyleGAN2's D: residual or plain, minibatch stddev, label projection.

  The module docstring describes it.

  Attributes:
    num_classes: classes of a conditional D (0: unconditional).
    architecture: "resnet" (the paper's) or "orig" (no residual shortcuts;
      the reference's `cifar` config).
    channel_base, channel_max: the channel schedule.
    mbstd_group_size: examples per minibatch-standard-deviation group (4;
      32 in `cifar`, 8 in `paper256`).
    conv_clamp: clamp of the convs' outputs, or None.
    cmap_dim: features of the label mapping of a conditional D (None: the
      channels at 4×4).
    mapping_layers: layers of that mapping (8, the reference's default).
    num_bf16_res: the blocks of this many highest resolutions compute in
      bfloat16 (as the generator's); the epilogue stays float32.
  """
  num_classes: int = 0
  architecture: str = "resnet"
  channel_base: int = 32768
  channel_max: int = 512
  mbstd_group_size: int = 4
  conv_clamp: float | None = None
  cmap_dim: int | None = None
  mapping_layers: int = 8
  num_bf16_res: int = 0

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    del train
    layers.check_labels(self.num_classes, y)
    if self.architecture not in D_ARCHITECTURES:
      raise ValueError(f"Unknown StyleGAN2 D architecture "
                       f"{self.architecture!r}; choose one of "
                       f"{D_ARCHITECTURES}.")
    side = x.shape[1]
    log2 = _log2_side(x.shape[1:], "discriminator", smallest=8)
    ch = lambda r: _channels(r, self.channel_base, self.channel_max)
    h = None
    for r in (2 ** k for k in range(log2, 2, -1)):
      h = DiscriminatorBlock(
          ch(r), ch(r // 2), self.architecture, r == side, self.conv_clamp,
          _block_dtype(blocks.log2_int(r), log2, self.num_bf16_res),
          name=f"b{r}")(h, x)
    cmap = None
    if self.num_classes:
      cmap = Mapping(self.cmap_dim or ch(4), self.mapping_layers,
                     w_avg_beta=None, name="mapping")(None, y, train=False)
    return Epilogue(self.mbstd_group_size, self.conv_clamp, name="b4")(h,
                                                                       cmap)


class Epilogue(nn.Module):
  """D at 4×4: minibatch stddev, 3×3 conv, dense, output (projected on the
  label mapping `cmap` when conditional, scaled by 1/√its features)."""
  mbstd_group_size: int
  conv_clamp: float | None = None

  @nn.compact
  def __call__(self, x: jax.Array, cmap: jax.Array | None) -> jax.Array:
    c = x.shape[-1]
    h = pggan.minibatch_stddev(x, self.mbstd_group_size)
    h = sg2.Conv(c, 3, "lrelu", conv_clamp=self.conv_clamp, name="conv")(h)
    h = sg2.Dense(c, "lrelu", name="fc")(h.reshape(h.shape[0], -1))
    if cmap is None:
      return sg2.Dense(1, name="out")(h)
    out = sg2.Dense(cmap.shape[-1], name="out")(h)
    return jnp.sum(out * cmap, -1, keepdims=True) / math.sqrt(cmap.shape[-1])
