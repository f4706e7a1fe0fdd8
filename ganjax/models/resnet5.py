"""The 5-block ResNet of WGAN-GP's 64×64 code (Gulrajani et al. 2017).

Compare GAN's `resnet5` (the "ResNet19" of the GAN Landscape paper, Kurach et
al. 2019), made for 128×128 images, with ch = 64:

G: z → FC 4·4·8ch → 5 blocks 8ch → 8ch → 4ch → 4ch → 2ch → ch, the first
   log₂(H/4) of them up-blocks (all 5 at 128×128) → norm, ReLU → conv3×3 → C
   → tanh, so images are in [-1, 1] (Compare GAN: sigmoid). Any side 4·2ᵏ up
   to 128 works.
D: block ↓ C → ch, then 5 ↓ blocks ch → 2ch → 4ch → 4ch → 8ch → 8ch (128 →
   2×2) → ReLU → global mean pool → FC → 1 logit. Power-of-2 sides.

Blocks are `blocks.ResNetBlock`s with learned 3×3 shortcuts (Compare GAN).
The first D block has no pre-activation (its first conv sees the image);
Compare GAN's applied ReLU (after its D normalizer, none by default) to the
image, the identity on its [0, 1] images. Compare GAN never spectrally
normalized this G's FC and last conv; here the weight normalizer, if any,
wraps every layer.

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
"""

from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers


@gin.configurable(module="models.resnet5")
class Generator(base.Generator):
  """ResNet5 generator for square images of side 4·2ᵏ ≤ 128.

  Attributes:
    ch: channel multiplier.
    channels: multipliers of the FC output and of the 5 blocks' outputs.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 64
  channels: Sequence[int] = (8, 8, 4, 4, 2, 1)
  norm: type[nn.Module] | None = None
  upsample: str = "nearest"
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    if len(self.channels) != 6:
      raise ValueError(f"resnet5 needs 6 channel multipliers (FC + 5 blocks); "
                       f"got {tuple(self.channels)}.")
    side = blocks.square_resolution(self.output_shape, (4, 8, 16, 32, 64, 128),
                                    "models.resnet5.Generator")
    up_blocks = blocks.log2_int(side / 4)
    norm = blocks.default_norm(self.norm, self.num_classes)
    width = self.ch * self.channels[0]
    h = self.dense(z, 4 * 4 * width, name="fc_noise", train=train)
    h = h.reshape(-1, 4, 4, width)
    for i, multiplier in enumerate(self.channels[1:]):
      h = blocks.ResNetBlock(
          multiplier * self.ch, "up" if i < up_blocks else "none", norm,
          **self.layer_args, shortcut_kernel=self.shortcut_kernel,
          upsample=self.upsample, name=f"B{i + 1}")(h, train=train, y=y, z=z)
    h = nn.relu(norm(name="final_norm")(h, train=train, y=y, z=z))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet5")
class Discriminator(base.Discriminator):
  """ResNet5 discriminator for square power-of-2 images; one logit per image.

  Attributes:
    ch: channel multiplier.
    channels: multipliers of the first block's and the 5 blocks' outputs.
    norm: the normalizer in the blocks, not on the image (Compare GAN: none;
      the GAN Landscape paper also compared batch, layer and spectral norm
      here, Compare GAN's normalizing and ReLU'ing the image too).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 64
  channels: Sequence[int] = (1, 2, 4, 4, 8, 8)
  norm: type[nn.Module] = normalizers.Identity
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    if x.shape[1] != x.shape[2] or blocks.log2_int(x.shape[1]) is None:
      raise ValueError("models.resnet5.Discriminator needs square images with "
                       f"a power-of-2 side; got {x.shape[1]}×{x.shape[2]}.")
    h = x
    for i, multiplier in enumerate(self.channels):
      h = blocks.ResNetBlock(
          multiplier * self.ch, "down", self.norm, **self.layer_args,
          shortcut_kernel=self.shortcut_kernel, preactivate=i > 0,
          name=f"B{i}")(h, train=train, y=y)
    h = jnp.mean(nn.relu(h), axis=(1, 2))
    return self.logits(h, y, train=train)
