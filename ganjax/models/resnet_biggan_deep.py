"""BigGAN-deep (Brock et al. 2019) as Compare GAN's `resnet_biggan_deep`.

Resolutions 32, 64, 128, 256 and 512; ch = 128. Channel multipliers (the
first entry is the FC output in G and the first conv's in D; each further
entry is one block's output):

  side  G                                   D
  32    4 ×8                                2 ×8
  64    16 ×4, 8 ×2, 4, 4, 2                2, 4, 4, 8 ×2, 16 ×4
  128   16 ×4, 8 ×2, 4, 4, 2, 2, 1          1, 2, 2, 4, 4, 8 ×2, 16 ×4
  256   16 ×4, 8 ×4, 4, 4, 2, 2, 1          1, 2, 2, 4, 4, 8 ×4, 16 ×4
  512   16 ×4, 8 ×4, 4, 4, 2, 2, 1, 1, 1    1, 1, 1, 2, 2, 4, 4, 8 ×4, 16 ×4

Blocks alternate keeping and changing the resolution (G: none, up, none, …;
D: down, none, down, …) and are bottlenecks: four times norm → ReLU → conv
(1×1 to max(in, out)/4 channels, 3×3, 3×3, 1×1 to the output channels), up
before the first 3×3 conv, down before the last 1×1. Skips keep the input:
G drops its extra channels, D appends a 1×1 conv's output for the missing
ones. A SAGAN self-attention block follows the block that ends at 64×64.

G: z is not chunked: with a label, the normalizers, and the FC, get
   [z, embed(y)] (shared embedding, linear one-hot → 128, no bias); without,
   z. FC → 4×4 → blocks → unconditional batch norm → ReLU → conv3×3 → tanh,
   images in [-1, 1] (Compare GAN: [0, 1]).
D: conv3×3 → blocks → ReLU → global sum pool (Compare GAN's docstring says
   mean, its code sums) → FC → 1 logit, plus the projection term.

Parameters at 128 with z_dim 128, conditional on 1000 classes: G 50,244,484,
D 34,590,210, as Compare GAN's. As in `resnet_biggan`, G's blocks default to
conditional batch norm and all layers to spectral norm. Differences from
Compare GAN that keep the count: nearest-neighbour upsampling by default
(`upsample="zeros"` for its unpooling), ganjax's conditional batch norm
(γ = 1 + W_γ y), and no `experimental_fast_conv_to_rgb`.

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
"""

import dataclasses

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import attention
from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers

RESOLUTIONS = (32, 64, 128, 256, 512)
_G_CHANNELS = {
    32: (4,) * 8,
    64: (16,) * 4 + (8,) * 2 + (4, 4, 2),
    128: (16,) * 4 + (8,) * 2 + (4, 4, 2, 2, 1),
    256: (16,) * 4 + (8,) * 4 + (4, 4, 2, 2, 1),
    512: (16,) * 4 + (8,) * 4 + (4, 4, 2, 2, 1, 1, 1),
}
_D_CHANNELS = {
    32: (2,) * 8,
    64: (2, 4, 4) + (8,) * 2 + (16,) * 4,
    128: (1, 2, 2, 4, 4) + (8,) * 2 + (16,) * 4,
    256: (1, 2, 2, 4, 4) + (8,) * 4 + (16,) * 4,
    512: (1, 1, 1, 2, 2, 4, 4) + (8,) * 4 + (16,) * 4,
}
_ATTENTION_SIDE = 64


class BottleneckBlock(base.Layers):
  """BigGAN-deep's residual block with a bottleneck and an identity skip.

  Attributes (and `base.Layers`' weight_norm and kernel_init):
    features: output channels.
    scale: "up", "down" or "none".
    norm: the feature normalizer, called with the block's y and z.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
  """
  features: int
  scale: str = "none"
  norm: type[nn.Module] = normalizers.Identity
  upsample: str = "nearest"

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    in_channels = x.shape[-1]
    bottleneck = max(in_channels, self.features) // 4

    def conv(h: jax.Array, features: int, kernel: int, name: str) -> jax.Array:
      return self.conv(h, features, kernel, name=name, train=train)

    def norm(h: jax.Array, name: str) -> jax.Array:
      return nn.relu(self.norm(name=name)(h, train=train, y=y, z=z))

    def resample(h: jax.Array) -> jax.Array:
      if self.scale == "up":
        return blocks.upsample(h, self.upsample)
      return blocks.downsample(h) if self.scale == "down" else h

    h = conv(norm(x, "bn1"), bottleneck, 1, "conv1")
    h = norm(h, "bn2")
    if self.scale == "up":
      h = resample(h)
    h = conv(h, bottleneck, 3, "conv2")
    h = conv(norm(h, "bn3"), bottleneck, 3, "conv3")
    h = norm(h, "bn4")
    if self.scale == "down":
      h = resample(h)
    h = conv(h, self.features, 1, "conv4")

    skip = resample(x[..., :self.features])
    if in_channels < self.features:
      added = conv(skip, self.features - in_channels, 1, "add_channels")
      skip = jnp.concatenate([skip, added], axis=-1)
    return h + skip


@gin.configurable(module="models.resnet_biggan_deep")
class Generator(base.Generator):
  """BigGAN-deep generator for square images of side 32 to 512.

  Attributes:
    ch: channel multiplier.
    embed_y: condition on a learned label embedding instead of the one-hot
      label.
    embed_y_dim: size of the label embedding.
    norm: the blocks' normalizer, given [z, label embedding] (or z alone when
      unconditional) as both y and z.
    final_norm: the normalizer before the last conv (unconditional).
    weight_norm: of every layer but the embedding; spectral norm, as in
      BigGAN-deep.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
  """
  ch: int = 128
  embed_y: bool = True
  embed_y_dim: int = 128
  norm: type[nn.Module] = normalizers.ConditionalBatchNorm
  final_norm: type[nn.Module] = normalizers.BatchNorm
  weight_norm: type[nn.Module] | None = dataclasses.field(
      default=normalizers.SpectralNorm, kw_only=True)
  upsample: str = "nearest"

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    side = blocks.square_resolution(self.output_shape, RESOLUTIONS,
                                    "models.resnet_biggan_deep.Generator")
    multipliers = _G_CHANNELS[side]
    if y is not None:
      if self.embed_y:
        y = nn.Dense(self.embed_y_dim, use_bias=False,
                     kernel_init=self.kernel_init, name="embed_y")(y)
      z = jnp.concatenate([z, y], axis=-1)
    width = self.ch * multipliers[0]
    h = self.dense(z, 4 * 4 * width, name="fc_noise", train=train)
    h = h.reshape(-1, 4, 4, width)
    for i, multiplier in enumerate(multipliers[1:]):
      scale = "up" if i % 2 else "none"
      h = BottleneckBlock(
          self.ch * multiplier, scale, self.norm, upsample=self.upsample,
          **self.layer_args, name=f"B{i + 1}")(h, train=train, y=z, z=z)
      if scale == "up" and h.shape[1] == _ATTENTION_SIDE:
        h = attention.NonLocalBlock(**self.layer_args,
                                    name="non_local_block")(h, train=train)
    h = nn.relu(self.final_norm(name="final_norm")(h, train=train))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet_biggan_deep")
class Discriminator(base.Discriminator):
  """BigGAN-deep discriminator for square images of side 32 to 512.

  Attributes:
    ch: channel multiplier.
    norm: the normalizer in the blocks (Compare GAN: none).
    weight_norm: spectral norm, as in BigGAN-deep.
  """
  ch: int = 128
  norm: type[nn.Module] = normalizers.Identity
  weight_norm: type[nn.Module] | None = dataclasses.field(
      default=normalizers.SpectralNorm, kw_only=True)

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    side = blocks.square_resolution(x.shape[1:3], RESOLUTIONS,
                                    "models.resnet_biggan_deep.Discriminator")
    multipliers = _D_CHANNELS[side]
    h = self.conv(x, self.ch * multipliers[0], 3, name="initial_conv",
                  train=train)
    for i, multiplier in enumerate(multipliers[1:]):
      scale = "none" if i % 2 else "down"
      h = BottleneckBlock(
          self.ch * multiplier, scale, self.norm, **self.layer_args,
          name=f"B{i + 1}")(h, train=train, y=y)
      if scale == "none" and h.shape[1] == _ATTENTION_SIDE:
        h = attention.NonLocalBlock(**self.layer_args,
                                    name="non_local_block")(h, train=train)
    h = jnp.sum(nn.relu(h), axis=(1, 2))
    return self.logits(h, y, train=train)
