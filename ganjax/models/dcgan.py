"""DCGAN (Radford et al. 2016) with Compare GAN's `dcgan` layer table.

G: z → FC → [⌈s/16⌉, ⌈s/16⌉, 8·width] → BN, ReLU → three 5×5/2 transposed
convs to 4·width, 2·width, width (BN, ReLU each) → 5×5/2 transposed conv to C →
tanh, so images are in [-1, 1] (Compare GAN used 0.5·tanh + 0.5 for [0, 1]).
Odd sizes (28 → 14 → 7 → 4 → 2) are handled as TensorFlow's transposed
convolutions with explicit output shapes do.

D: 5×5/2 convs with width, 2·, 4·, 8·width channels, leaky ReLU 0.2, batch norm
on all but the first (Radford et al.; Compare GAN leaves D's normalizer to
`D.batch_norm_fn`, none by default), then FC → 1 logit.
"""

import math
from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import layers

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

  Attributes:
    output_shape: (H, W, C) of one image; set from the data set.
    width: channels of the last hidden layer (Compare GAN's gf_dim, 64).
    bn_momentum: decay of the batch-norm moving averages.
  """
  output_shape: Sequence[int]
  width: int = 64
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
    height, width, channels = self.output_shape
    heights, widths = _halvings(height, 4), _halvings(width, 4)
    norm = lambda h: nn.relu(nn.BatchNorm(
        use_running_average=not train, momentum=self.bn_momentum,
        epsilon=1e-5)(h))
    h = nn.Dense(heights[4] * widths[4] * 8 * self.width,
                 kernel_init=_INIT)(z)
    h = norm(h.reshape(z.shape[0], heights[4], widths[4], 8 * self.width))
    for level, multiplier in zip((3, 2, 1), (4, 2, 1)):
      h = layers.ConvTranspose(multiplier * self.width, kernel_init=_INIT)(
          h, (heights[level], widths[level]))
      h = norm(h)
    h = layers.ConvTranspose(channels, kernel_init=_INIT)(h, (height, width))
    return jnp.tanh(h)


@gin.configurable(module="models.dcgan")
class Discriminator(nn.Module):
  """DCGAN discriminator; one logit per (packed) image.

  Attributes:
    width: channels of the first conv (Compare GAN's df_dim, 64).
    batch_norm: batch-normalize all convs but the first.
    bn_momentum: decay of the batch-norm moving averages.
    num_packed: PacGAN's m; m images are stacked along channels.
  """
  width: int = 64
  batch_norm: bool = True
  bn_momentum: float = 0.9
  num_packed: int = 1

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    h = layers.pack(x, self.num_packed)
    for i, multiplier in enumerate((1, 2, 4, 8)):
      h = nn.Conv(multiplier * self.width, (5, 5), strides=(2, 2),
                  kernel_init=_INIT)(h)
      if self.batch_norm and i > 0:
        h = nn.BatchNorm(use_running_average=not train,
                         momentum=self.bn_momentum, epsilon=1e-5)(h)
      h = nn.leaky_relu(h, 0.2)
    return nn.Dense(1, kernel_init=_INIT)(h.reshape(h.shape[0], -1))
