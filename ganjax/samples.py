"""Drawing samples from a trained G and turning them into pictures."""

import math
import os
from typing import Any

import jax
import matplotlib
import numpy as np
from PIL import Image

from ganjax import gan as gan_lib
from ganjax import latents
from ganjax import normalizers
from ganjax import run_dir
from ganjax import state as state_lib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top


def _g_params(state: state_lib.GANState, use_ema: bool):
  if use_ema and state.ema_params is None:
    raise ValueError("This run keeps no EMA of G (GAN.ema_decay = None); "
                     "sample with use_ema=False.")
  return state.ema_params if use_ema else state.g_params


def generate(gan: gan_lib.GAN, state: state_lib.GANState, z: jax.Array,
             use_ema: bool, labels: jax.Array | None = None) -> jax.Array:
  """G(z, labels) in inference mode, with the EMA weights if `use_ema`."""
  out, _ = gan.call(gan.generator, _g_params(state, use_ema),
                    state.g_collections, z, gan.one_hot(labels), train=False)
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


def to_uint8(images: np.ndarray) -> np.ndarray:
  """Images in [-1, 1] to uint8 in [0, 255]."""
  return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0,
                 255).astype(np.uint8)


def image_grid(images: np.ndarray, padding: int = 2,
               min_cell: int = 32) -> np.ndarray:
  """[N, H, W, C] uint8 images tiled into a near-square grid.

  Images under `min_cell` pixels a side are enlarged by an integer factor
  (nearest neighbour) so that small samples stay legible, and cells are
  separated by `padding` mid-gray pixels.
  """
  scale = max(1, math.ceil(min_cell / max(images.shape[1:3])))
  images = np.asarray(images).repeat(scale, axis=1).repeat(scale, axis=2)
  n, h, w, c = images.shape
  cols = math.ceil(math.sqrt(n))
  rows = math.ceil(n / cols)
  grid = np.full((rows * (h + padding) + padding,
                  cols * (w + padding) + padding, c), 128, np.uint8)
  for i, image in enumerate(images):
    r, col = divmod(i, cols)
    top, left = padding + r * (h + padding), padding + col * (w + padding)
    grid[top:top + h, left:left + w] = image
  return grid


def save_png(path: str, image: np.ndarray) -> None:
  """Writes an [H, W, C] uint8 image (C = 1 or 3)."""
  Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(path)


def add_growing_row(workdir: str, step: int, images: np.ndarray,
                    num: int = 8) -> str:
  """Adds the first `num` uint8 images, side by side, as the row of step
  `step` to `samples/growing/`, and redraws `samples/growing.png` from
  every row, in step order: the same latents at each level of progressive
  growing. Returns the strip's path."""
  directory = os.path.join(workdir, "samples", "growing")
  os.makedirs(directory, exist_ok=True)
  save_png(os.path.join(directory, f"step_{step:08d}.png"),
           np.concatenate(list(images[:num]), axis=1))
  rows = [np.asarray(Image.open(os.path.join(directory, name)))
          for name in sorted(os.listdir(directory))]
  path = os.path.join(workdir, "samples", "growing.png")
  Image.fromarray(np.concatenate(rows, axis=0)).save(path)
  return path


def scatter_png(path: str, samples: np.ndarray, data: np.ndarray,
                title: str = "") -> None:
  """A scatter plot of 2-D samples (red) over data points (blue)."""
  fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
  ax.scatter(data[:, 0], data[:, 1], s=2, c="tab:blue", alpha=0.3,
             label="data")
  ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:red", alpha=0.5,
             label="samples")
  ax.set_aspect("equal")
  ax.legend(loc="upper right", markerscale=4)
  ax.set_title(title)
  fig.savefig(path, bbox_inches="tight")
  plt.close(fig)


def figure_to_array(path: str) -> np.ndarray:
  """Reads a PNG back as an [H, W, 3] uint8 array (for TensorBoard)."""
  return np.asarray(Image.open(path).convert("RGB"))


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
    z = gan.sample_z(jax.random.fold_in(rng, start), batch_size, truncation)
    batch_labels = (None if labels is None
                    else labels[start:start + batch_size])
    outputs.append(np.asarray(generate_jit(gan, state, z, use_ema,
                                           batch_labels)))
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
        labels)))
  return np.stack(rows)


def save_gif(path: str, frames: np.ndarray, frame_ms: int = 100) -> None:
  """Writes [T, H, W, C] uint8 frames as a looping GIF."""
  images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f)
            for f in frames]
  images[0].save(path, save_all=True, append_images=images[1:],
                 duration=frame_ms, loop=0)


def load_for_sampling(workdir: str, seed: int = 0,
                      use_ema: bool | None = None, standing_stats: int = 0
                      ) -> tuple[Any, gan_lib.GAN, state_lib.GANState, bool]:
  """(experiment, sampling GAN, state, use_ema) of the run in `workdir`:
  EMA weights by default when kept, G's batch-norm statistics recomputed
  over `standing_stats` samples (from `seed`) if > 0."""
  exp, state = run_dir.load_run(workdir)
  gan = exp.sampling_gan(state)
  use_ema = state.ema_params is not None if use_ema is None else use_ema
  if standing_stats:
    stats_rng = jax.random.split(jax.random.key(seed))[1]
    state = with_standing_statistics(gan, state, stats_rng, standing_stats,
                                     use_ema)
  return exp, gan, state, use_ema


def check_label(gan: gan_lib.GAN, label: int | None) -> None:
  """Raises ValueError for a `--label` the model cannot take."""
  if label is None:
    return
  if not gan.conditional:
    raise ValueError("--label given, but the model is unconditional.")
  if not 0 <= label < gan.num_classes:
    raise ValueError(f"--label must be in [0, {gan.num_classes}).")


def draw_from_run(workdir: str, num_samples: int, seed: int = 0,
                  use_ema: bool | None = None, label: int | None = None,
                  truncation: float | None = None,
                  standing_stats: int = 0) -> dict[str, np.ndarray]:
  """`ganjax.sample`'s arrays from the run in `workdir`: `samples` (uint8
  images or float32 vectors), and `labels` for a class-conditional model.
  The arguments are the command's flags of the same names.

  Raises:
    ValueError: for a label the model cannot take.
  """
  exp, gan, state, use_ema = load_for_sampling(workdir, seed, use_ema,
                                               standing_stats)
  check_label(gan, label)
  rng = jax.random.key(seed)
  label_rng = jax.random.split(rng)[0]
  arrays = {}
  if gan.conditional:
    labels = (np.asarray(gan.sample_labels(label_rng, num_samples))
              if label is None else np.full(num_samples, label))
    arrays["labels"] = labels.astype(np.int32)
  out = draw(gan, state, rng, num_samples, use_ema, arrays.get("labels"),
             truncation)
  if exp.data.spec.is_image:
    out = to_uint8(out)
  return {"samples": out, **arrays}
