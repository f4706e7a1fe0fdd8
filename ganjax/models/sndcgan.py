"""SN-GAN's "standard CNN" (Miyato et al. 2018, Table 3), Compare GAN's
`sndcgan`.

With ch = 64 and s = the image side (height and width separately; any size
works, as TensorFlow's transposed convolutions with explicit output sizes do):

G: z → FC ⌈s/8⌉·⌈s/8⌉·8ch → norm, ReLU (normalized before the reshape, so
   per position and channel) → reshape → 4×4/2 transposed convs to 4ch, 2ch,
   ch (norm, ReLU each) → 3×3/1 transposed conv → C → tanh, so images are in
   [-1, 1] (Compare GAN: (tanh + 1)/2, [0, 1]).
D: conv3×3 ch, 4×4/2 2ch, 3×3 2ch, 4×4/2 4ch, 3×3 4ch, 4×4/2 8ch, 3×3 8ch,
   each followed by leaky ReLU 0.1 → flatten → FC → 1 logit. Compare GAN's D
   mapped its [0, 1] inputs to [-1, 1] first; here inputs already are.

Compare GAN never spectrally normalized this G's layers; here the weight
normalizer, if any, wraps every layer.

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
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


@gin.configurable(module="models.sndcgan")
class Generator(base.Generator):
  """SNDCGAN generator for images of `output_shape`.

  A conditional G's normalizers get the one-hot label.

  Attributes:
    ch: channels of the last hidden layer.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
  """
  ch: int = 64
  norm: type[nn.Module] | None = None

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    norm_class = blocks.default_norm(self.norm, self.num_classes)
    height, width, colors = self.output_shape
    # Sides at 1/1, 1/2, 1/4 and 1/8 of the image, rounded up.
    sides = [(height, width)]
    for _ in range(3):
      sides.append(tuple(math.ceil(v / 2) for v in sides[-1]))

    def norm(h: jax.Array, name: str) -> jax.Array:
      return nn.relu(norm_class(name=name)(h, train=train, y=y, z=z))

    def deconv(h: jax.Array, features: int, kernel: int, stride: int,
               level: int, name: str) -> jax.Array:
      return self.conv_transpose(h, features, kernel, stride, sides[level],
                                 name=name, train=train)

    h8, w8 = sides[3]
    h = self.dense(z, h8 * w8 * 8 * self.ch, name="fc", train=train)
    h = norm(h, "bn1").reshape(-1, h8, w8, 8 * self.ch)
    for i, (multiplier, level) in enumerate(((4, 2), (2, 1), (1, 0))):
      h = deconv(h, multiplier * self.ch, 4, 2, level, f"deconv{i + 2}")
      h = norm(h, f"bn{i + 2}")
    return jnp.tanh(deconv(h, colors, 3, 1, 0, "deconv5"))


@gin.configurable(module="models.sndcgan")
class Discriminator(base.Discriminator):
  """SNDCGAN discriminator; one logit per image.

  SN-GAN gives it spectral norm as its weight normalizer.

  Attributes:
    ch: channels of the first conv.
    norm: a normalizer after every conv but the first (none by default;
      Compare GAN's v3 SNDCGAN D had no normalizer slot).
  """
  ch: int = 64
  norm: type[nn.Module] = normalizers.Identity

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    h = x
    convs = ((1, 3, 1), (2, 4, 2), (2, 3, 1), (4, 4, 2), (4, 3, 1), (8, 4, 2),
             (8, 3, 1))
    for i, (multiplier, kernel, stride) in enumerate(convs):
      h = self.conv(h, multiplier * self.ch, kernel, stride,
                    name=f"conv{i + 1}", train=train)
      if i > 0:
        h = self.norm(name=f"bn{i + 1}")(h, train=train, y=y)
      h = nn.leaky_relu(h, 0.1)
    h = h.reshape(h.shape[0], -1)
    return self.logits(h, y, train=train)
