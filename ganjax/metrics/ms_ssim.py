"""MS-SSIM (Wang et al. 2003) and Compare GAN's sample-diversity score.

Computed as `tf.image.ssim_multiscale` does with its defaults, the setting of
Compare GAN (Kurach et al. 2019) and Fedus et al. 2018: an 11-px Gaussian
window of σ 1.5 applied VALID, k1 = 0.01, k2 = 0.03, biased (MATLAB-style)
local covariances, and 5 scales with the paper's power factors. Between scales
each image is padded SYMMETRIC by one row/column where its height/width is odd
and 2×2 average-pooled. Per scale and channel, cs is the spatial mean of the
contrast-structure map; at the coarsest scale it is replaced by the mean SSIM
map (luminance × cs). Both are clamped at 0 (relu) before the weighted
geometric mean, and the result is averaged over channels.

The fifth scale must still hold the 11-px window, so both sides need
⌈side / 16⌉ ≥ 11, i.e. side ≥ 161 (`MIN_SIZE`); TF fails below that.
Compare GAN's own copy (`metrics/image_similarity.py`) instead shrinks the
window to min(11, height, width) at each scale, σ unchanged, which is how it
scores 64×64 samples; `shrink_window=True` selects that variant, identical to
TF's from 161 px up.

The diversity score (Compare GAN's `metrics/ms_ssim_score.py`, Fedus et al.
§5.3) averages MS-SSIM over all ordered pairs of distinct images in each of 5
shuffled batches of 64 samples; lower means more diverse samples.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE = 11
FILTER_SIGMA = 1.5
K1 = 0.01
K2 = 0.03
# Smallest side whose fifth scale, ⌈side / 16⌉, still fits the 11-px window.
MIN_SIZE = 161
# Elements of one image-sized array per pair chunk (≈ 16 MiB in float32).
_CHUNK_ELEMENTS = 1 << 22


def _scale_sizes(height: int, width: int) -> list[tuple[int, int]]:
  sizes = [(height, width)]
  for _ in POWER_FACTORS[1:]:
    height, width = -(-height // 2), -(-width // 2)
    sizes.append((height, width))
  return sizes


def _window(size: int) -> np.ndarray:
  """1-D Gaussian taps; their outer product is TF's `_fspecial_gauss`."""
  coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
  taps = np.exp(-0.5 * np.square(coords / FILTER_SIGMA))
  return (taps / taps.sum()).astype(np.float32)


def _windows(height: int, width: int,
             shrink_window: bool) -> list[np.ndarray]:
  """Per-scale windows; raises ValueError where TF's would not fit."""
  sizes = _scale_sizes(height, width)
  if not shrink_window and min(sizes[-1]) < FILTER_SIZE:
    raise ValueError(
        f"MS-SSIM needs images of at least {MIN_SIZE}×{MIN_SIZE} pixels: its "
        f"{len(POWER_FACTORS)}th scale of a {height}×{width} image is "
        f"{sizes[-1][0]}×{sizes[-1][1]}, smaller than the {FILTER_SIZE}-px "
        "window. Pass shrink_window=True for Compare GAN's variant, which "
        "narrows the window to fit small images.")
  return [_window(min(FILTER_SIZE, *size) if shrink_window else FILTER_SIZE)
          for size in sizes]


def _downsample(x: jax.Array) -> jax.Array:
  """TF's step between scales: SYMMETRIC pad of odd sides, 2×2 average pool."""
  n, height, width, channels = x.shape
  x = jnp.pad(x, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)),
              mode="symmetric")
  height, width = x.shape[1] // 2, x.shape[2] // 2
  return x.reshape(n, height, 2, width, 2, channels).mean(axis=(2, 4))


def _band(taps: np.ndarray, size: int) -> np.ndarray:
  """[size - len(taps) + 1, size] matrix applying taps VALID along an axis."""
  band = np.zeros((size - len(taps) + 1, size), np.float32)
  for i in range(len(band)):
    band[i, i:i + len(taps)] = taps
  return band


def _blur(x: jax.Array, taps: np.ndarray) -> jax.Array:
  """VALID Gaussian filtering of [N, H, W, C], one separable pass per axis.

  Each pass is a product with a banded matrix: more arithmetic than a
  convolution, but matrix products are what XLA runs fastest on the CPU.
  """
  x = jnp.einsum("ph,nhwc->npwc", _band(taps, x.shape[1]), x,
                 precision=jax.lax.Precision.HIGHEST)
  return jnp.einsum("qw,npwc->npqc", _band(taps, x.shape[2]), x,
                    precision=jax.lax.Precision.HIGHEST)


def _image_stats(x: jax.Array, windows: list[np.ndarray]):
  """Per-image terms of every scale: the pyramid, local means and variances.

  Each level is also stored centred on its per-channel mean, so the local
  (co)variances are formed from small numbers: mathematically the same as TF's
  E[xy] - E[x]E[y], with less float32 cancellation. One blur per scale
  filters the three maps stacked along channels.
  """
  stats = []
  for k, taps in enumerate(windows):
    if k > 0:
      x = _downsample(x)
    centred = x - jnp.mean(x, axis=(1, 2), keepdims=True)
    mean, centred_mean, centred_square = jnp.split(
        _blur(jnp.concatenate([x, centred, jnp.square(centred)], axis=-1),
              taps), 3, axis=-1)
    stats.append({
        "centred": centred,
        "mean": mean,
        "centred_mean": centred_mean,
        "variance": centred_square - jnp.square(centred_mean),
    })
  return stats


def _pair_scores(stats_a, stats_b, windows: list[np.ndarray],
                 max_val) -> jax.Array:
  """MS-SSIM of stats_a[i] against stats_b[i], for every i."""
  c1 = jnp.square(K1 * max_val)
  c2 = jnp.square(K2 * max_val)
  factors = []
  for k, (a, b, taps) in enumerate(zip(stats_a, stats_b, windows)):
    covariance = (_blur(a["centred"] * b["centred"], taps)
                  - a["centred_mean"] * b["centred_mean"])
    cs = (2.0 * covariance + c2) / (a["variance"] + b["variance"] + c2)
    if k < len(windows) - 1:
      value = jnp.mean(cs, axis=(1, 2))
    else:
      luminance = ((2.0 * a["mean"] * b["mean"] + c1)
                   / (jnp.square(a["mean"]) + jnp.square(b["mean"]) + c1))
      value = jnp.mean(luminance * cs, axis=(1, 2))
    factors.append(jnp.power(jax.nn.relu(value), POWER_FACTORS[k]))
  return jnp.mean(functools.reduce(jnp.multiply, factors), axis=-1)


@functools.partial(jax.jit, static_argnames="shrink_window")
def _ms_ssim(a: jax.Array, b: jax.Array, max_val: jax.Array,
             shrink_window: bool) -> jax.Array:
  windows = _windows(a.shape[1], a.shape[2], shrink_window)
  stats = _image_stats(jnp.concatenate([a, b]), windows)
  first = jax.tree.map(lambda s: s[:len(a)], stats)
  second = jax.tree.map(lambda s: s[len(a):], stats)
  return _pair_scores(first, second, windows, max_val)


def ms_ssim(a: jax.typing.ArrayLike, b: jax.typing.ArrayLike,
            max_val: float = 255.0, *,
            shrink_window: bool = False) -> jax.Array:
  """MS-SSIM of a[i] and b[i], as `tf.image.ssim_multiscale` computes it.

  Args:
    a, b: [N, H, W, C] image batches (float or integer) with values in
      [0, max_val]; H and W at least `MIN_SIZE` unless shrink_window.
    max_val: the dynamic range of the values.
    shrink_window: narrow the window to each scale's size, as Compare GAN's
      `image_similarity.multiscale_ssim` does, so that small images work.

  Returns:
    [N] float32 scores in [0, 1]; 1 for identical images.
  """
  a = jnp.asarray(a, jnp.float32)
  b = jnp.asarray(b, jnp.float32)
  if a.ndim != 4 or a.shape != b.shape:
    raise ValueError(f"Expected two [N, H, W, C] batches of one shape, got "
                     f"{a.shape} and {b.shape}.")
  _windows(a.shape[1], a.shape[2], shrink_window)  # Raises if too small.
  return _ms_ssim(a, b, jnp.float32(max_val), shrink_window=shrink_window)


@functools.partial(jax.jit, static_argnames="shrink_window")
def _batch_stats(images: jax.Array, shrink_window: bool):
  windows = _windows(images.shape[1], images.shape[2], shrink_window)
  return _image_stats(images.astype(jnp.float32), windows)


@functools.partial(jax.jit, static_argnames=("height", "width",
                                             "shrink_window"))
def _chunk_sum(stats, first: jax.Array, second: jax.Array, valid: jax.Array,
               height: int, width: int, shrink_window: bool) -> jax.Array:
  """Sum of MS-SSIM over the valid pairs (first[p], second[p]) of a chunk."""
  windows = _windows(height, width, shrink_window)
  take = lambda index: jax.tree.map(lambda s: s[index], stats)
  scores = _pair_scores(take(first), take(second), windows, 255.0)
  return jnp.sum(jnp.where(valid, scores, 0.0))


def _batch_diversity(batch: np.ndarray, shrink_window: bool) -> float:
  """Mean MS-SSIM over the ordered pairs of distinct images of one batch.

  MS-SSIM is symmetric, so this is the mean over the unordered pairs i < j,
  evaluated in chunks of a fixed number of pairs (one compilation).
  """
  n, height, width, channels = batch.shape
  stats = _batch_stats(jnp.asarray(batch), shrink_window=shrink_window)
  first, second = np.triu_indices(n, k=1)
  num_pairs = len(first)
  chunk = int(np.clip(_CHUNK_ELEMENTS // (height * width * channels), 1,
                      num_pairs))
  padded = -(-num_pairs // chunk) * chunk
  valid = np.arange(padded) < num_pairs
  first = np.pad(first, (0, padded - num_pairs))
  second = np.pad(second, (0, padded - num_pairs))
  total = 0.0
  for start in range(0, padded, chunk):
    window = slice(start, start + chunk)
    total += float(_chunk_sum(stats, first[window], second[window],
                              valid[window], height=height, width=width,
                              shrink_window=shrink_window))
  return total / num_pairs


def ms_ssim_diversity(images: np.ndarray, rng: np.random.Generator,
                      num_batches: int = 5, batch_size: int = 64, *,
                      shrink_window: bool = False) -> dict[str, float]:
  """Compare GAN's MS-SSIM diversity of generated images (lower: more diverse).

  Args:
    images: [N, H, W, C] generated images with values in [0, 255] (uint8),
      N ≥ batch_size; H and W at least `MIN_SIZE` unless shrink_window.
    rng: draws the shuffled batches. They are disjoint when N holds
      num_batches · batch_size images, else each is drawn afresh.
    num_batches: number of batches averaged.
    batch_size: images per batch; each batch contributes the mean over its
      batch_size · (batch_size - 1) ordered pairs of distinct images.
    shrink_window: Compare GAN's small-image variant, see `ms_ssim`.

  Returns:
    {"ms_ssim": mean MS-SSIM over the batches}.
  """
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f"Expected [N, H, W, C] images, got {images.shape}.")
  if batch_size < 2:
    raise ValueError(f"MS-SSIM diversity needs pairs: batch_size {batch_size}.")
  if len(images) < batch_size:
    raise ValueError(f"MS-SSIM diversity needs at least one batch of "
                     f"{batch_size} images, got {len(images)}.")
  _windows(images.shape[1], images.shape[2], shrink_window)  # Raises.
  if len(images) >= num_batches * batch_size:
    order = rng.permutation(len(images))[:num_batches * batch_size]
    batches = order.reshape(num_batches, batch_size)
  else:
    batches = [rng.permutation(len(images))[:batch_size]
               for _ in range(num_batches)]
  scores = [_batch_diversity(images[index], shrink_window)
            for index in batches]
  return {"ms_ssim": float(np.mean(scores))}
