"""BigGAN (Brock et al. 2019), Compare GAN's `resnet_biggan` re-implementation.

Resolutions 32, 64, 128, 256 and 512; ch = 96. Channel multipliers per block:

  side  G blocks (4×4 → side, all up)   D blocks (side → 4×4; last not down)
  32    4 → 4 → 4 → 4                   2, 2, 2, 2
  64    16 → 16 → 8 → 4 → 2             2, 4, 8, 16, 16
  128   16 → 16 → 8 → 4 → 2 → 1         1, 2, 4, 8, 16, 16
  256   16 → 16 → 8 → 8 → 4 → 2 → 1     1, 2, 4, 8, 8, 16, 16
  512   16 → 16 → 8 → 8 → 4 → 2 → 1 → 1 1, 1, 2, 4, 8, 8, 16, 16

G: a hierarchical latent: z is split into num_blocks + 1 equal chunks; z₀ →
   FC → 4×4×16ch; block i's normalizers are conditioned on [z_i, embed(y)],
   with a shared label embedding (linear, one-hot → 128, no bias, no spectral
   norm), or on z_i alone in an unconditional G. Blocks: BN → ReLU → up →
   conv3×3 → BN → ReLU → conv3×3, plus an up → conv1×1 shortcut. A SAGAN
   self-attention block follows the blocks named in `blocks_with_attention`.
   Then unconditional batch norm → ReLU → conv3×3 → tanh, images in [-1, 1]
   (Compare GAN: (tanh + 1)/2, [0, 1]).
D: blocks ReLU → conv3×3 → ReLU → conv3×3 → avg-pool, the first without the
   first ReLU (its input is the image, as in BigGAN-PyTorch; Compare GAN's
   ReLU there was the identity on its [0, 1] images), with a conv1×1 →
   avg-pool shortcut only where the channels change (otherwise Compare GAN
   has no skip connection at all; `identity_skip=True` adds the pooled input
   instead) → ReLU → global sum pool → FC → 1 logit, plus the projection
   term ⟨embed(y), features⟩ (embedding Glorot-normal, spectrally
   normalized). `Discriminator.layout = "biggan_pytorch"` gives the D of
   BigGAN-PyTorch and StudioGAN instead: other channels at 32 and 64, two
   halvings at 32, and shortcuts as in most ResNets.

Latent sizes (Compare GAN's settings): z_dim 120 at 128 (6 chunks of 20),
140 at 256, 160 at 512; at 32 and 64 z_dim must split into 4 and 5 chunks
(120 works). Parameters at 128, conditional on 1000 classes: G 70,433,988, D
87,982,370, as Compare GAN's (the spectral-norm vectors and batch-norm
statistics are not parameters); 82,097,604 / 98,635,298 at 256 and
82,468,068 / 98,801,378 at 512.

Defaults follow Compare GAN's BigGAN config where its class defaults were
generic: conditional batch norm in G's blocks and spectral norm on G's and D's
layers. Its config also set orthogonal kernels:
`models.resnet_biggan.Generator.kernel_init = @initializers.orthogonal()` (and
the same for the Discriminator); the default is N(0, 0.02²).

Differences from Compare GAN, none of which changes the parameter count:
- upsampling is nearest neighbour by default (`upsample="zeros"` gives Compare
  GAN's unpooling);
- conditional batch norm is ganjax's: γ = 1 + W_γ y, W = 0 at the start
  (`normalizers.conditional_batch_norm.compare_gan_gamma = True` gives
  Compare GAN's γ = W_γ y, its issue #54); its projections are not spectrally
  normalized (Compare GAN's were, with G's spectral norm);
- several attention blocks are separate blocks (Compare GAN's shared one
  variable scope, so at most one worked).

Both networks take `base.Generator`'s and `base.Discriminator`'s fields
(output_shape or the heads, num_classes, weight_norm, kernel_init).
"""

import dataclasses

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

from ganjax.models import attention
from ganjax.models import base
from ganjax.models import blocks
from ganjax.models import layers
from ganjax.models import normalizers

RESOLUTIONS = (32, 64, 128, 256, 512)
_G_CHANNELS = {
    32: (4, 4, 4, 4),
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
    256: (16, 16, 8, 8, 4, 2, 1),
    512: (16, 16, 8, 8, 4, 2, 1, 1),
}
_D_CHANNELS = {
    32: (2, 2, 2, 2),
    64: (2, 4, 8, 16, 16),
    128: (1, 2, 4, 8, 16, 16),
    256: (1, 2, 4, 8, 8, 16, 16),
    512: (1, 1, 2, 4, 8, 8, 16, 16),
}
# Compare GAN's required settings at 128/256/512 (attention at 64×64, except
# G at 256: 128×128) and its defaults B4/B1 at 32/64 (G has no B4 at 32).
_G_ATTENTION = {32: "", 64: "B4", 128: "B4", 256: "B5", 512: "B4"}
# D's layout in BigGAN-PyTorch's D_arch (data-efficient-gans' BigGAN is it)
# and StudioGAN's big_resnet (at 512, which BigGAN-PyTorch lacks):
# (channel multipliers, number of leading blocks that halve the side).
_D_BIGGAN_PYTORCH = {
    32: ((4, 4, 4, 4), 2),
    64: ((1, 2, 4, 8, 16), 4),
    128: ((1, 2, 4, 8, 16, 16), 5),
    256: ((1, 2, 4, 8, 8, 16, 16), 6),
    512: ((1, 1, 2, 4, 8, 8, 16, 16), 7),
}
_D_LAYOUTS = ("compare_gan", "biggan_pytorch")
_D_ATTENTION = {32: "B1", 64: "B1", 128: "B1", 256: "B2", 512: "B3"}


@gin.configurable(module="models.resnet_biggan")
class Generator(base.Generator):
  """BigGAN generator for square images of side 32, 64, 128, 256 or 512.

  Attributes:
    ch: channel multiplier.
    blocks_with_attention: comma-separated blocks followed by self-attention
      (e.g. "B4"; "" for none); None picks Compare GAN's setting for the
      resolution (see `_G_ATTENTION`).
    hierarchical_z: split z into one chunk for the FC and one per block.
    embed_z: replace z by a learned linear map of it (same size).
    embed_y: condition on a learned embedding of the label (shared by all
      blocks) instead of the one-hot label.
    embed_y_dim: size of the label embedding.
    embed_bias: give the z and label embeddings a bias.
    norm: the blocks' normalizer, given [z chunk, label embedding] (or the z
      chunk alone when unconditional) as y and the z chunk as z.
    final_norm: the normalizer before the last conv (unconditional).
    weight_norm: of every layer but the embeddings; spectral norm, as in
      BigGAN. (BigGAN's kernels were orthogonal; kernel_init is
      `base.INIT` unless bound.)
    upsample: "nearest" or "zeros" (Compare GAN's unpooling).
  """
  ch: int = 96
  blocks_with_attention: str | None = None
  hierarchical_z: bool = True
  embed_z: bool = False
  embed_y: bool = True
  embed_y_dim: int = 128
  embed_bias: bool = False
  norm: type[nn.Module] = normalizers.ConditionalBatchNorm
  final_norm: type[nn.Module] = normalizers.BatchNorm
  weight_norm: type[nn.Module] | None = dataclasses.field(
      default=normalizers.SpectralNorm, kw_only=True)
  upsample: str = "nearest"

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    name = "models.resnet_biggan.Generator"
    layers.check_labels(self.num_classes, y)
    side = blocks.square_resolution(self.output_shape, RESOLUTIONS, name)
    multipliers = _G_CHANNELS[side]
    num_blocks = len(multipliers) - 1
    with_attention = blocks.parse_block_names(
        _G_ATTENTION[side] if self.blocks_with_attention is None
        else self.blocks_with_attention, num_blocks, name)

    if self.embed_z:
      z = nn.Dense(z.shape[-1], use_bias=self.embed_bias,
                   kernel_init=self.kernel_init, name="embed_z")(z)
    if self.embed_y and y is not None:
      y = nn.Dense(self.embed_y_dim, use_bias=self.embed_bias,
                   kernel_init=self.kernel_init, name="embed_y")(y)
    z0, z_blocks, y_blocks = blocks.split_latent(
        z, y, num_blocks, self.hierarchical_z, name)

    width = self.ch * multipliers[0]
    h = self.dense(z0, 4 * 4 * width, name="fc_noise", train=train)
    h = h.reshape(-1, 4, 4, width)
    for i, multiplier in enumerate(multipliers[1:]):
      block_name = f"B{i + 1}"
      condition = z_blocks[i] if y is None else y_blocks[i]
      h = blocks.ResNetBlock(
          self.ch * multiplier, "up", self.norm, **self.layer_args,
          shortcut_kernel=1, upsample=self.upsample, name=block_name)(
              h, train=train, y=condition, z=z_blocks[i])
      if block_name in with_attention:
        h = attention.NonLocalBlock(
            **self.layer_args, name=f"non_local_{block_name}")(h, train=train)
    h = nn.relu(self.final_norm(name="final_norm")(h, train=train))
    return blocks.image_output(self, h, train=train)


@gin.configurable(module="models.resnet_biggan")
class Discriminator(base.Discriminator):
  """BigGAN discriminator for square images of side 32 to 512; one logit each.

  Class-conditional when `num_classes` > 0, through the projection term
  and/or an AC-GAN classifier whose logits are sown as "class_logits".

  Attributes:
    ch: channel multiplier.
    blocks_with_attention: comma-separated blocks followed by self-attention;
      None picks Compare GAN's setting for the resolution (`_D_ATTENTION`).
    norm: the normalizer in the blocks (Compare GAN: none).
    weight_norm: spectral norm, as in BigGAN.
    identity_skip: where a block keeps the channels, add its (pooled) input
      as in most ResNets; Compare GAN (False) has no skip connection there.
      (The "compare_gan" layout only.)
    layout: "compare_gan" (the table above) or "biggan_pytorch": the D of
      BigGAN-PyTorch and of StudioGAN's big_resnet, with a learned 1×1
      shortcut in every block that halves the side or changes the channels
      and an identity one elsewhere. Its channels per block are ch × (4, 4,
      4, 4) at 32 (BigGAN-PyTorch's D_ch = ch; StudioGAN's d_conv_dim =
      2·ch), of which only the first two halve the side, and ch × (1, 2,
      4, 8, 16) at 64; at 128 and above its table is the one above.
  """
  ch: int = 96
  blocks_with_attention: str | None = None
  norm: type[nn.Module] = normalizers.Identity
  weight_norm: type[nn.Module] | None = dataclasses.field(
      default=normalizers.SpectralNorm, kw_only=True)
  identity_skip: bool = False
  layout: str = "compare_gan"

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    name = "models.resnet_biggan.Discriminator"
    layers.check_labels(self.num_classes, y)
    side = blocks.square_resolution(x.shape[1:3], RESOLUTIONS, name)
    if self.layout not in _D_LAYOUTS:
      raise ValueError(f"{name}.layout = {self.layout!r} is not one of "
                       f"{_D_LAYOUTS}.")
    biggan_pytorch = self.layout == "biggan_pytorch"
    if biggan_pytorch:
      multipliers, num_down = _D_BIGGAN_PYTORCH[side]
    else:
      multipliers = _D_CHANNELS[side]
      num_down = len(multipliers) - 1
    with_attention = blocks.parse_block_names(
        _D_ATTENTION[side] if self.blocks_with_attention is None
        else self.blocks_with_attention, len(multipliers), name)
    h = x
    for i, multiplier in enumerate(multipliers):
      block_name = f"B{i + 1}"
      features = self.ch * multiplier
      down = i < num_down
      if h.shape[-1] != features or (down and biggan_pytorch):
        shortcut = "conv"
      elif self.identity_skip or biggan_pytorch:
        shortcut = "identity"
      else:
        shortcut = "none"
      h = blocks.ResNetBlock(
          features, "down" if down else "none",
          self.norm, **self.layer_args, shortcut=shortcut,
          shortcut_kernel=1, preactivate=i > 0, name=block_name)(
              h, train=train, y=y)
      if block_name in with_attention:
        h = attention.NonLocalBlock(
            **self.layer_args, name=f"non_local_{block_name}")(h, train=train)
    h = jnp.sum(nn.relu(h), axis=(1, 2))
    return self.logits(h, y, train=train)
