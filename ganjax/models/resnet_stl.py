"""SN-GAN's ResNet for 48×48 images (Miyato et al. 2018, Table 5).

Compare GAN's `resnet_stl`, with ch = 64:

G: z → FC 6·6·8ch → up-blocks 8ch → 4ch → 2ch → ch (48×48) → norm, ReLU →
   conv3×3 → C → tanh, so images are in [-1, 1] (Compare GAN: sigmoid).
D: block ↓ C → ch, then ch → 2ch ↓, 2ch → 4ch ↓, 4ch → 8ch ↓, 8ch → 16ch →
   ReLU → global mean pool → FC → 1 logit.

Blocks are `blocks.ResNetBlock`s with learned 3×3 shortcuts (Compare GAN).
The first D block has no pre-activation (its first conv sees the image, as in
SN-GAN); Compare GAN's applied ReLU (after its D normalizer, none by
default) to the image, the identity on its [0, 1] images. Compare GAN never
spectrally normalized this G's FC and last conv; here the weight normalizer,
if any, wraps every layer.

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
"""

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers


@gin.configurable(module="models.resnet_stl")
class Generator(base.Generator):
  """ResNet generator for 48×48 images.

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
    blocks.square_resolution(self.output_shape, (48,),
                             "models.resnet_stl.Generator")
    norm = blocks.default_norm(self.norm, self.num_classes)
    h = self.dense(z, 6 * 6 * 8 * self.ch, name="fc_noise", train=train)
    h = h.reshape(-1, 6, 6, 8 * self.ch)
    for i, multiplier in enumerate((4, 2, 1)):
      h = blocks.ResNetBlock(
          multiplier * self.ch, "up", norm, **self.layer_args,
          shortcut_kernel=self.shortcut_kernel, upsample=self.upsample,
          name=f"B{i + 1}")(h, train=train, y=y, z=z)
    h = nn.relu(norm(name="final_norm")(h, train=train, y=y, z=z))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet_stl")
class Discriminator(base.Discriminator):
  """ResNet discriminator for 48×48 images; one logit per image.

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
    h = x
    specs = ((1, "down"), (2, "down"), (4, "down"), (8, "down"), (16, "none"))
    for i, (multiplier, scale) in enumerate(specs):
      h = blocks.ResNetBlock(
          multiplier * self.ch, scale, self.norm, **self.layer_args,
          shortcut_kernel=self.shortcut_kernel, preactivate=i > 0,
          name=f"B{i}")(h, train=train, y=y)
    h = jnp.mean(nn.relu(h), axis=(1, 2))
    return self.logits(h, y, train=train)
