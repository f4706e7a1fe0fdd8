"""Drawing samples from a trained G: batches, standing statistics, latent
paths in Z and W, style-mixing grids, and D's logits of samples."""

import dataclasses
import re

import jax
import jax.numpy as jnp
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


def _g_has(gan: gan_lib.GAN, field: str) -> bool:
  return field in {f.name for f in dataclasses.fields(gan.generator)}


def with_truncation_psi(gan: gan_lib.GAN, psi: float | None) -> gan_lib.GAN:
  """`gan` whose G moves every w toward its tracked mean by ψ (StyleGAN2's
  truncation trick, w_avg + ψ·(w − w_avg)); `gan` itself for None."""
  if psi is None:
    return gan
  if not _g_has(gan, "truncation_psi"):
    raise ValueError(
        f"--truncation_psi needs a G that tracks its mean w (StyleGAN2's, "
        f"models.stylegan2.Generator); this one is "
        f"{type(gan.generator).__name__}. --truncation truncates z instead.")
  return dataclasses.replace(
      gan, generator=gan.generator.clone(truncation_psi=psi))


def _with_shared_noise(gan: gan_lib.GAN) -> gan_lib.GAN:
  """`gan` whose G draws one noise map per layer for a whole call
  (StyleGAN2's noise inputs), so that the images of a walk or a grid differ
  only by their latents; `gan` itself for a G without noise inputs."""
  if not _g_has(gan, "noise_mode"):
    return gan
  return dataclasses.replace(
      gan, generator=gan.generator.clone(noise_mode="shared"))


def _needs_ws(gan: gan_lib.GAN, what: str) -> None:
  if not hasattr(gan.generator, "synthesis"):
    raise ValueError(
        f"{what} needs a G with a W space (mapping and synthesis methods: "
        f"StyleGAN2's, models.stylegan2.Generator); this one is "
        f"{type(gan.generator).__name__}.")


def generate(gan: gan_lib.GAN, state: state_lib.GANState, z: jax.Array,
             use_ema: bool, labels: jax.Array | None = None,
             rng: jax.Array | None = None,
             method: str | None = None) -> jax.Array:
  """G(z, labels) in inference mode, with the EMA weights if `use_ema`;
  `rng` is the key of G's own draws (StyleGAN2's noise inputs). `method`
  runs one of G's methods instead (StyleGAN2's "mapping" of z to ws,
  "synthesis" of ws, without labels, to images)."""
  out, _ = gan.call(gan.generator, _g_params(state, use_ema),
                    state.g_collections, z, gan.one_hot(labels), train=False,
                    rng=rng, method=method)
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


generate_jit = jax.jit(generate, static_argnums=(0, 3),
                       static_argnames="method")


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


def _seed_latents(gan: gan_lib.GAN, seeds: list[int], label: int | None
                  ) -> tuple[jax.Array, np.ndarray | None]:
  """The latent of each seed (`gan.sample_z(jax.random.key(seed), 1)`) and,
  for a conditional GAN, its class: `label`, or the one the seed draws."""
  z = jnp.concatenate([gan.sample_z(jax.random.key(s), 1) for s in seeds])
  if not gan.conditional:
    return z, None
  return z, np.array([
      label if label is not None else
      int(gan.sample_labels(jax.random.key(s), 1)[0]) for s in seeds],
                     np.int32)


def interpolations(gan: gan_lib.GAN, state: state_lib.GANState,
                   seed_pairs: list[tuple[int, int]], num_steps: int,
                   spherical: bool, use_ema: bool,
                   label: int | None = None, space: str = "z") -> np.ndarray:
  """[pairs, num_steps, ...] samples along latent paths (`latents.path`).

  The endpoints of a pair (a, b) are the latents of seeds a and b (one
  each, drawn as `gan.sample_z(jax.random.key(seed), 1)`); a conditional
  GAN keeps one class along a path: `label`, or the one seed a draws. With
  `space` "w" the path runs linearly between the endpoints' ws (StyleGAN2's
  mapping, truncation included) instead of their zs. G's noise inputs are
  drawn once per path, from `gan_lib.noise_key(jax.random.key(a))`, so the
  ends are the seeds' own samples and the frames differ only by latents.
  """
  if space not in ("z", "w"):
    raise ValueError(f"An interpolation runs in space 'z' or 'w', got "
                     f"{space!r}.")
  if space == "w":
    _needs_ws(gan, "Interpolating in W")
    if spherical:
      raise ValueError("Interpolations in W are linear (as StyleGAN's "
                       "perceptual path length); drop --spherical.")
  gan = _with_shared_noise(gan)
  rows = []
  for a, b in seed_pairs:
    z, labels = _seed_latents(gan, [a, b], label)
    noise = gan_lib.noise_key(jax.random.key(a))
    if space == "z":
      path = latents.path(z[0], z[1], num_steps, spherical)
      rows.append(generate_jit(
          gan, state, path, use_ema,
          None if labels is None else np.repeat(labels[:1], num_steps),
          noise))
    else:
      ws = generate_jit(gan, state, z, use_ema, labels, method="mapping")
      rows.append(generate_jit(
          gan, state, latents.path(ws[0], ws[1], num_steps, False), use_ema,
          rng=noise, method="synthesis"))
  return np.stack([np.asarray(row) for row in rows])


def parse_styles(spec: str) -> list[int]:
  """Layer indices of a spec like "0-6" or "0,2,4-5" (the reference's
  --styles)."""
  parts = spec.split(",")
  if not all(re.fullmatch(r"\d+(-\d+)?", part) for part in parts):
    raise ValueError(f"Styles are layer indices or ranges like 0-6 or "
                     f"0,2,4-5; got {spec!r}.")
  styles = []
  for part in parts:
    first, _, last = part.partition("-")
    if int(last or first) < int(first):
      raise ValueError(f"The range {part} of styles runs backwards.")
    styles.extend(range(int(first), int(last or first) + 1))
  return styles


def style_mixing(gan: gan_lib.GAN, state: state_lib.GANState,
                 row_seeds: list[int], col_seeds: list[int],
                 styles: list[int], use_ema: bool, label: int | None = None,
                 batch_size: int = 16) -> np.ndarray:
  """StyleGAN's style-mixing grid: [rows + 1, cols + 1, H, W, C] images.

  As stylegan2-ada-pytorch's `style_mixing.py`: the first row holds the
  column seeds' images, the first column the row seeds' (the corner is
  black, -1), and cell (r, c) the ws of row seed r with the layers `styles`
  (e.g. 0-6, the coarse ones) taken from column seed c. Seeds' latents and
  classes as `interpolations`; one noise draw for the whole grid, from
  `gan_lib.noise_key(jax.random.key(row_seeds[0]))`.
  """
  _needs_ws(gan, "A style-mixing grid")
  gan = _with_shared_noise(gan)
  seeds = list(dict.fromkeys([*row_seeds, *col_seeds]))
  z, labels = _seed_latents(gan, seeds, label)
  w_of = dict(zip(seeds, np.asarray(generate_jit(
      gan, state, z, use_ema, labels, method="mapping"))))
  num_ws = next(iter(w_of.values())).shape[0]
  if min(styles) < 0 or max(styles) >= num_ws:
    raise ValueError(f"Styles must be layers in [0, {num_ws}) of this G; "
                     f"got {min(styles)}-{max(styles)}.")
  mixed = np.isin(np.arange(num_ws), styles)[:, None]
  ws = [w_of[c] for c in col_seeds] + [
      np.where(mixed, w_of[c], w_of[r]) if c is not None else w_of[r]
      for r in row_seeds for c in [None, *col_seeds]]
  num = len(ws)  # Padded to whole batches, so that one compile serves.
  ws = np.pad(np.stack(ws), [(0, -num % batch_size), (0, 0), (0, 0)])
  noise = gan_lib.noise_key(jax.random.key(row_seeds[0]))
  images = np.concatenate([
      np.asarray(generate_jit(gan, state, ws[i:i + batch_size], use_ema,
                              rng=noise, method="synthesis"))
      for i in range(0, num, batch_size)])[:num]
  corner = np.full((1, *images.shape[1:]), -1.0, images.dtype)
  images = np.concatenate([corner, images])
  return images.reshape(len(row_seeds) + 1, len(col_seeds) + 1,
                        *images.shape[1:])
