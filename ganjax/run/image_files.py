"""Sample images as files: grids, PNGs, the growing strip, GIFs, scatter
plots."""

import math
import os

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top


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


def save_gif(path: str, frames: np.ndarray, frame_ms: int = 100) -> None:
  """Writes [T, H, W, C] uint8 frames as a looping GIF."""
  images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f)
            for f in frames]
  images[0].save(path, save_all=True, append_images=images[1:],
                 duration=frame_ms, loop=0)
