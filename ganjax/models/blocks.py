"""Pieces shared by the ResNet architectures (Compare GAN's `resnet_ops`).

`ResNetBlock` is Compare GAN's generic residual block (used by resnet_cifar,
resnet_stl, resnet5 and resnet30) and, with a 1×1 shortcut, BigGAN's:

  main path: [norm → ReLU] → [up] conv3×3 → norm → ReLU → conv3×3 → [down]
  shortcut:  [up] conv → [down], a 3×3 conv in the generic block, 1×1 in
             BigGAN's; or the (resampled) input itself, or nothing.

Upsampling happens before the first conv (generators, as in SN-GAN) and
downsampling after the second (discriminators). Downsampling is 2×2 average
pooling. Upsampling is nearest neighbour by default; Compare GAN's `unpool`
instead put each value at the top-left of its 2×2 block and zeros elsewhere
(`upsample="zeros"`). Neither changes the parameter count.

A discriminator's first block, whose input is the image, has no
pre-activation (the first norm → ReLU; `preactivate=False`), as in SN-GAN
and BigGAN-PyTorch. Compare GAN's generic block applied its normalizer and
ReLU to the image there: with no D normalizer (its default) that was the
identity on its [0, 1] images, but on ganjax's [-1, 1] images it would zero
the negative pixels of the residual branch.

Also here: the latent routing of hierarchical-z generators, resolution checks
and a ResNet G's image output.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.models import base
from ganjax.models import normalizers

UPSAMPLING = ("nearest", "zeros")
SHORTCUTS = ("conv", "identity", "none")


def unpool(x: jax.Array) -> jax.Array:
  """Compare GAN's ×2 unpooling: x at the top-left of each 2×2 block, else 0."""
  n, h, w, c = x.shape
  out = jnp.zeros((n, h, 2, w, 2, c), x.dtype).at[:, :, 0, :, 0, :].set(x)
  return out.reshape(n, 2 * h, 2 * w, c)


def upsample(x: jax.Array, method: str) -> jax.Array:
  """×2 spatial upsampling by `method`: "nearest" or "zeros" (`unpool`)."""
  if method == "nearest":
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
  if method == "zeros":
    return unpool(x)
  raise ValueError(f"Unknown upsampling {method!r}; choose one of "
                   f"{UPSAMPLING}.")


def downsample(x: jax.Array) -> jax.Array:
  """2×2 average pooling with stride 2 and TensorFlow's "SAME" padding.

  As TensorFlow's, the average leaves out the padding (odd sizes).
  """
  return nn.avg_pool(x, (2, 2), (2, 2), padding="SAME",
                     count_include_pad=False)


def default_norm(norm: type[nn.Module] | None,
                 num_classes: int) -> type[nn.Module]:
  """`norm`, or batch norm (conditional batch norm for a conditional G)."""
  if norm is not None:
    return norm
  return (normalizers.ConditionalBatchNorm if num_classes
          else normalizers.BatchNorm)


def square_resolution(shape: Sequence[int], supported: Sequence[int],
                      name: str) -> int:
  """The side of square images of `shape`; raises unless it is supported."""
  height, width = shape[0], shape[1]
  if height != width or height not in supported:
    raise ValueError(
        f"{name} supports square images of side "
        f"{', '.join(map(str, supported))}; got {height}×{width}.")
  return height


def split_latent(z: jax.Array, y: jax.Array | None, num_blocks: int,
                 hierarchical: bool, name: str
                 ) -> tuple[jax.Array, list[jax.Array], list[jax.Array | None]]:
  """Compare GAN's latent routing: (z₀ for the FC, z per block, y per block).

  With `hierarchical` (Brock et al.'s hierarchical latent) z is split into
  num_blocks + 1 equal chunks: the first feeds the FC layer and block i gets
  chunk i + 1, concatenated to y when there is a y. Otherwise every block
  gets the whole z and y.
  """
  if not hierarchical:
    return z, [z] * num_blocks, [y] * num_blocks
  chunks = num_blocks + 1
  z_dim = z.shape[-1]
  if z_dim % chunks:
    lower, upper = (z_dim // chunks) * chunks, -(-z_dim // chunks) * chunks
    raise ValueError(
        f"{name} with hierarchical_z splits z into {chunks} equal chunks (one "
        f"for the FC layer and one for each of its {num_blocks} blocks), but "
        f"z has {z_dim} dimensions; use a multiple of {chunks} (e.g. "
        f"{max(lower, chunks)} or {upper}) or hierarchical_z = False.")
  z0, *z_blocks = jnp.split(z, chunks, axis=-1)
  if y is None:
    return z0, z_blocks, [None] * num_blocks
  return z0, z_blocks, [jnp.concatenate([zi, y], -1) for zi in z_blocks]


def parse_block_names(names: str, num_blocks: int, name: str) -> set[str]:
  """The block names (B1, B2, …) in a comma-separated list; checks them."""
  chosen = {n.strip() for n in names.split(",") if n.strip()}
  existing = {f"B{i + 1}" for i in range(num_blocks)}
  unknown = chosen - existing
  if unknown:
    raise ValueError(
        f"{name}.blocks_with_attention names {', '.join(sorted(unknown))}, "
        f"but at this resolution the blocks are B1 to B{num_blocks}.")
  return chosen


class ResNetBlock(base.Layers):
  """A residual block that keeps, doubles or halves the resolution.

  Attributes (and `base.Layers`' weight_norm and kernel_init):
    features: output channels.
    scale: "up" (×2 before the first conv; generators), "down" (÷2 after the
      second conv; discriminators) or "none".
    norm: the feature normalizer, called with the block's y and z.
    shortcut: "conv" (a learned conv), "identity" (the resampled input; needs
      as many input as output channels) or "none" (no skip connection).
    shortcut_kernel: kernel size of a conv shortcut: 3 in Compare GAN's
      generic block, 1 in BigGAN and most other ResNet GANs.
    upsample: "nearest" or "zeros" (Compare GAN's `unpool`).
    preactivate: apply the norm and ReLU before the first conv; False in a
      discriminator's first block, which sees the image itself.
  """
  features: int
  scale: str = "none"
  norm: type[nn.Module] = normalizers.Identity
  shortcut: str = "conv"
  shortcut_kernel: int = 3
  upsample: str = "nearest"
  preactivate: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    if self.scale not in ("up", "down", "none"):
      raise ValueError(f"Unknown block scale {self.scale!r}; use 'up', "
                       "'down' or 'none'.")
    if self.shortcut not in SHORTCUTS:
      raise ValueError(f"Unknown shortcut {self.shortcut!r}; choose one of "
                       f"{SHORTCUTS}.")

    def conv(h: jax.Array, kernel: int, name: str) -> jax.Array:
      return self.conv(h, self.features, kernel, name=name, train=train)

    def up(h: jax.Array) -> jax.Array:
      return upsample(h, self.upsample) if self.scale == "up" else h

    def down(h: jax.Array) -> jax.Array:
      return downsample(h) if self.scale == "down" else h

    h = x
    if self.preactivate:
      h = nn.relu(self.norm(name="bn1")(h, train=train, y=y, z=z))
    h = conv(up(h), 3, "conv1")
    h = nn.relu(self.norm(name="bn2")(h, train=train, y=y, z=z))
    h = down(conv(h, 3, "conv2"))
    if self.shortcut == "conv":
      return h + down(conv(up(x), self.shortcut_kernel, "shortcut"))
    if self.shortcut == "identity":
      if x.shape[-1] != self.features:
        raise ValueError(f"An identity shortcut needs as many input as output "
                         f"channels; got {x.shape[-1]} → {self.features}.")
      return h + down(up(x))
    return h


def log2_int(value: float) -> int | None:
  """log₂(value) if it is a non-negative integer, else None."""
  if value < 1:
    return None
  exponent = round(math.log2(value))
  return exponent if 2**exponent == value else None


def image_output(generator: base.Generator, h: jax.Array, *,
                 train: bool) -> jax.Array:
  """A ResNet G's output: a 3×3 conv to the image's channels, then tanh.

  Called inside the G's compact `__call__`, so the conv is the G's own
  "final_conv".
  """
  return jnp.tanh(generator.conv(h, generator.output_shape[-1], 3,
                                 name="final_conv", train=train))
