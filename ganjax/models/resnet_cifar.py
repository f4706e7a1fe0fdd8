"""SN-GAN's ResNet for 32×32 images (Miyato et al. 2018, Table 4).

Compare GAN's `resnet_cifar` (its CIFAR-10 config, and the GAN Landscape
paper's "ResNet-CIFAR"):

G: z → FC 4·4·ch → 3 up-blocks ch → ch (ch = 256) → norm, ReLU → conv3×3 → C
   → tanh, so images are in [-1, 1] (Compare GAN: sigmoid, [0, 1]).
D: 4 blocks of ch = 128 channels (down, down, none, none) → ReLU → global
   mean pool → FC → 1 logit, plus the projection term when conditional.

Blocks are `blocks.ResNetBlock`s with Compare GAN's learned 3×3 shortcut on
every block (`shortcut_kernel`; SN-GAN used 1×1 shortcuts only where the
shape changes). The first D block has no pre-activation: conv3×3 → ReLU →
conv3×3 → pool on the image itself, as SN-GAN's "optimized" first block
(whose shortcut is 1×1) and BigGAN-PyTorch's. Compare GAN's first block
applied ReLU (after its D normalizer, none by default) to the image, the
identity on its [0, 1] images; on [-1, 1] images it would zero the negative
pixels of the residual branch.

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


@gin.configurable(module="models.resnet_cifar")
class Generator(base.Generator):
  """ResNet generator for 32×32 images.

  Class-conditional when `num_classes` > 0: the normalizers get the one-hot
  label (or its embedding, or [z chunk, label] with `hierarchical_z`).

  Attributes:
    ch: channels of every block.
    hierarchical_z: split z into 4 chunks, one for the FC layer and one per
      block (concatenated to the label for conditional batch norm).
    embed_z: replace z by a learned linear map of it (same size).
    embed_y: replace the one-hot label by a learned linear map to z's size.
    norm: the feature normalizer; None picks batch norm, or conditional batch
      norm for a conditional G.
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 256
  hierarchical_z: bool = False
  embed_z: bool = False
  embed_y: bool = False
  norm: type[nn.Module] | None = None
  upsample: str = "nearest"
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    blocks.square_resolution(self.output_shape, (32,),
                             "models.resnet_cifar.Generator")
    norm = blocks.default_norm(self.norm, self.num_classes)

    def dense(h: jax.Array, features: int, name: str) -> jax.Array:
      return self.dense(h, features, name=name, train=train)

    z_dim = z.shape[-1]
    if self.embed_z:
      z = dense(z, z_dim, "embed_z")
    if self.embed_y and y is not None:
      y = dense(y, z_dim, "embed_y")
    num_blocks = 3
    z0, z_blocks, y_blocks = blocks.split_latent(
        z, y, num_blocks, self.hierarchical_z, "models.resnet_cifar.Generator")
    h = dense(z0, 4 * 4 * self.ch, "fc_noise").reshape(-1, 4, 4, self.ch)
    for i in range(num_blocks):
      h = blocks.ResNetBlock(
          self.ch, "up", norm, **self.layer_args,
          shortcut_kernel=self.shortcut_kernel, upsample=self.upsample,
          name=f"B{i + 1}")(h, train=train, y=y_blocks[i], z=z_blocks[i])
    h = nn.relu(norm(name="final_norm")(h, train=train, y=y, z=z))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet_cifar")
class Discriminator(base.Discriminator):
  """ResNet discriminator for 32×32 images; one logit per image.

  Class-conditional when `num_classes` > 0, through the projection term
  ⟨embed(y), features⟩ (Miyato & Koyama 2018) and/or an AC-GAN classifier
  whose logits are sown as "class_logits". Compare GAN's `project_y` default
  was False; here D only gets labels in a conditional GAN, so it is True.
  The projection embedding is Glorot-normal (Compare GAN used N(0, 0.02²)
  for this model's).

  Attributes:
    ch: channels of every block.
    norm: the normalizer in the blocks, not on the image (Compare GAN: none;
      layer norm gives its `D.layer_norm = True`, which also normalized and
      ReLU'd the image in the first block).
    shortcut_kernel: kernel size of the block shortcuts (Compare GAN: 3).
  """
  ch: int = 128
  norm: type[nn.Module] = normalizers.Identity
  shortcut_kernel: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    layers.check_labels(self.num_classes, y)
    h = x
    for i, scale in enumerate(("down", "down", "none", "none")):
      h = blocks.ResNetBlock(
          self.ch, scale, self.norm, **self.layer_args,
          shortcut_kernel=self.shortcut_kernel, preactivate=i > 0,
          name=f"B{i + 1}")(h, train=train, y=y)
    h = jnp.mean(nn.relu(h), axis=(1, 2))
    return self.logits(h, y, train=train)
