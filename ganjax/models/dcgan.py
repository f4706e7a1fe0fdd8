"""DCGAN (Radford et al. 2016) with Compare GAN's `dcgan` layer table.

G: z → FC → [⌈s/16⌉, ⌈s/16⌉, 8·width] → BN, ReLU → three 5×5/2 transposed
convs to 4·width, 2·width, width (BN, ReLU each) → 5×5/2 transposed conv to C →
tanh, so images are in [-1, 1] (Compare GAN used 0.5·tanh + 0.5 for [0, 1]).
Odd sizes (28 → 14 → 7 → 4 → 2) are handled as TensorFlow's transposed
convolutions with explicit output shapes do.

D: 5×5/2 convs with width, 2·, 4·, 8·width channels, leaky ReLU 0.2, batch norm
on all but the first (Radford et al.; Compare GAN leaves D's normalizer to
`D.batch_norm_fn`, none by default), then FC → 1 logit.

Both take a class label when built with `num_classes` > 0 (a conditional
DCGAN: conditional batch norm in G, projection in D).
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

_INIT = nn.initializers.normal(0.02)


def _halvings(size: int, times: int) -> list[int]:
  """[size, ⌈size/2⌉, ⌈size/4⌉, …] with `times` halvings."""
  sizes = [size]
  for _ in range(times):
    sizes.append(math.ceil(sizes[-1] / 2))
  return sizes


@gin.configurable(module="models.dcgan")
class Generator(nn.Module):
  """DCGAN generator for images of `output_shape` (28×28 to 64×64 and more).

  Class-conditional when `num_classes` > 0: every normalizer then gets the
  one-hot label (conditional batch norm by default).

  Attributes:
    output_shape: (H, W, C) of one image; set from the data set.
    num_classes: number of classes of a conditional G (0: unconditional).
    width: channels of the last hidden layer (Compare GAN's gf_dim, 64).
    norm: the feature normalizer (`normalizers.*`); None picks batch norm, or
      conditional batch norm for a conditional G.
    kernel_init: initializer of every kernel.
  """
  output_shape: Sequence[int]
  num_classes: int = 0
  width: int = 64
  norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    height, width, channels = self.output_shape
    heights, widths = _halvings(height, 4), _halvings(width, 4)
    norm_class = blocks.default_norm(self.norm, self.num_classes)
    norm = lambda h: nn.relu(norm_class()(h, train=train, y=y, z=z))
    h = nn.Dense(heights[4] * widths[4] * 8 * self.width,
                 kernel_init=self.kernel_init)(z)
    h = norm(h.reshape(z.shape[0], heights[4], widths[4], 8 * self.width))
    for level, multiplier in zip((3, 2, 1), (4, 2, 1)):
      h = layers.ConvTranspose(multiplier * self.width,
                               kernel_init=self.kernel_init)(
                                   h, (heights[level], widths[level]))
      h = norm(h)
    h = layers.ConvTranspose(channels, kernel_init=self.kernel_init)(
        h, (height, width))
    return jnp.tanh(h)


@gin.configurable(module="models.dcgan")
class Discriminator(nn.Module):
  """DCGAN discriminator; one logit per (packed) image.

  Class-conditional when `num_classes` > 0, through a projection term
  ⟨embed(y), features⟩ (Miyato & Koyama 2018) and/or an auxiliary classifier
  whose logits are sown as "class_logits" (AC-GAN, Odena et al. 2017).

  Attributes:
    num_classes: number of classes of a conditional D (0: unconditional).
    width: channels of the first conv (Compare GAN's df_dim, 64).
    norm: the normalizer of all convs but the first (Radford et al.: batch
      norm; Compare GAN's default: none).
    weight_norm: a weight normalizer (e.g. `normalizers.spectral_norm`) or
      None.
    kernel_init: initializer of every kernel.
    num_packed: PacGAN's m; m images are stacked along channels.
    project_y: add the projection term (conditional D only).
    aux_classifier: sow an auxiliary classifier's logits (conditional only).
    rotation_head: sow the logits of a 4-way rotation classifier (SSGAN).
  """
  num_classes: int = 0
  width: int = 64
  norm: type[nn.Module] = normalizers.BatchNorm
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT
  num_packed: int = 1
  project_y: bool = True
  aux_classifier: bool = False
  rotation_head: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    if y is not None and self.num_packed > 1:
      raise ValueError("A conditional D cannot pack examples.")
    h = layers.pack(x, self.num_packed)
    for i, multiplier in enumerate((1, 2, 4, 8)):
      h = normalizers.wrap(
          self.weight_norm,
          layers.Conv(multiplier * self.width, (5, 5), strides=(2, 2),
                      kernel_init=self.kernel_init), h, train=train)
      if i > 0:
        h = self.norm()(h, train=train)
      h = nn.leaky_relu(h, 0.2)
    h = h.reshape(h.shape[0], -1)
    return layers.discriminator_logits(self, h, y, train=train,
                                       fc_name=None)
