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
DCGAN: conditional batch norm in G, projection in D), and `base.Generator`'s
and `base.Discriminator`'s fields (output_shape or the heads, num_classes,
weight_norm, kernel_init). Layers keep flax's automatic names (Dense_0,
ConvTranspose_0, Conv_0, …), as Compare GAN's checkpoints did not fix them.
"""

import math

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers


def _halvings(size: int, times: int) -> list[int]:
  """[size, ⌈size/2⌉, ⌈size/4⌉, …] with `times` halvings."""
  sizes = [size]
  for _ in range(times):
    sizes.append(math.ceil(sizes[-1] / 2))
  return sizes


@gin.configurable(module="models.dcgan")
class Generator(base.Generator):
  """DCGAN generator for images of `output_shape` (28×28 to 64×64 and more).

  Class-conditional when `num_classes` > 0: every normalizer then gets the
  one-hot label (conditional batch norm by default).

  Attributes:
    width: channels of the last hidden layer (Compare GAN's gf_dim, 64).
    norm: the feature normalizer (`normalizers.*`); None picks batch norm, or
      conditional batch norm for a conditional G.
  """
  width: int = 64
  norm: type[nn.Module] | None = None

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    height, width, channels = self.output_shape
    heights, widths = _halvings(height, 4), _halvings(width, 4)
    norm_class = blocks.default_norm(self.norm, self.num_classes)
    norm = lambda h: nn.relu(norm_class()(h, train=train, y=y, z=z))
    h = self.dense(z, heights[4] * widths[4] * 8 * self.width, name="Dense_0",
                   train=train)
    h = norm(h.reshape(z.shape[0], heights[4], widths[4], 8 * self.width))
    for i, (level, multiplier) in enumerate(zip((3, 2, 1), (4, 2, 1))):
      h = norm(self.conv_transpose(
          h, multiplier * self.width, 5, 2, (heights[level], widths[level]),
          name=f"ConvTranspose_{i}", train=train))
    return jnp.tanh(self.conv_transpose(h, channels, 5, 2, (height, width),
                                        name="ConvTranspose_3", train=train))


@gin.configurable(module="models.dcgan")
class Discriminator(base.Discriminator):
  """DCGAN discriminator; one logit per (packed) image.

  Class-conditional when `num_classes` > 0, through a projection term
  ⟨embed(y), features⟩ (Miyato & Koyama 2018) and/or an auxiliary classifier
  whose logits are sown as "class_logits" (AC-GAN, Odena et al. 2017).

  Attributes:
    width: channels of the first conv (Compare GAN's df_dim, 64).
    norm: the normalizer of all convs but the first (Radford et al.: batch
      norm; Compare GAN's default: none).
    num_packed: PacGAN's m; m images are stacked along channels.
  """
  width: int = 64
  norm: type[nn.Module] = normalizers.BatchNorm
  num_packed: int = 1

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    if y is not None and self.num_packed > 1:
      raise ValueError("A conditional D cannot pack examples.")
    h = layers.pack(x, self.num_packed)
    for i, multiplier in enumerate((1, 2, 4, 8)):
      h = self.conv(h, multiplier * self.width, 5, 2, name=f"Conv_{i}",
                    train=train)
      if i > 0:
        h = self.norm()(h, train=train)
      h = nn.leaky_relu(h, 0.2)
    h = h.reshape(h.shape[0], -1)
    return self.logits(h, y, train=train, fc_name=None)
