"""Paths through G's latent space, for interpolation strips and animations.

Linear interpolation passes through the low-norm middle of a Gaussian prior,
where samples rarely lie; spherical interpolation (White 2016, "Sampling
Generative Networks") follows the great circle between the endpoints'
directions, interpolating their norms, and keeps to the prior's shell.
"""

import jax
import jax.numpy as jnp


def lerp(z0: jax.Array, z1: jax.Array, t: jax.Array) -> jax.Array:
  """(1 − t)·z0 + t·z1, for each t of [T] → [T, *z0.shape] (latents [D],
  or StyleGAN2's ws [num_ws, D])."""
  t = jnp.asarray(t).reshape(-1, *(1,) * jnp.ndim(z0))
  return (1.0 - t) * z0 + t * z1


def slerp(z0: jax.Array, z1: jax.Array, t: jax.Array) -> jax.Array:
  """Spherical interpolation of [D] latents for each t of [T] → [T, D]:
  directions along their great circle, norms linearly; linear where the
  endpoints are (anti)parallel and the circle is undefined."""
  t = jnp.asarray(t)[:, None]
  n0, n1 = jnp.linalg.norm(z0), jnp.linalg.norm(z1)
  u0, u1 = z0 / n0, z1 / n1
  omega = jnp.arccos(jnp.clip(jnp.dot(u0, u1), -1.0, 1.0))
  sin = jnp.sin(omega)
  safe = jnp.where(sin > 1e-6, sin, 1.0)
  direction = jnp.where(
      sin > 1e-6,
      (jnp.sin((1.0 - t) * omega) * u0 + jnp.sin(t * omega) * u1) / safe,
      lerp(u0, u1, t[:, 0]))
  return direction * ((1.0 - t) * n0 + t * n1)


def path(z0: jax.Array, z1: jax.Array, num_steps: int,
         spherical: bool) -> jax.Array:
  """[num_steps, *z0.shape] latents from z0 to z1 inclusive (spherical:
  [D] latents only)."""
  if num_steps < 2:
    raise ValueError(f"An interpolation needs at least 2 steps, got "
                     f"{num_steps}.")
  t = jnp.linspace(0.0, 1.0, num_steps)
  return (slerp if spherical else lerp)(z0, z1, t)
