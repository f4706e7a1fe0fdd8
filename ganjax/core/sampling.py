"""Drawing samples from a trained G: batches, standing statistics, latent
paths, and D's logits of samples."""

import dataclasses

import jax
import numpy as np

from ganjax.core import gan as gan_lib
from ganjax.core import latents
from ganjax.core import state as state_lib
from ganjax.models import normalizers


def _g_params(state: state_lib.GANState, use_ema: bool):
  if use_ema and state.ema_params is None:
    raise ValueError("This run keeps no EMA of G (GAN.ema_decay = None); "
                     "sample with use_ema=False.")
  return state.ema_params if use_ema else state.g_params


def with_truncation_psi(gan: gan_lib.GAN, psi: float | None) -> gan_lib.GAN:
  """`gan` whose G moves every w toward its tracked mean by ψ (StyleGAN2's
  truncation trick, w_avg + ψ·(w − w_avg)); `gan` itself for None."""
  if psi is None:
    return gan
  if "truncation_psi" not in {f.name for f in dataclasses.fields(
      gan.generator)}:
    raise ValueError(
        f"--truncation_psi needs a G that tracks its mean w (StyleGAN2's, "
        f"models.stylegan2.Generator); this one is "
        f"{type(gan.generator).__name__}. --truncation truncates z instead.")
  return dataclasses.replace(
      gan, generator=gan.generator.clone(truncation_psi=psi))


def generate(gan: gan_lib.GAN, state: state_lib.GANState, z: jax.Array,
             use_ema: bool, labels: jax.Array | None = None,
             rng: jax.Array | None = None) -> jax.Array:
  """G(z, labels) in inference mode, with the EMA weights if `use_ema`;
  `rng` is the key of G's own draws (StyleGAN2's noise inputs)."""
  out, _ = gan.call(gan.generator, _g_params(state, use_ema),
                    state.g_collections, z, gan.one_hot(labels), train=False,
                    rng=rng)
  return out


def with_standing_statistics(gan: gan_lib.GAN, state: state_lib.GANState,
                             rng: jax.Array, num_samples: int, use_ema: bool,
                             batch_size: int = 256) -> state_lib.GANState:
  """The state with G's batch-norm statistics recomputed for its weights.

  Compare GAN's "standing statistics" (BigGAN's default at evaluation): G runs
  in training mode on `num_samples` latents (Compare GAN: 204,800) and the
  mean batch statistics replace the moving averages.
  """
  def inputs():
    for start in range(0, num_samples, batch_size):
      key = jax.random.fold_in(rng, start)
      z = gan.sample_z(key, batch_size)
      labels = gan.sample_labels(jax.random.fold_in(key, 1), batch_size)
      yield (z,) if labels is None else (z, gan.one_hot(labels))

  collections = normalizers.standing_statistics(
      gan.generator, _g_params(state, use_ema), state.g_collections, inputs())
  return state.replace(g_collections=collections)


generate_jit = jax.jit(generate, static_argnums=(0, 3))


def _d_logits(gan: gan_lib.GAN, state: state_lib.GANState, x: jax.Array,
              labels: jax.Array | None) -> jax.Array:
  out, _ = gan.call(gan.discriminator, state.d_params, state.d_collections, x,
                    gan.one_hot(labels), train=False)
  return out[:, 0]


_d_logits_jit = jax.jit(_d_logits, static_argnums=0)


def d_logits(gan: gan_lib.GAN, state: state_lib.GANState,
             real: dict[str, np.ndarray], fake: np.ndarray,
             fake_labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
  """D's logits (inference mode) of a real batch and of fakes (with their
  labels, for a conditional GAN), for TensorBoard's histograms."""
  real_labels = real.get("label") if gan.conditional else None
  return {
      "d_logits_real": np.asarray(_d_logits_jit(gan, state, real["x"],
                                                real_labels)),
      "d_logits_fake": np.asarray(_d_logits_jit(gan, state, fake,
                                                fake_labels))}


def classes_in_turn(gan: gan_lib.GAN, num: int) -> np.ndarray | None:
  """Labels 0, 1, …, K-1, 0, … of `num` samples of a conditional GAN (its
  sample grids' default); None for an unconditional one."""
  return np.arange(num) % gan.num_classes if gan.conditional else None


def draw(gan: gan_lib.GAN, state: state_lib.GANState, rng: jax.Array,
         num: int, use_ema: bool, labels: np.ndarray | None = None,
         truncation: float | None = None,
         batch_size: int = 256) -> np.ndarray:
  """`num` samples as a numpy array, generated in batches.

  Args:
    gan: the GAN.
    state: its train state.
    rng: key of the latents.
    num: how many samples.
    use_ema: with G's EMA weights.
    labels: [num] class of each sample of a conditional GAN; by default the
      classes in turn (0, 1, …, K-1, 0, …).
    truncation: the truncation trick's threshold, or None.
    batch_size: samples per G call.

  Returns:
    [num, ...] samples.
  """
  if labels is None:
    labels = classes_in_turn(gan, num)
  if labels is not None:
    if not gan.conditional:
      raise ValueError("Labels given, but the GAN is unconditional.")
    labels = np.asarray(labels, np.int32)
    if len(labels) != num or labels.min() < 0 or (
        labels.max() >= gan.num_classes):
      raise ValueError(f"Need {num} labels in [0, {gan.num_classes}).")
    labels = np.pad(labels, (0, -num % batch_size))
  outputs = []
  for start in range(0, num, batch_size):
    key = jax.random.fold_in(rng, start)
    z = gan.sample_z(key, batch_size, truncation)
    batch_labels = (None if labels is None
                    else labels[start:start + batch_size])
    outputs.append(np.asarray(generate_jit(gan, state, z, use_ema,
                                           batch_labels,
                                           gan_lib.noise_key(key))))
  return np.concatenate(outputs)[:num]


def interpolations(gan: gan_lib.GAN, state: state_lib.GANState,
                   seed_pairs: list[tuple[int, int]], num_steps: int,
                   spherical: bool, use_ema: bool,
                   label: int | None = None) -> np.ndarray:
  """[pairs, num_steps, ...] samples along latent paths (`latents.path`).

  The endpoints of a pair (a, b) are the latents of seeds a and b (one
  each, drawn as `gan.sample_z(jax.random.key(seed), 1)`); a conditional
  GAN keeps one class along a path: `label`, or the one seed a draws.
  """
  rows = []
  for a, b in seed_pairs:
    z0, z1 = (gan.sample_z(jax.random.key(s), 1)[0] for s in (a, b))
    labels = None
    if gan.conditional:
      labels = np.full(num_steps, label if label is not None else
                       int(gan.sample_labels(jax.random.key(a), 1)[0]),
                       np.int32)
    rows.append(np.asarray(generate_jit(
        gan, state, latents.path(z0, z1, num_steps, spherical), use_ema,
        labels, gan_lib.noise_key(jax.random.key(a)))))
  return np.stack(rows)


