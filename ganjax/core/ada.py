"""Adaptive discriminator augmentation's pipeline (Karras et al. 2020).

`augment(x, rng, p, groups)` is the `bgc` pipeline of stylegan2-ada-pytorch's
`training/augment.py`, on NHWC images in [-1, 1]: every transform of the
chosen groups is applied to each image with probability p (at the reference's
default strengths), the geometric ones composed into one inverse matrix
(`geometric_matrix`) and executed as one resampling, the colour ones into one
4 × 4 matrix (`color_matrix`). The random draws follow the reference's order
and distributions.

Deviation, stated: the reference resamples at twice the resolution between
sym6 wavelet filters (against aliasing); here the composed transform is
sampled bilinearly at the image's own resolution, with the reference's
mirror padding. Integer moves, flips and quarter turns are exact either way.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

# The reference's transform groups (train.py's augpipe_specs) and strengths
# (AugmentPipe's defaults).
GROUPS = {
    "blit": ("xflip", "rotate90", "xint"),
    "geom": ("scale", "rotate", "aniso", "xfrac"),
    "color": ("brightness", "contrast", "lumaflip", "hue", "saturation"),
}
PIPELINES = {"blit": ("blit",), "geom": ("geom",), "color": ("color",),
             "bg": ("blit", "geom"), "bgc": ("blit", "geom", "color")}
XINT_MAX, SCALE_STD, ROTATE_MAX, ANISO_STD, XFRAC_STD = 0.125, 0.2, 1.0, 0.2, 0.125
BRIGHTNESS_STD, CONTRAST_STD, HUE_MAX, SATURATION_STD = 0.2, 0.5, 1.0, 1.0


def transforms(pipeline: str) -> frozenset[str]:
  """The transforms of a pipeline name ("bgc", "bg", "blit", ...)."""
  if pipeline not in PIPELINES:
    raise ValueError(f"ADA pipeline {pipeline!r}: use one of "
                     f"{sorted(PIPELINES)}.")
  return frozenset(t for group in PIPELINES[pipeline] for t in GROUPS[group])


def _matrix(rows: list[list]) -> jax.Array:
  """[N, R, C] from rows of scalars and [N] arrays."""
  num = max(jnp.size(e) for row in rows for e in row)
  return jnp.stack([jnp.stack([jnp.broadcast_to(jnp.asarray(e, jnp.float32),
                                                (num,)) for e in row], -1)
                    for row in rows], -2)


def translate2d(tx, ty) -> jax.Array:
  return _matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]])


def scale2d(sx, sy) -> jax.Array:
  return _matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]])


def rotate2d(theta) -> jax.Array:
  c, s = jnp.cos(theta), jnp.sin(theta)
  return _matrix([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _where(rng: jax.Array, probability, value, identity) -> jax.Array:
  """`value` for the images that draw U[0, 1) < probability, else
  `identity` (the reference's torch.where(rand < p, …))."""
  num = value.shape[0]
  chosen = jax.random.uniform(rng, (num,)) < probability
  return jnp.where(chosen.reshape((num,) + (1,) * (value.ndim - 1)), value,
                   identity)


def geometric_matrix(rng: jax.Array, num: int, height: int, width: int,
                     p: jax.Array, enabled: frozenset[str]) -> jax.Array:
  """[num, 3, 3]: the inverse transforms (output pixel → input pixel, in
  pixels from the image's center) of the enabled geometric transforms, each
  drawn with probability p, composed in the reference's order."""
  keys = iter(jax.random.split(rng, 20))
  g_inv = jnp.broadcast_to(jnp.eye(3), (num, 3, 3))
  uniform = lambda shape=(num,): jax.random.uniform(next(keys), shape)
  normal = lambda shape=(num,): jax.random.normal(next(keys), shape)
  if "xflip" in enabled:
    i = _where(next(keys), p, jnp.floor(uniform() * 2), jnp.zeros(num))
    g_inv = g_inv @ scale2d(1 / (1 - 2 * i), 1)
  if "rotate90" in enabled:
    i = _where(next(keys), p, jnp.floor(uniform() * 4), jnp.zeros(num))
    g_inv = g_inv @ rotate2d(math.pi / 2 * i)
  if "xint" in enabled:
    t = _where(next(keys), p, (uniform((num, 2)) * 2 - 1) * XINT_MAX,
               jnp.zeros((num, 2)))
    g_inv = g_inv @ translate2d(-jnp.round(t[:, 0] * width),
                                -jnp.round(t[:, 1] * height))
  if "scale" in enabled:
    s = _where(next(keys), p, jnp.exp2(normal() * SCALE_STD), jnp.ones(num))
    g_inv = g_inv @ scale2d(1 / s, 1 / s)
  # Rotation before and after the anisotropic scaling, each with p_rot, so
  # that P(pre or post) = p.
  p_rot = 1 - jnp.sqrt(jnp.clip(1 - p, 0, 1))
  if "rotate" in enabled:
    theta = _where(next(keys), p_rot,
                   (uniform() * 2 - 1) * math.pi * ROTATE_MAX, jnp.zeros(num))
    g_inv = g_inv @ rotate2d(theta)
  if "aniso" in enabled:
    s = _where(next(keys), p, jnp.exp2(normal() * ANISO_STD), jnp.ones(num))
    g_inv = g_inv @ scale2d(1 / s, s)
  if "rotate" in enabled:
    theta = _where(next(keys), p_rot,
                   (uniform() * 2 - 1) * math.pi * ROTATE_MAX, jnp.zeros(num))
    g_inv = g_inv @ rotate2d(theta)
  if "xfrac" in enabled:
    t = _where(next(keys), p, normal((num, 2)) * XFRAC_STD,
               jnp.zeros((num, 2)))
    g_inv = g_inv @ translate2d(-t[:, 0] * width, -t[:, 1] * height)
  return g_inv


def resample(x: jax.Array, g_inv: jax.Array) -> jax.Array:
  """Image n at output pixel q is image n bilinearly sampled at
  g_inv[n] · q, coordinates in pixels from the image's center, outside the
  image mirrored (torch's "reflect" padding: the edge pixel not repeated)."""
  height, width = x.shape[1:3]
  cy, cx = (height - 1) / 2, (width - 1) / 2
  ys, xs = jnp.meshgrid(jnp.arange(height) - cy, jnp.arange(width) - cx,
                        indexing="ij")
  grid = jnp.stack([xs, ys, jnp.ones_like(xs)]).reshape(3, -1)

  def one(image, matrix):
    source = matrix @ grid
    coords = [source[1] + cy, source[0] + cx]
    channels = [jax.scipy.ndimage.map_coordinates(
        image[..., c], coords, order=1, mode="mirror")
                for c in range(image.shape[-1])]
    return jnp.stack(channels, -1).reshape(image.shape)
  return jax.vmap(one)(x, g_inv)


# The luma axis (NumPy: a module-level JAX array would start the backend
# at import, before a multi-host run can initialize it).
_LUMA = np.array([1, 1, 1, 0], np.float32) / math.sqrt(3)


def _rotate3d(v: jax.Array, theta: jax.Array) -> jax.Array:
  vx, vy, vz = v[0], v[1], v[2]
  s, c = jnp.sin(theta), jnp.cos(theta)
  cc = 1 - c
  return _matrix([[vx * vx * cc + c, vx * vy * cc - vz * s,
                   vx * vz * cc + vy * s, 0],
                  [vy * vx * cc + vz * s, vy * vy * cc + c,
                   vy * vz * cc - vx * s, 0],
                  [vz * vx * cc - vy * s, vz * vy * cc + vx * s,
                   vz * vz * cc + c, 0],
                  [0, 0, 0, 1]])


def color_matrix(rng: jax.Array, num: int, channels: int, p: jax.Array,
                 enabled: frozenset[str]) -> jax.Array:
  """[num, 4, 4]: the enabled colour transforms (homogeneous RGB), each drawn
  with probability p, composed in the reference's order; hue and saturation
  only for colour images."""
  keys = iter(jax.random.split(rng, 10))
  eye = jnp.eye(4)
  c_mat = jnp.broadcast_to(eye, (num, 4, 4))
  outer = jnp.outer(_LUMA, _LUMA)
  if "brightness" in enabled:
    b = _where(next(keys), p,
               jax.random.normal(next(keys), (num,)) * BRIGHTNESS_STD,
               jnp.zeros(num))
    c_mat = _matrix([[1, 0, 0, b], [0, 1, 0, b], [0, 0, 1, b],
                     [0, 0, 0, 1]]) @ c_mat
  if "contrast" in enabled:
    c = _where(next(keys), p, jnp.exp2(
        jax.random.normal(next(keys), (num,)) * CONTRAST_STD), jnp.ones(num))
    c_mat = _matrix([[c, 0, 0, 0], [0, c, 0, 0], [0, 0, c, 0],
                     [0, 0, 0, 1]]) @ c_mat
  if "lumaflip" in enabled:
    i = _where(next(keys), p,
               jnp.floor(jax.random.uniform(next(keys), (num,)) * 2),
               jnp.zeros(num))
    c_mat = (eye - 2 * outer * i[:, None, None]) @ c_mat
  if "hue" in enabled and channels > 1:
    theta = _where(next(keys), p, (jax.random.uniform(
        next(keys), (num,)) * 2 - 1) * math.pi * HUE_MAX, jnp.zeros(num))
    c_mat = _rotate3d(_LUMA, theta) @ c_mat
  if "saturation" in enabled and channels > 1:
    s = _where(next(keys), p, jnp.exp2(
        jax.random.normal(next(keys), (num,)) * SATURATION_STD),
               jnp.ones(num))
    c_mat = (outer + (eye - outer) * s[:, None, None]) @ c_mat
  return c_mat


def apply_color(x: jax.Array, c_mat: jax.Array) -> jax.Array:
  """Each image's pixels through its colour matrix: RGB as homogeneous
  3-vectors; one channel as the reference does it, the mean of the RGB
  rows (gain: the sum of that row's colour part, offset: its last entry)."""
  if x.shape[-1] == 3:
    return (jnp.einsum("nij,nhwj->nhwi", c_mat[:, :3, :3], x) +
            c_mat[:, None, None, :3, 3])
  if x.shape[-1] != 1:
    raise ValueError("ADA's colour transforms need RGB or one-channel "
                     f"images, not {x.shape[-1]} channels.")
  row = jnp.mean(c_mat[:, :3, :], axis=1)
  return (x * jnp.sum(row[:, :3], -1)[:, None, None, None] +
          row[:, 3][:, None, None, None])


def augment(x: jax.Array, rng: jax.Array, p: jax.Array,
            enabled: frozenset[str]) -> jax.Array:
  """`x` through the enabled transforms, each with probability p."""
  geom_rng, color_rng = jax.random.split(rng)
  num, height, width, channels = x.shape
  if enabled & set(GROUPS["blit"] + GROUPS["geom"]):
    x = resample(x, geometric_matrix(geom_rng, num, height, width, p,
                                     enabled))
  if enabled & set(GROUPS["color"]):
    x = apply_color(x, color_matrix(color_rng, num, channels, p, enabled))
  return x
