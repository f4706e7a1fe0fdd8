"""The InfoGAN network (Chen et al. 2016) of "Are GANs Created Equal?"
(Lucic et al. 2018), Compare GAN's `infogan`.

With ch = 64 and an image of H×W×C (H and W divisible by 4; 28×28 MNIST,
32×32 CIFAR):

G: z → FC 16ch (1024) → norm, lReLU → FC 2ch·H/4·W/4 → norm, lReLU → reshape
   → 4×4/2 transposed conv → ch → norm, lReLU → 4×4/2 transposed conv → C →
   tanh, so images are in [-1, 1] (Compare GAN: sigmoid, [0, 1]).
D: conv4×4/2 ch → lReLU → conv4×4/2 2ch → norm → lReLU → flatten → FC 16ch →
   norm → lReLU → FC → 1 logit.

Leaky ReLUs have slope 0.2. Compare GAN hard-coded batch norm in this G
(ignoring its `G.batch_norm_fn`); here it is the `norm` attribute, batch norm
by default. D's normalizer is none by default, as in Compare GAN.

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


def _lrelu(h: jax.Array) -> jax.Array:
  return nn.leaky_relu(h, 0.2)


@gin.configurable(module="models.infogan")
class Generator(base.Generator):
  """InfoGAN generator for images with sides divisible by 4.

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
    height, width, colors = self.output_shape
    if height % 4 or width % 4:
      raise ValueError("models.infogan.Generator needs image sides divisible "
                       f"by 4; got {height}×{width}.")
    norm_class = blocks.default_norm(self.norm, self.num_classes)

    def norm(h: jax.Array, name: str) -> jax.Array:
      return _lrelu(norm_class(name=name)(h, train=train, y=y, z=z))

    def dense(h: jax.Array, features: int, name: str) -> jax.Array:
      return self.dense(h, features, name=name, train=train)

    def deconv(h: jax.Array, features: int, output_hw: tuple[int, int],
               name: str) -> jax.Array:
      return self.conv_transpose(h, features, 4, 2, output_hw, name=name,
                                 train=train)

    h = norm(dense(z, 16 * self.ch, "fc1"), "bn1")
    h = norm(dense(h, 2 * self.ch * (height // 4) * (width // 4), "fc2"), "bn2")
    h = h.reshape(-1, height // 4, width // 4, 2 * self.ch)
    h = norm(deconv(h, self.ch, (height // 2, width // 2), "deconv3"), "bn3")
    return jnp.tanh(deconv(h, colors, (height, width), "deconv4"))


@gin.configurable(module="models.infogan")
class Discriminator(base.Discriminator):
  """InfoGAN discriminator; one logit per image.

  Attributes:
    ch: channels of the first conv.
    norm: the normalizer after the second conv and the hidden FC (Compare
      GAN: none by default; InfoGAN used batch norm).
  """
  ch: int = 64
  norm: type[nn.Module] = normalizers.Identity

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    h = _lrelu(self.conv(x, self.ch, 4, 2, name="conv1", train=train))
    h = self.conv(h, 2 * self.ch, 4, 2, name="conv2", train=train)
    h = _lrelu(self.norm(name="bn2")(h, train=train, y=y))
    h = h.reshape(h.shape[0], -1)
    h = self.dense(h, 16 * self.ch, name="fc3", train=train)
    h = _lrelu(self.norm(name="bn3")(h, train=train, y=y))
    return self.logits(h, y, train=train)
