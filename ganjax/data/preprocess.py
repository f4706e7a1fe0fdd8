"""Compare GAN's image preprocessing, one uint8 [H, W, C] image at a time.

Crops are numpy slices; resizing is PIL's bilinear filter, which (unlike
Compare GAN's TF1 `resize_images`) low-pass filters when it shrinks, so a
160 → 64 CelebA resize does not alias. Each function returns uint8.
"""

import numpy as np
from PIL import Image


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
  """The central size×size window (the image must be at least that big)."""
  h, w = image.shape[:2]
  if h < size or w < size:
    raise ValueError(f"Cannot center-crop {size}×{size} from a {h}×{w} "
                     "image.")
  top, left = (h - size) // 2, (w - size) // 2
  return image[top:top + size, left:left + size]


def crop_or_pad(image: np.ndarray, size: int) -> np.ndarray:
  """Centrally crops or zero-pads each side to `size` (TF's
  `resize_with_crop_or_pad`; Compare GAN's LSUN bedroom preprocessing)."""
  for axis in (0, 1):
    extent = image.shape[axis]
    if extent > size:
      start = (extent - size) // 2
      image = np.take(image, np.arange(start, start + size), axis=axis)
    elif extent < size:
      before = (size - extent) // 2
      pads = [(0, 0)] * image.ndim
      pads[axis] = (before, size - extent - before)
      image = np.pad(image, pads)
  return image


def resize(image: np.ndarray, size: int) -> np.ndarray:
  """Bilinear resize to size×size."""
  if image.shape[:2] == (size, size):
    return image
  channels = image.shape[-1]
  pil = Image.fromarray(image[..., 0] if channels == 1 else image)
  out = np.asarray(pil.resize((size, size), Image.BILINEAR))
  return out.reshape(size, size, channels)


def square_crop(image: np.ndarray, method: str,
                rng: np.random.Generator) -> np.ndarray:
  """A square crop for ImageNet (Compare GAN's `crop_method`).

  Args:
    image: [H, W, C].
    method: "middle" (the central square of the shorter side, Compare GAN's
      evaluation crop), "random" (that square at a random position),
      "distorted" (a random square covering 50–100 % of the image's area,
      clipped to the shorter side; Compare GAN's training crop) or "none".
    rng: draws the random crops.
  """
  h, w = image.shape[:2]
  if method == "none":
    return image
  if method == "middle":
    return center_crop(image, min(h, w))
  if method == "random":
    side = min(h, w)
  elif method == "distorted":
    side = min(h, w, round(np.sqrt(rng.uniform(0.5, 1.0) * h * w)))
  else:
    raise ValueError(f"Unknown crop method {method!r}; use middle, random, "
                     "distorted or none.")
  top = rng.integers(h - side + 1)
  left = rng.integers(w - side + 1)
  return image[top:top + side, left:left + side]
