"""A 30-block ResNet for 128×128 images (Compare GAN's `resnet30`).

After WGAN-GP's 64×64 ResNet (Gulrajani et al. 2017), deeper and at 128×128.
With ch = 64:

G: z → FC 4·4·8ch → 6 superblocks; superblock s (s = 0…5) has 5 blocks at
   8ch/2ˢ channels, then (s < 5) an up-block halving the channels (512 → 256
   → … → 16 at 128×128) → conv3×3 → C → tanh, so images are in [-1, 1]
   (Compare GAN: sigmoid). No normalization or ReLU before the last conv.
D: conv3×3 → ch/4 → 6 superblocks; superblock s has 5 blocks at ch/4·2ˢ
   channels, then (s < 5) a down-block doubling them (16 → … → 512 at 4×4)
   → flatten (4·4·8ch) → FC → 1 logit. No ReLU before the FC.

Every block, including the ones that keep the shape, has a learned 3×3
shortcut as in Compare GAN (`shortcut_kernel`). Compare GAN never spectrally
normalized this G's FC and last conv or this D's first conv; here the weight
normalizer, if any, wraps every layer.

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
"""

import flax.linen as nn
import gin
import jax

from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers

_SUPERBLOCKS = 6
_BLOCKS_PER_SUPERBLOCK = 5


@gin.configurable(module="models.resnet30")
class Generator(base.Generator):
  """ResNet30 generator for 128×128 images.

  Attributes:
    ch: channel multiplier.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 64
  norm: type[nn.Module] | None = None
  upsample: str = "nearest"
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    blocks.square_resolution(self.output_shape, (128,),
                             "models.resnet30.Generator")
    norm = blocks.default_norm(self.norm, self.num_classes)
    channels = 8 * self.ch
    h = self.dense(z, 4 * 4 * channels, name="fc_noise", train=train)
    h = h.reshape(-1, 4, 4, channels)
    block = lambda features, scale, name: blocks.ResNetBlock(
        features, scale, norm, **self.layer_args,
        shortcut_kernel=self.shortcut_kernel, upsample=self.upsample,
        name=name)
    for s in range(_SUPERBLOCKS):
      for i in range(_BLOCKS_PER_SUPERBLOCK):
        h = block(channels, "none", f"B_{s}_{i}")(h, train=train, y=y, z=z)
      if s < _SUPERBLOCKS - 1:
        h = block(channels // 2, "up", f"B_{s}_up")(h, train=train, y=y, z=z)
      channels //= 2
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet30")
class Discriminator(base.Discriminator):
  """ResNet30 discriminator for 128×128 images; one logit per image.

  Attributes:
    ch: channel multiplier.
    norm: the normalizer in the blocks (Compare GAN: none).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 64
  norm: type[nn.Module] = normalizers.Identity
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    channels = self.ch // 4
    h = self.conv(x, channels, 3, name="color_conv", train=train)
    block = lambda features, scale, name: blocks.ResNetBlock(
        features, scale, self.norm, **self.layer_args,
        shortcut_kernel=self.shortcut_kernel, name=name)
    for s in range(_SUPERBLOCKS):
      for i in range(_BLOCKS_PER_SUPERBLOCK):
        h = block(channels, "none", f"B_{s}_{i}")(h, train=train, y=y)
      if s < _SUPERBLOCKS - 1:
        h = block(channels * 2, "down", f"B_{s}_down")(h, train=train, y=y)
        channels *= 2
    h = h.reshape(h.shape[0], -1)
    return self.logits(h, y, train=train)
