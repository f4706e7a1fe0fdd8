"""GAN losses: pure functions of the discriminator's logits on real and fake.

Each loss is registered in gin as `losses.<name>` and is selected with
`GAN.loss = @losses.hinge`. Every loss takes the logits `d_real` and `d_fake`
(any shape, usually `[batch, 1]`) and returns a `GANLoss`. Direct Python calls
are unaffected by gin bindings.
"""

from typing import NamedTuple

import gin
import jax
import jax.numpy as jnp


class GANLoss(NamedTuple):
  """The D and G losses of one loss function, and the parts of the D loss."""
  d_loss: jax.Array
  g_loss: jax.Array
  d_loss_real: jax.Array
  d_loss_fake: jax.Array


def _from_parts(d_loss_real: jax.Array, d_loss_fake: jax.Array,
                g_loss: jax.Array) -> GANLoss:
  return GANLoss(d_loss_real + d_loss_fake, g_loss, d_loss_real, d_loss_fake)


@gin.register
def non_saturating(d_real: jax.Array, d_fake: jax.Array) -> GANLoss:
  """Goodfellow et al. 2014 with the non-saturating G loss -log D(G(z))."""
  return _from_parts(
      jnp.mean(jax.nn.softplus(-d_real)),
      jnp.mean(jax.nn.softplus(d_fake)),
      jnp.mean(jax.nn.softplus(-d_fake)))


@gin.register
def minimax(d_real: jax.Array, d_fake: jax.Array) -> GANLoss:
  """Goodfellow et al. 2014, saturating: G minimizes log(1 - D(G(z)))."""
  d_loss_fake = jnp.mean(jax.nn.softplus(d_fake))
  return _from_parts(jnp.mean(jax.nn.softplus(-d_real)), d_loss_fake,
                     -d_loss_fake)


@gin.register
def wasserstein(d_real: jax.Array, d_fake: jax.Array,
                drift: float = 0.0) -> GANLoss:
  """Arjovsky et al. 2017; pair it with `penalties.wgan_gp`.

  `drift` adds ε·E[D(x)²] on real data to D's loss, which keeps its outputs
  near 0 (progressive GAN: ε = 0.001).
  """
  d_loss_real = -jnp.mean(d_real)
  if drift:
    d_loss_real += drift * jnp.mean(jnp.square(d_real))
  return _from_parts(d_loss_real, jnp.mean(d_fake), -jnp.mean(d_fake))


@gin.register
def least_squares(d_real: jax.Array, d_fake: jax.Array,
                  on_sigmoid: bool = True) -> GANLoss:
  """Mao et al. 2017 (LSGAN) with targets 1 for real and 0 for fake.

  Args:
    d_real: D's logits on real data.
    d_fake: D's logits on generated data.
    on_sigmoid: if True (the default, as in Compare GAN), the squares are taken
      of the sigmoid probabilities σ(logit); if False, of the raw logits as in
      the LSGAN paper, where D has a linear output.

  Returns:
    The losses, with D's loss halved as in the paper: 0.5 (E(D(x)-1)² +
    E D(G(z))²) and G's loss 0.5 E(D(G(z))-1)².
  """
  if on_sigmoid:
    d_real, d_fake = jax.nn.sigmoid(d_real), jax.nn.sigmoid(d_fake)
  return _from_parts(
      0.5 * jnp.mean(jnp.square(d_real - 1.0)),
      0.5 * jnp.mean(jnp.square(d_fake)),
      0.5 * jnp.mean(jnp.square(d_fake - 1.0)))


@gin.register
def hinge(d_real: jax.Array, d_fake: jax.Array) -> GANLoss:
  """Lim & Ye 2017, as used by SAGAN, BigGAN and S3GAN."""
  return _from_parts(
      jnp.mean(jax.nn.relu(1.0 - d_real)),
      jnp.mean(jax.nn.relu(1.0 + d_fake)),
      -jnp.mean(d_fake))


@gin.register
def relativistic_average(d_real: jax.Array, d_fake: jax.Array) -> GANLoss:
  """Relativistic average GAN (Jolicoeur-Martineau 2018), RaSGAN form.

  D judges whether real data is more realistic than the average fake, and fake
  less realistic than the average real: with C the logits,
  d_loss = -E log σ(C(x) - E C(G(z))) - E log(1 - σ(C(G(z)) - E C(x))), and G's
  loss swaps the roles of real and fake. Unlike the other losses, G's loss
  depends on the real logits too.
  """
  real_rel = d_real - jnp.mean(d_fake)
  fake_rel = d_fake - jnp.mean(d_real)
  return _from_parts(
      jnp.mean(jax.nn.softplus(-real_rel)),
      jnp.mean(jax.nn.softplus(fake_rel)),
      jnp.mean(jax.nn.softplus(real_rel)) +
      jnp.mean(jax.nn.softplus(-fake_rel)))
