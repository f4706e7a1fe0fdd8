"""DiffAugment (Zhao et al. 2020): differentiable transforms of D's inputs.

Pure functions of NHWC images in [-1, 1], as the paper's
`DiffAugment_pytorch.py` computes them (which takes NCHW): each transform
draws its parameters per image from a key, so a step's key fixes them. The
deterministic cores (`translate`, `cut_out`) take the parameters, for tests
and for other transforms (bCR's, `regularizers.BCR`). Gradients flow
through all of them to the images, so G learns through D's augmented view.
"""

from typing import Callable

import jax
import jax.numpy as jnp

Transform = Callable[[jax.Array, jax.Array], jax.Array]


def _uniform(rng: jax.Array, x: jax.Array) -> jax.Array:
  """One U[0, 1) number per image, shaped to broadcast over it."""
  return jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype)


def brightness(x: jax.Array, rng: jax.Array) -> jax.Array:
  """Adds U[-0.5, 0.5) to every pixel of an image."""
  return x + (_uniform(rng, x) - 0.5)


def saturation(x: jax.Array, rng: jax.Array) -> jax.Array:
  """Scales each pixel's deviation from its channel mean by U[0, 2)."""
  mean = jnp.mean(x, axis=-1, keepdims=True)
  return (x - mean) * (_uniform(rng, x) * 2) + mean


def contrast(x: jax.Array, rng: jax.Array) -> jax.Array:
  """Scales an image's deviation from its mean by U[0.5, 1.5)."""
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (_uniform(rng, x) + 0.5) + mean


def translate(x: jax.Array, shift_h: jax.Array,
              shift_w: jax.Array) -> jax.Array:
  """Image n moved down by shift_h[n] and right by shift_w[n] whole pixels;
  the pixels uncovered are 0."""
  def shifted(image, dh, dw):
    height, width = image.shape[:2]
    rows = jnp.arange(height) - dh
    cols = jnp.arange(width) - dw
    inside = (((rows >= 0) & (rows < height))[:, None] &
              ((cols >= 0) & (cols < width))[None, :])
    moved = image[jnp.clip(rows, 0, height - 1)][:, jnp.clip(cols, 0,
                                                             width - 1)]
    return jnp.where(inside[..., None], moved, 0)
  return jax.vmap(shifted)(x, shift_h, shift_w)


def _shift(size: int, ratio: float) -> int:
  return int(size * ratio + 0.5)


def translation(x: jax.Array, rng: jax.Array,
                ratio: float = 0.125) -> jax.Array:
  """Moves each image by whole pixels, uniform in [-r, r] per axis, r =
  round(ratio · size); zeros fill in."""
  h_rng, w_rng = jax.random.split(rng)
  num, height, width = x.shape[:3]
  shift_h, shift_w = _shift(height, ratio), _shift(width, ratio)
  return translate(x, jax.random.randint(h_rng, (num,), -shift_h,
                                         shift_h + 1),
                   jax.random.randint(w_rng, (num,), -shift_w, shift_w + 1))


def cut_out(x: jax.Array, center_h: jax.Array, center_w: jax.Array,
            size: tuple[int, int]) -> jax.Array:
  """Zeros, in image n, the size[0] × size[1] square whose top-left pixel
  is (center_h[n] − size[0] // 2, center_w[n] − size[1] // 2), where it
  lies inside the image."""
  rows = jnp.arange(x.shape[1])[None, :] - (center_h[:, None] - size[0] // 2)
  cols = jnp.arange(x.shape[2])[None, :] - (center_w[:, None] - size[1] // 2)
  cut = (((rows >= 0) & (rows < size[0]))[:, :, None] &
         ((cols >= 0) & (cols < size[1]))[:, None, :])
  return x * (1 - cut[..., None].astype(x.dtype))


def cutout(x: jax.Array, rng: jax.Array, ratio: float = 0.5) -> jax.Array:
  """Zeros a square of round(ratio · size) pixels per side at a uniform
  position in each image (the paper's centers: [0, size + 1 − side % 2))."""
  h_rng, w_rng = jax.random.split(rng)
  num, height, width = x.shape[:3]
  size = (_shift(height, ratio), _shift(width, ratio))
  return cut_out(
      x, jax.random.randint(h_rng, (num,), 0, height + 1 - size[0] % 2),
      jax.random.randint(w_rng, (num,), 0, width + 1 - size[1] % 2), size)


def flip(x: jax.Array, rng: jax.Array) -> jax.Array:
  """Mirrors each image left-right with probability 1/2."""
  flipped = jax.random.bernoulli(rng, 0.5, (x.shape[0], 1, 1, 1))
  return jnp.where(flipped, x[:, :, ::-1], x)


POLICIES: dict[str, tuple[Transform, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def parse_policy(policy: str) -> tuple[str, ...]:
  """The names of a comma-separated policy, checked against `POLICIES`."""
  names = tuple(name.strip() for name in policy.split(",") if name.strip())
  unknown = [name for name in names if name not in POLICIES]
  if unknown or not names:
    raise ValueError(f"DiffAugment policy {policy!r}: "
                     f"{', '.join(map(repr, unknown)) or 'empty'} not known; "
                     f"use a comma-separated list of {sorted(POLICIES)}.")
  return names


def diff_augment(x: jax.Array, rng: jax.Array, policy: str) -> jax.Array:
  """`x` through the transforms of `policy` (e.g. "color,translation,
  cutout"), in that order, each with its own key."""
  transforms = [t for name in parse_policy(policy) for t in POLICIES[name]]
  for i, transform in enumerate(transforms):
    x = transform(x, jax.random.fold_in(rng, i))
  return x
