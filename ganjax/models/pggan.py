"""Progressive GAN (Karras et al. 2018): G and D at every level of detail.

Level k works on images 4·2^k pixels a side; the top level is the data's
resolution. One set of parameters serves every level: a model initialized at
the top level has all blocks, and at a lower level it uses a subset. While
level k is faded in (`fade` from 0 to 1), G's output is
(1 − fade)·upsample(toRGB_{k−1}) + fade·toRGB_k, and D's features after its
level-k block are (1 − fade)·fromRGB_{k−1}(downsample(x)) + fade·block_k(
fromRGB_k(x)). Every weight has an equalized learning rate (N(0, 1) weights
scaled at run time by the He constant, `normalizers.EqualizedLR`); G
normalizes each pixel's features after every conv (`normalizers.PixelNorm`)
and D appends the minibatch standard deviation before its last block.

Channels at level k: min(fmap_base / 2^(k+1), fmap_max), as the paper's
nf(stage). Outputs are linear (no tanh), as in the paper.

D's downscaling layers compute lReLU(pool(conv(h)) + b), 2×2 average pooling
before the bias and activation, as the default of the paper's code
(networks.py `D_paper`, `fused_scale=True`: `conv2d_downscale2d` folds the
3×3 kernel and the box filter into one stride-2 4×4 kernel, the same linear
map as the conv then the pooling). Pooling after the activation,
pool(lReLU(conv(h) + b)), is its `fused_scale=False`. G's nearest upsampling
then 3×3 conv is that code's `fused_scale=False` and, with the kernel
flipped, its fused `upscale2d_conv2d`: the same maps.
"""

import math
from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers

_SLOPE = 0.2


def num_levels(resolution: int) -> int:
  """Levels of detail up to `resolution` (4 → 1, 8 → 2, …, 1024 → 9)."""
  log2 = blocks.log2_int(resolution)
  if log2 is None or resolution < 4:
    raise ValueError(f"Progressive growing needs a square power-of-two "
                     f"resolution of at least 4, got {resolution}; pad or "
                     "resize the data (e.g. 28 → 32).")
  return log2 - 1


def resolution(level: int) -> int:
  return 4 * 2 ** level


def minibatch_stddev(x: jax.Array, group_size: int = 4) -> jax.Array:
  """Appends one channel: the standard deviation of each feature and pixel
  over a group of examples, averaged over features and pixels (§3 of the
  paper). Example i is in group i mod (n / group_size), as in the paper's
  code; the group is the whole batch when it is smaller than `group_size`.
  """
  n, h, w, c = x.shape
  size = min(group_size, n)
  if n % size:
    raise ValueError(f"The minibatch standard deviation takes groups of "
                     f"{size}, which do not divide the batch of {n}.")
  groups = x.astype(jnp.float32).reshape(size, n // size, h, w, c)
  std = jnp.sqrt(jnp.var(groups, axis=0) + 1e-8)
  stat = jnp.tile(jnp.mean(std, axis=(1, 2, 3)), size).astype(x.dtype)
  return jnp.concatenate(
      [x, jnp.broadcast_to(stat[:, None, None, None], (n, h, w, 1))], -1)


def _equalized(layer: nn.Module, x: jax.Array, gain: float) -> jax.Array:
  return normalizers.EqualizedLR(layer=layer, gain=gain,
                                 name=f"equalized_{layer.name}")(x,
                                                                 train=False)


def _init(gain: float) -> layers.Initializer:
  """Weights of std gain/√fan_in, stored as N(0, 1) by EqualizedLR."""
  return nn.initializers.variance_scaling(gain ** 2, "fan_in", "normal")


def _conv(x: jax.Array, features: int, size: int, name: str,
          gain: float = math.sqrt(2.0)) -> jax.Array:
  return _equalized(layers.Conv(features, (size, size), padding="SAME",
                                kernel_init=_init(gain), name=name), x, gain)


def _dense(x: jax.Array, features: int, name: str,
           gain: float = math.sqrt(2.0)) -> jax.Array:
  return _equalized(nn.Dense(features, kernel_init=_init(gain), name=name),
                    x, gain)


def lerp(old: jax.Array, new: jax.Array, fade: jax.Array | float
          ) -> jax.Array:
  """(1 − fade)·old + fade·new: exactly old at 0 and new at 1."""
  return (1.0 - fade) * old + fade * new


def _channels(level: int, fmap_base: int, fmap_max: int) -> int:
  return min(fmap_base // 2 ** (level + 1), fmap_max)


@gin.configurable(module="models.pggan")
class Generator(nn.Module):
  """PGGAN generator at level `level` (None: the top one).

  Attributes:
    output_shape: (H, W, C) at the top level; set from the data set.
    num_classes: must be 0 (the paper's G is unconditional).
    level: the level of detail of the output (None: the top level).
    fade: the weight of the newest level's output, in [0, 1].
    fmap_base, fmap_max: the channel schedule.
    normalize_latent: pixel-normalize z first, as the paper does.
    full_size: upsample the output (nearest neighbour) to the top
      resolution, for sample grids and metrics at lower levels.
  """
  output_shape: Sequence[int]
  num_classes: int = 0
  level: int | None = None
  fade: float | jax.Array = 1.0
  fmap_base: int = 8192
  fmap_max: int = 512
  normalize_latent: bool = True
  full_size: bool = False

  def _act(self, h: jax.Array) -> jax.Array:
    return normalizers.PixelNorm()(nn.leaky_relu(h, _SLOPE), train=False)

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    del train
    layers.check_labels(self.num_classes, y)
    height, width, channels = self.output_shape
    top = num_levels(height) - 1
    if width != height:
      raise ValueError(f"PGGAN needs square images, got {height}×{width}.")
    level = top if self.level is None else self.level
    if not 0 <= level <= top:
      raise ValueError(f"Generator level {level} is not in [0, {top}].")
    nf = lambda k: _channels(k, self.fmap_base, self.fmap_max)
    h = normalizers.PixelNorm()(z, train=False) if self.normalize_latent else z
    h = _dense(h, 16 * nf(0), "dense", gain=math.sqrt(2.0) / 4)
    h = self._act(h.reshape(z.shape[0], 4, 4, nf(0)))
    h = self._act(_conv(h, nf(0), 3, "conv_0"))
    features = [h]
    for k in range(1, level + 1):
      h = blocks.upsample(h, "nearest")
      h = self._act(_conv(h, nf(k), 3, f"conv_{k}a"))
      h = self._act(_conv(h, nf(k), 3, f"conv_{k}b"))
      features.append(h)
    to_rgb = lambda k: _conv(features[k], channels, 1, f"to_rgb_{k}",
                             gain=1.0)
    if self.is_initializing():  # Every level's toRGB, for one parameter set.
      for k in range(level - 1):
        to_rgb(k)
    out = to_rgb(level)
    if level:
      out = lerp(blocks.upsample(to_rgb(level - 1), "nearest"), out,
                 self.fade)
    while self.full_size and out.shape[1] < height:
      out = blocks.upsample(out, "nearest")
    return out


@gin.configurable(module="models.pggan")
class Discriminator(nn.Module):
  """PGGAN discriminator; its level is that of its input's resolution.

  Attributes:
    num_classes: must be 0 (the paper's D is unconditional).
    fade: the weight of the newest level's path, in [0, 1].
    fmap_base, fmap_max: the channel schedule.
    group_size: examples per minibatch-standard-deviation group.
  """
  num_classes: int = 0
  fade: float | jax.Array = 1.0
  fmap_base: int = 8192
  fmap_max: int = 512
  group_size: int = 4

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    del train
    layers.check_labels(self.num_classes, y)
    level = num_levels(x.shape[1]) - 1
    nf = lambda k: _channels(k, self.fmap_base, self.fmap_max)
    act = lambda h: nn.leaky_relu(h, _SLOPE)
    from_rgb = lambda image, k: act(_conv(image, nf(k), 1, f"from_rgb_{k}"))
    if self.is_initializing():  # Every level's fromRGB, for one parameter set.
      image = blocks.downsample(x)
      for k in range(level - 2, -1, -1):
        image = blocks.downsample(image)
        from_rgb(image, k)
    h = from_rgb(x, level)
    for k in range(level, 0, -1):
      h = act(_conv(h, nf(k), 3, f"conv_{k}a"))
      # pool(conv + b) = pool(conv) + b: the bias comes before the lReLU.
      h = act(blocks.downsample(_conv(h, nf(k - 1), 3, f"conv_{k}b")))
      if k == level:
        h = lerp(from_rgb(blocks.downsample(x), level - 1), h, self.fade)
    h = minibatch_stddev(h, self.group_size)
    h = act(_conv(h, nf(0), 3, "conv_0"))
    h = act(_dense(h.reshape(h.shape[0], -1), nf(-1), "dense_0"))
    return _dense(h, 1, "logit", gain=1.0)
