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
"""

from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers

_INIT = nn.initializers.normal(0.02)


@gin.configurable(module="models.resnet_stl")
class Generator(nn.Module):
  """ResNet generator for 48×48 images.

  Attributes:
    output_shape: (48, 48, C); set from the data set.
    num_classes: number of classes of a conditional G (0: unconditional);
      the normalizers then get the one-hot label.
    ch: channel multiplier.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
    weight_norm: weight normalizer of every layer, or None.
    kernel_init: initializer of every kernel.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  output_shape: Sequence[int]
  num_classes: int = 0
  ch: int = 64
  norm: type[nn.Module] | None = None
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT
  upsample: str = "nearest"
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    blocks.square_resolution(self.output_shape, (48,),
                             "models.resnet_stl.Generator")
    norm = blocks.default_norm(self.norm, self.num_classes)
    h = normalizers.wrap(
        self.weight_norm,
        nn.Dense(6 * 6 * 8 * self.ch, kernel_init=self.kernel_init,
                 name="fc_noise"), z, train=train)
    h = h.reshape(-1, 6, 6, 8 * self.ch)
    for i, multiplier in enumerate((4, 2, 1)):
      h = blocks.ResNetBlock(
          multiplier * self.ch, "up", norm, self.weight_norm,
          self.kernel_init, shortcut_kernel=self.shortcut_kernel,
          upsample=self.upsample, name=f"B{i + 1}")(h, train=train, y=y, z=z)
    h = nn.relu(norm(name="final_norm")(h, train=train, y=y, z=z))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet_stl")
class Discriminator(nn.Module):
  """ResNet discriminator for 48×48 images; one logit per image.

  Attributes:
    num_classes: number of classes of a conditional D (0: unconditional).
    ch: channel multiplier.
    norm: the normalizer in the blocks (Compare GAN: none).
    weight_norm: weight normalizer of every layer, or None.
    kernel_init: initializer of every kernel.
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
    project_y: add the projection term (conditional D only).
    aux_classifier: sow an auxiliary classifier's logits (conditional only).
    rotation_head: sow the logits of a 4-way rotation classifier (SSGAN).
  """
  num_classes: int = 0
  ch: int = 64
  norm: type[nn.Module] = normalizers.Identity
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT
  shortcut_kernel: int = 3
  project_y: bool = True
  aux_classifier: bool = False
  rotation_head: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    h = x
    specs = ((1, "down"), (2, "down"), (4, "down"), (8, "down"), (16, "none"))
    for i, (multiplier, scale) in enumerate(specs):
      h = blocks.ResNetBlock(
          multiplier * self.ch, scale, self.norm, self.weight_norm,
          self.kernel_init, shortcut_kernel=self.shortcut_kernel,
          preactivate=i > 0, name=f"B{i}")(h, train=train, y=y)
    h = jnp.mean(nn.relu(h), axis=(1, 2))
    return layers.discriminator_logits(self, h, y, train=train)
