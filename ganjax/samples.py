"""Drawing samples from a trained G and turning them into pictures."""

import math

import jax
import matplotlib
import numpy as np
from PIL import Image

from ganjax import gan as gan_lib
from ganjax import state as state_lib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top


def generate(gan: gan_lib.GAN, state: state_lib.GANState, z: jax.Array,
             use_ema: bool) -> jax.Array:
  """G(z) in inference mode, with the EMA weights if `use_ema`."""
  if use_ema and state.ema_params is None:
    raise ValueError("This run keeps no EMA of G (GAN.ema_decay = None); "
                     "sample with use_ema=False.")
  params = state.ema_params if use_ema else state.g_params
  out, _ = gan_lib.apply_model(gan.generator, params, state.g_collections, z,
                               train=False)
  return out


def to_uint8(images: np.ndarray) -> np.ndarray:
  """Images in [-1, 1] to uint8 in [0, 255]."""
  return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0,
                 255).astype(np.uint8)


def image_grid(images: np.ndarray) -> np.ndarray:
  """[N, H, W, C] uint8 images tiled into a near-square [rows·H, cols·W, C]."""
  n, h, w, c = images.shape
  cols = math.ceil(math.sqrt(n))
  rows = math.ceil(n / cols)
  grid = np.zeros((rows * h, cols * w, c), np.uint8)
  for i, image in enumerate(images):
    r, col = divmod(i, cols)
    grid[r * h:(r + 1) * h, col * w:(col + 1) * w] = image
  return grid


def save_png(path: str, image: np.ndarray) -> None:
  """Writes an [H, W, C] uint8 image (C = 1 or 3)."""
  Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(path)


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


def draw(gan: gan_lib.GAN, state: state_lib.GANState, rng: jax.Array,
         num: int, use_ema: bool, batch_size: int = 256) -> np.ndarray:
  """`num` samples as a numpy array, generated in batches."""
  outputs = []
  for start in range(0, num, batch_size):
    z = gan.sample_z(jax.random.fold_in(rng, start), batch_size)
    outputs.append(np.asarray(generate_jit(gan, state, z, use_ema)))
  return np.concatenate(outputs)[:num]
