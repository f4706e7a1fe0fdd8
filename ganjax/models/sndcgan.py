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


@gin.configurable(module="models.sndcgan")
class Generator(nn.Module):
  """SNDCGAN generator for images of `output_shape`.

  Attributes:
    output_shape: (H, W, C) of one image; set from the data set.
    num_classes: number of classes of a conditional G (0: unconditional);
      the normalizers then get the one-hot label.
    ch: channels of the last hidden layer.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
    weight_norm: weight normalizer of every layer, or None.
    kernel_init: initializer of every kernel.
  """
  output_shape: Sequence[int]
  num_classes: int = 0
  ch: int = 64
  norm: type[nn.Module] | None = None
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT

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
      return normalizers.wrap(
          self.weight_norm,
          blocks.ConvTransposeTo(features, (kernel, kernel), (stride, stride),
                                 kernel_init=self.kernel_init,
                                 output_hw=sides[level], name=name), h,
          train=train)

    h8, w8 = sides[3]
    h = normalizers.wrap(
        self.weight_norm,
        nn.Dense(h8 * w8 * 8 * self.ch, kernel_init=self.kernel_init,
                 name="fc"), z, train=train)
    h = norm(h, "bn1").reshape(-1, h8, w8, 8 * self.ch)
    for i, (multiplier, level) in enumerate(((4, 2), (2, 1), (1, 0))):
      h = deconv(h, multiplier * self.ch, 4, 2, level, f"deconv{i + 2}")
      h = norm(h, f"bn{i + 2}")
    return jnp.tanh(deconv(h, colors, 3, 1, 0, "deconv5"))


@gin.configurable(module="models.sndcgan")
class Discriminator(nn.Module):
  """SNDCGAN discriminator; one logit per image.

  Attributes:
    num_classes: number of classes of a conditional D (0: unconditional).
    ch: channels of the first conv.
    norm: a normalizer after every conv but the first (none by default;
      Compare GAN's v3 SNDCGAN D had no normalizer slot).
    weight_norm: weight normalizer of every layer (SN-GAN: spectral norm), or
      None.
    kernel_init: initializer of every kernel.
    project_y: add the projection term (conditional D only).
    aux_classifier: sow an auxiliary classifier's logits (conditional only).
    rotation_head: sow the logits of a 4-way rotation classifier (SSGAN).
  """
  num_classes: int = 0
  ch: int = 64
  norm: type[nn.Module] = normalizers.Identity
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = _INIT
  project_y: bool = True
  aux_classifier: bool = False
  rotation_head: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    h = x
    convs = ((1, 3, 1), (2, 4, 2), (2, 3, 1), (4, 4, 2), (4, 3, 1), (8, 4, 2),
             (8, 3, 1))
    for i, (multiplier, kernel, stride) in enumerate(convs):
      h = normalizers.wrap(
          self.weight_norm,
          layers.Conv(multiplier * self.ch, (kernel, kernel), (stride, stride),
                      kernel_init=self.kernel_init, name=f"conv{i + 1}"), h,
          train=train)
      if i > 0:
        h = self.norm(name=f"bn{i + 1}")(h, train=train, y=y)
      h = nn.leaky_relu(h, 0.1)
    h = h.reshape(h.shape[0], -1)
    return layers.discriminator_logits(self, h, y, train=train)
