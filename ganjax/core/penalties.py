"""Discriminator penalties (regularizers), weighted by `GAN.penalty_weight`.

Each penalty is registered in gin as `penalties.<name>` and selected with
`GAN.penalty = @penalties.r1`. All take the same keyword arguments, so the
train step calls every penalty alike:

  discriminator: x -> logits, D applied with its current parameters in training
    mode (updates of its mutable collections made inside a penalty are
    discarded);
  d_params: D's parameters (for weight penalties);
  real, fake: a batch of real and of generated examples, same shape;
  rng: a key for penalties that sample.

Gradient norms are taken per example over all of its non-batch axes.
"""

from typing import Callable

import gin
import jax
import jax.numpy as jnp

Discriminator = Callable[[jax.Array], jax.Array]


def _input_gradients(discriminator: Discriminator, x: jax.Array) -> jax.Array:
  """∇ₓ D(x) for every example of the batch x."""
  return jax.grad(lambda x: jnp.sum(discriminator(x)))(x)


def _squared_norms(grads: jax.Array) -> jax.Array:
  return jnp.sum(jnp.square(grads).reshape(grads.shape[0], -1), axis=1)


def _slope_penalty(discriminator: Discriminator, x: jax.Array,
                   target: float = 1.0, epsilon: float = 1e-4) -> jax.Array:
  """E (‖∇ₓ D(x)‖ - t)² / t², the norm as √(ε + ‖∇ₓ D(x)‖²) (Compare GAN's
  ε: 1e-4)."""
  norms = jnp.sqrt(epsilon +
                   _squared_norms(_input_gradients(discriminator, x)))
  return jnp.mean(jnp.square(norms - target)) / target ** 2


def _uniform_per_example(rng: jax.Array, x: jax.Array) -> jax.Array:
  return jax.random.uniform(rng, (x.shape[0],) + (1,) * (x.ndim - 1))


@gin.register
def none(*, discriminator, d_params, real, fake, rng) -> jax.Array:
  """No penalty."""
  del discriminator, d_params, real, fake, rng
  return jnp.zeros([])


@gin.register
def wgan_gp(*, discriminator, d_params, real, fake, rng,
            target: float = 1.0, epsilon: float = 1e-4) -> jax.Array:
  """WGAN-GP (Gulrajani et al. 2017) on random interpolates of real and fake.

  `target` is the gradient norm aimed at, t in E (‖∇D‖ - t)² / t²
  (progressive GAN's iwass_target: 750 on CIFAR-10; 1 is WGAN-GP's).
  `epsilon` is added to ‖∇D‖² under the square root: Compare GAN's 1e-4;
  the progressive GAN's code has none (0).
  """
  del d_params
  alpha = _uniform_per_example(rng, real)
  return _slope_penalty(discriminator, real + alpha * (fake - real), target,
                        epsilon)


@gin.register
def dragan(*, discriminator, d_params, real, fake, rng,
           clip_range: tuple[float, float] | None = None) -> jax.Array:
  """DRAGAN (Kodali et al. 2017): the slope penalty around perturbed reals.

  As in Compare GAN, x̃ = x + std(x)·(u - 0.5) with u ~ U[0, 1) per element
  and std(x) over the whole real batch. Compare GAN also clips x̃ to its
  image range [0, 1]; set `clip_range` to clip to the data's range.
  """
  del d_params, fake
  noise = jax.random.uniform(rng, real.shape) - 0.5
  perturbed = real + jnp.std(real) * noise
  if clip_range is not None:
    perturbed = jnp.clip(perturbed, *clip_range)
  return _slope_penalty(discriminator, perturbed)


@gin.register
def l2(*, discriminator, d_params, real, fake, rng) -> jax.Array:
  """Compare GAN's L2 penalty: the mean over D's kernels of ½‖W‖².

  A mean over layers, not a sum; biases and normalizer parameters (anything
  not named `kernel`) are excluded.
  """
  del discriminator, real, fake, rng
  return jnp.mean(jnp.stack([0.5 * jnp.sum(jnp.square(k))
                             for k in _kernels(d_params, "penalties.l2")]))


def _kernels(params, name: str,
             exclude: tuple[str, ...] = ()) -> list[jax.Array]:
  """The leaves named `kernel` (weights of dense and conv layers), but those
  inside modules named in `exclude`."""
  leaves = jax.tree_util.tree_leaves_with_path(params)
  keys = lambda path: [getattr(k, "key", None) for k in path]
  kernels = [leaf for path, leaf in leaves
             if keys(path)[-1] == "kernel" and not set(exclude) & set(
                 keys(path))]
  if not kernels:
    raise ValueError(f"{name}: the network has no `kernel` parameters.")
  return kernels


def orthogonal(params, exclude: tuple[str, ...] = ("embed_y",)
               ) -> jax.Array:
  """BigGAN's orthogonal regularization: ½ Σ ‖WᵀW ⊙ (1 − I)‖²_F over kernels.

  Each kernel is a matrix [fan_in, out]; only the off-diagonal Gram entries
  are penalized, so filters are pushed apart without fixing their norms
  (Brock et al. 2019, Sec. 3.1). As in BigGAN-PyTorch (`utils.ortho`), whose
  gradient 2β(WWᵀ ⊙ (1 − I))W this term's gradient times β equals, the
  shared class embedding (modules named in `exclude`) is left out; the
  paper's formula without the ½ doubles that gradient. A weight regularizer
  of G, added to G's loss by `terms.Orthogonal` — not a D penalty.
  """
  total = 0.0
  for kernel in _kernels(params, "orthogonal regularization", exclude):
    w = kernel.reshape(-1, kernel.shape[-1])
    gram = w.T @ w
    total += 0.5 * jnp.sum(jnp.square(gram * (1.0 - jnp.eye(gram.shape[0]))))
  return total


@gin.register
def r1(*, discriminator, d_params, real, fake, rng) -> jax.Array:
  """R1 (Mescheder et al. 2018): ½ E‖∇ₓ D(x)‖² on real data.

  With `GAN.penalty_weight` = γ this is the paper's (γ/2) E‖∇D‖².
  """
  del d_params, fake, rng
  return 0.5 * jnp.mean(_squared_norms(_input_gradients(discriminator, real)))


@gin.register
def r2(*, discriminator, d_params, real, fake, rng) -> jax.Array:
  """R2 (Mescheder et al. 2018): ½ E‖∇ₓ D(x)‖² on generated data."""
  del d_params, real, rng
  return 0.5 * jnp.mean(_squared_norms(_input_gradients(discriminator, fake)))
