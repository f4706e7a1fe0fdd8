"""Terms that regularize D's outputs: consistency (bCR, zCR) and LeCam.

  GAN.terms = [@terms.BCR()]            # or @terms.ZCR(), @terms.LeCam()

Each adds its weighted loss to D's (zCR also to G's) objective; LeCam keeps
its anchors in the train state. The squared differences are means over the
batch, as in PyTorch-StudioGAN's and the papers' code.
"""

import dataclasses
from typing import Any

import gin
import jax
import jax.numpy as jnp

from ganjax.core import augment
from ganjax.core import terms

Metrics = dict[str, jax.Array]


def _mse(a: jax.Array, b: jax.Array) -> jax.Array:
  return jnp.mean(jnp.square(a - b))


def consistency_transform(x: jax.Array, rng: jax.Array) -> jax.Array:
  """bCR's T (Zhao et al. 2021, as StudioGAN's `apply_cr_aug`): a left-right
  flip with probability 1/2, then a move by whole pixels in [-s, s] per
  axis, s = round(size / 8), zeros filling in."""
  flip_rng, move_rng = jax.random.split(rng)
  return augment.translation(augment.flip(x, flip_rng), move_rng, 0.125)


@gin.configurable("terms.BCR")
@dataclasses.dataclass(frozen=True)
class BCR(terms.Term):
  """Balanced consistency regularization (Zhao et al. 2021): D's logits of
  T(x) should equal those of x, for reals (× `weight_real`) and fakes
  (× `weight_fake`): λ_r mean (D(x) − D(T(x)))² + λ_f mean (D(G(z)) −
  D(T(G(z))))², T = `consistency_transform` (the paper's CIFAR-10 weights:
  10 and 10). G is not trained by it."""
  weight_real: float = 10.0
  weight_fake: float = 10.0

  def d_loss(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    real_rng, fake_rng = jax.random.split(terms.term_key(out, self))
    real = _mse(out.d_real, out.discriminator(
        consistency_transform(out.real, real_rng), out.y_real))
    fake = _mse(out.d_fake, out.discriminator(
        consistency_transform(out.fake, fake_rng), out.y_fake))
    return self.weight_real * real + self.weight_fake * fake, {
        "d_bcr_real": real, "d_bcr_fake": fake}


@gin.configurable("terms.ZCR")
@dataclasses.dataclass(frozen=True)
class ZCR(terms.Term):
  """Latent consistency regularization (Zhao et al. 2021): for z' = z + ε,
  ε ~ N(0, `sigma`²), D's logits of G(z') should equal those of G(z)
  (× `weight_d`), and G's images of z' should differ from those of z
  (G's loss − `weight_g` · mean (G(z) − G(z'))², against mode collapse).
  The paper's weights: λ_dis = 5, λ_gen = 0.5, σ = 0.03."""
  weight_d: float = 5.0
  weight_g: float = 0.5
  sigma: float = 0.03

  def _perturbed(self, out: terms.Outputs) -> jax.Array:
    noise = jax.random.normal(terms.term_key(out, self), out.z.shape)
    return out.generator(out.z + self.sigma * noise, out.y_fake)

  def d_loss(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    loss = _mse(out.d_fake, out.discriminator(
        jax.lax.stop_gradient(self._perturbed(out)), out.y_fake))
    return self.weight_d * loss, {"d_zcr": loss}

  def g_loss(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    distance = _mse(out.fake, self._perturbed(out))
    return -self.weight_g * distance, {"g_zcr": distance}


@gin.configurable("terms.LeCam")
@dataclasses.dataclass(frozen=True)
class LeCam(terms.Term):
  """LeCam regularization (Tseng et al. 2021), times `weight`:
  mean relu(D(x) − α_F)² + mean relu(α_R − D(G(z)))², where α_R and α_F are
  exponential moving averages (`decay`, zero-debiased) of D's mean logits on
  reals and fakes, updated with the current D update's means before use and
  kept in the train state. As the authors' StyleGAN2 code (lecam_loss.py:
  decay 0.99); the paper's Eq. 3 writes the squares without the ReLUs.
  `weight`: the authors' BigGAN CIFAR-10 setting, 0.3."""
  weight: float = 0.3
  decay: float = 0.99

  def init_state(self) -> dict[str, jax.Array]:
    return {"real": jnp.float32(0), "fake": jnp.float32(0),
            "count": jnp.int32(0)}

  def d_update(self, state: dict[str, jax.Array],
               out: terms.Outputs) -> dict[str, jax.Array]:
    return {"real": state["real"] * self.decay +
                    (1 - self.decay) * jnp.mean(out.d_real),
            "fake": state["fake"] * self.decay +
                    (1 - self.decay) * jnp.mean(out.d_fake),
            "count": state["count"] + 1}

  def anchors(self, state: dict[str, Any]) -> tuple[jax.Array, jax.Array]:
    """(α_R, α_F): the zero-debiased averages of a state."""
    debias = 1 - jnp.float32(self.decay) ** state["count"]
    return state["real"] / debias, state["fake"] / debias

  def d_loss(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    constant = out._replace(d_real=jax.lax.stop_gradient(out.d_real),
                            d_fake=jax.lax.stop_gradient(out.d_fake))
    alpha_real, alpha_fake = self.anchors(
        self.d_update(terms.own_state(out, self), constant))
    loss = (jnp.mean(jnp.square(jax.nn.relu(out.d_real - alpha_fake))) +
            jnp.mean(jnp.square(jax.nn.relu(alpha_real - out.d_fake))))
    return self.weight * loss, {"d_lecam": loss, "lecam_alpha_real":
                                alpha_real, "lecam_alpha_fake": alpha_fake}
