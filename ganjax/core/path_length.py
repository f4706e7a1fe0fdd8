"""StyleGAN2's path-length regularization of G (Karras et al. 2020, §3.2).

  GAN.terms = [@terms.PathLength()]

As stylegan2-ada-pytorch's loss (`training/loss.py`, `do_Gpl`): on
batch / `batch_shrink` fresh latents (with the update's fake labels), G's
mapping gives ws and its synthesis images x; with y ~ N(0, I)/√(H·W),
the lengths are ‖∇_ws ⟨x, y⟩‖ (squares summed over w's features, averaged
over the ws, rooted). Their running mean a moves toward the batch's mean
length by `decay` (kept in the train state), and the penalty is
`weight` · mean (length − a)², with a's new value, gradient included, as
the reference computes it.

Lazy, as the reference's `G_reg_interval`: the term is computed in every
`every`-th G update only (from the first), and counts `every` times there;
the choice is traced (`lax.cond`), so the step stays one program. It is
G's regularizer (`g_regularizer`): with `GAN.lazy_reg_updates` it takes an
optimizer step of its own where due, as the reference's "Greg" phase (with
`optimizers.lazy_regularized_adam`'s learning rate and betas raised to
k/(k + 1)); otherwise it joins that G update's loss.
Its G calls do not update G's tracked mean w (the reference's do).
"""

import dataclasses

import gin
import jax
import jax.numpy as jnp

from ganjax.core import terms

Metrics = dict[str, jax.Array]


@gin.configurable("terms.PathLength")
@dataclasses.dataclass(frozen=True)
class PathLength(terms.Term):
  """StyleGAN2's path-length regularization of G (Karras et al. 2020).

  Needs a G with `mapping` and `synthesis` methods (models.stylegan2).

  Attributes:
    weight: the penalty's weight (the reference's pl_weight: 2).
    every: G updates per computation (G_reg_interval: 4).
    batch_shrink: the batch is the G update's over this (2).
    decay: the running mean's step toward each batch mean (0.01).
  """
  weight: float = 2.0
  every: int = 4
  batch_shrink: int = 2
  decay: float = 0.01

  def init_state(self) -> jax.Array:
    return jnp.zeros([], jnp.float32)

  def _compute(self, out: terms.Outputs) -> tuple[jax.Array, jax.Array,
                                                  jax.Array]:
    """(penalty, mean length, new running mean) of this update."""
    num = max(out.z.shape[0] // self.batch_shrink, 1)
    z_key, noise_key = jax.random.split(terms.term_key(out, self))
    z = jax.random.normal(z_key, (num, out.z.shape[-1]))
    y = None if out.y_fake is None else out.y_fake[:num]
    try:
      ws = out.generator(z, y, method="mapping")
      images, pullback = jax.vjp(
          lambda ws: out.generator(ws, None, method="synthesis"), ws)
    except AttributeError as e:
      raise ValueError("terms.PathLength needs a G with mapping and "
                       "synthesis methods (models.stylegan2.Generator).") from e
    noise = jax.random.normal(noise_key, images.shape) / jnp.sqrt(
        images.shape[1] * images.shape[2])
    grads, = pullback(noise)  # ∇_ws ⟨G(ws), noise⟩.
    lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads), -1), -1))
    old = terms.own_state(out, self)
    mean = old + self.decay * (jnp.mean(lengths) - old)
    return (jnp.mean(jnp.square(lengths - mean)), jnp.mean(lengths),
            jax.lax.stop_gradient(mean))

  def reg_due(self, net: str, out: terms.Outputs) -> jax.Array | bool:
    return net == "g" and out.g_updates % self.every == 0

  def g_regularizer(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    skip = lambda: (jnp.zeros([]), jnp.zeros([]),
                    terms.own_state(out, self))
    penalty, length, mean = jax.lax.cond(
        self.reg_due("g", out), lambda: self._compute(out), skip)
    return self.weight * self.every * penalty, {
        "g_path_penalty": penalty, "g_path_length": length,
        "g_path_length_mean": mean}

  def g_update(self, state: jax.Array, metrics: Metrics) -> jax.Array:
    return metrics["g_path_length_mean"]
