"""The GAN specification: which networks, loss, penalty and optimizers.

`GAN` is static configuration closed over by the jitted steps; everything that
changes during training lives in `state.GANState`. It is built from gin by
`make_gan` (gin name `GAN`):

  GAN.generator = @models.dcgan.Generator
  GAN.discriminator = @models.dcgan.Discriminator
  GAN.loss = @losses.hinge
  GAN.g_optimizer = @generator/optax.adam()
"""

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import gin
import jax
import optax

from ganjax import losses
from ganjax import penalties
from ganjax.data import dataset

Collections = dict[str, Any]

_PRIORS = ("normal", "uniform")


@dataclasses.dataclass(frozen=True)
class GAN:
  """Static description of a GAN; see `make_gan` for the fields."""
  generator: nn.Module
  discriminator: nn.Module
  loss: Callable[..., losses.GANLoss]
  penalty: Callable[..., jax.Array]
  penalty_weight: float
  g_optimizer: optax.GradientTransformation
  d_optimizer: optax.GradientTransformation
  z_dim: int
  prior: str
  disc_iters: int
  ema_decay: float | None
  ema_start_step: int

  def sample_z(self, rng: jax.Array, num: int) -> jax.Array:
    """Latents from the prior: N(0, I) or U[-1, 1]."""
    shape = (num, self.z_dim)
    if self.prior == "normal":
      return jax.random.normal(rng, shape)
    return jax.random.uniform(rng, shape, minval=-1.0, maxval=1.0)


def apply_model(model: nn.Module, params: Any, collections: Collections,
                *inputs: jax.Array, train: bool) -> tuple[jax.Array,
                                                         Collections]:
  """Runs a model; in training mode returns its updated collections too.

  Collections are the model's non-parameter variables (batch-norm statistics,
  later spectral-norm vectors). In inference mode they are returned as given.
  """
  variables = {"params": params, **collections}
  if not train or not collections:
    return model.apply(variables, *inputs, train=train), collections
  out, updated = model.apply(variables, *inputs, train=True,
                             mutable=list(collections))
  return out, {**collections, **updated}


@gin.configurable("GAN", denylist=["data_spec"])
def make_gan(data_spec: dataset.DataSpec,
             generator: type[nn.Module] = gin.REQUIRED,
             discriminator: type[nn.Module] = gin.REQUIRED,
             loss: Callable[..., losses.GANLoss] = losses.non_saturating,
             penalty: Callable[..., jax.Array] = penalties.none,
             penalty_weight: float = 1.0,
             g_optimizer: optax.GradientTransformation = gin.REQUIRED,
             d_optimizer: optax.GradientTransformation = gin.REQUIRED,
             z_dim: int = 128,
             prior: str = "normal",
             disc_iters: int = 1,
             ema_decay: float | None = 0.9999,
             ema_start_step: int = 40_000) -> GAN:
  """Builds the GAN for data described by `data_spec`.

  Args:
    data_spec: the data; G is constructed with output_shape=data_spec.shape.
    generator: a generator class (a Flax module with an `output_shape` field).
    discriminator: a discriminator class, returning one logit per input.
    loss: one of `losses.*`.
    penalty: one of `penalties.*`, added to D's loss times `penalty_weight`.
    penalty_weight: λ.
    g_optimizer: optax optimizer of G (bind it in the `generator/` scope).
    d_optimizer: optax optimizer of D (bind it in the `discriminator/` scope).
    z_dim: latent dimension.
    prior: "normal" (N(0, I)) or "uniform" (U[-1, 1], Compare GAN's default).
    disc_iters: D updates per G update (k in Goodfellow et al. 2014).
    ema_decay: decay of the EMA of G's weights, or None to keep no EMA.
    ema_start_step: G step from which the EMA averages; before it the EMA
      copies G's weights (Compare GAN: 0.9999 from step 40k).

  Returns:
    The GAN.
  """
  if prior not in _PRIORS:
    raise ValueError(f"GAN.prior must be one of {_PRIORS}, got {prior!r}.")
  if disc_iters < 1:
    raise ValueError(f"GAN.disc_iters must be >= 1, got {disc_iters}.")
  if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
    raise ValueError(f"GAN.ema_decay must be in [0, 1) or None, got "
                     f"{ema_decay}.")
  return GAN(generator=generator(output_shape=tuple(data_spec.shape)),
             discriminator=discriminator(),
             loss=loss, penalty=penalty, penalty_weight=penalty_weight,
             g_optimizer=g_optimizer, d_optimizer=d_optimizer, z_dim=z_dim,
             prior=prior, disc_iters=disc_iters, ema_decay=ema_decay,
             ema_start_step=ema_start_step)
