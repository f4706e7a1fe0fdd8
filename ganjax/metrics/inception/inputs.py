"""Images → the FID Inception's input, as the reference implementations do.

uint8 [N, H, W, C] images (C = 1 is tiled to 3 channels, as Compare GAN does
for MNIST) are resized to 299×299 and scaled. The method decides whether
numbers compare with published ones:
- "tf" (default): TensorFlow 1's `resize_bilinear` without half-pixel
  centres, then (x − 128)/128, both of which the `inception-2015-12-05` graph
  does inside itself: TTUR's and Compare GAN's FIDs;
- "pytorch": pytorch-fid's `F.interpolate(mode="bilinear",
  align_corners=False)` (half-pixel centres), then its x/127.5 − 1;
- "clean": clean-fid's PIL bicubic with antialiasing, per channel in float,
  then (x − 128)/128 as its Inception does.
Neither bilinear mode antialiases, as in the references. The bilinear modes
are two small matmuls per image inside the jit-compiled feature extractor;
"clean" runs on the host with PIL.
"""

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

SIZE = 299
METHODS = ("tf", "pytorch", "clean")


def resize_matrix(in_size: int, out_size: int, method: str) -> np.ndarray:
  """[out, in] bilinear interpolation weights along one axis."""
  scale = in_size / out_size
  dst = np.arange(out_size, dtype=np.float64)
  if method == "tf":
    src = dst * scale
  elif method == "pytorch":
    src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
  else:
    raise ValueError(f"Unknown bilinear resize {method!r}; use 'tf' or "
                     "'pytorch'.")
  lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
  hi = np.minimum(lo + 1, in_size - 1)
  frac = src - lo
  weights = np.zeros((out_size, in_size))
  np.add.at(weights, (np.arange(out_size), lo), 1.0 - frac)
  np.add.at(weights, (np.arange(out_size), hi), frac)
  return weights.astype(np.float32)


def check_images(images: np.ndarray) -> None:
  """Raises, naming the problem, unless these are uint8 NHWC images."""
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"Expected uint8 images [N, H, W, 1 or 3], got shape "
                     f"{images.shape}.")
  if images.dtype != np.uint8:
    raise ValueError(f"Expected uint8 images, got {images.dtype}; convert "
                     "generator outputs in [-1, 1] with samples.to_uint8.")


def clean_resize(images: np.ndarray) -> np.ndarray:
  """clean-fid's resize: PIL bicubic (antialiased) per channel, in float,
  clipped to [0, 255]."""
  out = np.empty((len(images), SIZE, SIZE, images.shape[-1]), np.float32)
  for n, image in enumerate(images.astype(np.float32)):
    for c in range(images.shape[-1]):
      channel = Image.fromarray(image[..., c], mode="F")
      out[n, ..., c] = np.asarray(
          channel.resize((SIZE, SIZE), Image.Resampling.BICUBIC))
  return np.clip(out, 0.0, 255.0)


def preprocess(images: jax.Array, method: str = "tf") -> jax.Array:
  """[N, 299, 299, 3] float32 Inception input from [N, H, W, C] pixels.

  `images` holds values in [0, 255] (uint8, or float after clean_resize). For
  "clean", pass images already resized by `clean_resize`.
  """
  x = images.astype(jnp.float32)
  h, w = x.shape[1:3]
  if method != "clean" and (h, w) != (SIZE, SIZE):
    rows = jnp.asarray(resize_matrix(h, SIZE, method))
    cols = jnp.asarray(resize_matrix(w, SIZE, method))
    x = jnp.einsum("oh,nhwc->nowc", rows, x, precision="highest")
    x = jnp.einsum("pw,nowc->nopc", cols, x, precision="highest")
  elif x.shape[1:3] != (SIZE, SIZE):
    raise ValueError("'clean' preprocessing takes images already resized by "
                     "clean_resize.")
  if x.shape[-1] == 1:
    x = jnp.repeat(x, 3, axis=-1)
  if method == "pytorch":
    return x / 127.5 - 1.0
  return (x - 128.0) / 128.0
