"""PGGAN's sliced Wasserstein distance between image sets (Karras et al. 2018).

As PGGAN's `metrics/sliced_wasserstein.py` computes it: each image set is
decomposed into a Laplacian pyramid whose levels run from the image resolution
down to 16 px (the coarsest level is the low-pass residual), filtered with the
5×5 binomial kernel ([1, 4, 6, 4, 1] / 16 per axis) and mirror boundaries, as
`cv2.pyrDown`/`pyrUp` do. Per level, 128 random 7×7 neighbourhoods per image
give descriptors of 7·7·C values, normalized per channel by the mean and
standard deviation over all descriptors of their set. The SWD between the real
and fake descriptors averages, over 512 random unit directions drawn in 4
repeats of 128, the 1-D Wasserstein-1 distance of the projections: the mean
absolute difference of the sorted projected values. Reported ×1e3.

The per-channel normalization removes any global shift or scaling of a colour
channel, so SWD sees the structure of neighbourhoods, not brightness.
"""

import numpy as np

_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16.0
PATCH_SIZE = 7
MIN_RESOLUTION = 16


def _binomial_filter(x: np.ndarray) -> np.ndarray:
  """[N, H, W, C] filtered by the 5×5 binomial kernel, mirror boundaries."""
  radius = len(_BINOMIAL) // 2
  height, width = x.shape[1:3]
  x = np.pad(x, ((0, 0), (radius, radius), (0, 0), (0, 0)), mode="reflect")
  x = sum(t * x[:, i:i + height] for i, t in enumerate(_BINOMIAL))
  x = np.pad(x, ((0, 0), (0, 0), (radius, radius), (0, 0)), mode="reflect")
  return sum(t * x[:, :, i:i + width] for i, t in enumerate(_BINOMIAL))


def _pyr_up(x: np.ndarray, height: int, width: int) -> np.ndarray:
  """Zero-insertion upsampling to [N, height, width, C], then 4× the filter."""
  up = np.zeros((x.shape[0], height, width, x.shape[3]), x.dtype)
  up[:, ::2, ::2] = x
  return 4.0 * _binomial_filter(up)


def num_levels(height: int) -> int:
  """PGGAN's pyramid depth: halve the resolution while it is at least 16."""
  levels = 0
  while height >= MIN_RESOLUTION:
    levels += 1
    height //= 2
  return levels


def laplacian_pyramid(images: np.ndarray, levels: int) -> list[np.ndarray]:
  """Band-pass levels of [N, H, W, C] images, finest first, float32.

  The last level is the low-pass residual; pyramid levels sum back (after
  upsampling) to the images.
  """
  pyramid = [np.asarray(images, np.float32)]
  for _ in range(1, levels):
    pyramid.append(_binomial_filter(pyramid[-1])[:, ::2, ::2])
    pyramid[-2] = pyramid[-2] - _pyr_up(pyramid[-1], *pyramid[-2].shape[1:3])
  return pyramid


def _descriptors(level: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray) -> np.ndarray:
  """[N·D, 7·7·C] neighbourhoods centred at (rows, cols), normalized.

  rows, cols: [N, D] centres; the 7×7 neighbourhoods lie inside the level.
  """
  offsets = np.arange(PATCH_SIZE) - PATCH_SIZE // 2
  image = np.arange(len(level))[:, None, None, None]
  patches = level[image, rows[..., None, None] + offsets[:, None],
                  cols[..., None, None] + offsets[None, :]]
  patches = patches.reshape((-1,) + patches.shape[2:])  # [N·D, 7, 7, C].
  # Statistics accumulated in float64: float32 sums over ~10⁵ values drift.
  mean = patches.mean(axis=(0, 1, 2), dtype=np.float64)
  std = patches.std(axis=(0, 1, 2), dtype=np.float64)
  # A constant channel carries nothing; PGGAN would divide by zero.
  std = np.where(std > 0, std, 1.0)
  patches = ((patches - mean) / std).astype(np.float32)
  return patches.reshape(len(patches), -1)


def projected_distances(a: np.ndarray, b: np.ndarray,
                        directions: np.ndarray) -> np.ndarray:
  """Wasserstein-1 distance between a and b projected on each direction.

  Args:
    a, b: [M, D] descriptor sets of the same size.
    directions: [D, K] unit directions.

  Returns:
    [K] distances: mean |sorted(a·d) - sorted(b·d)|, the 1-D W1 distance of
    two equally sized empirical distributions.
  """
  # [K, M]: each direction's projections contiguous, for a fast sort.
  projected_a = np.sort(directions.T @ a.T, axis=1)
  projected_b = np.sort(directions.T @ b.T, axis=1)
  return np.mean(np.abs(projected_a - projected_b), axis=1)


def _swd(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
         num_directions: int, num_repeats: int) -> float:
  """Mean projected distance over num_repeats batches of random directions."""
  distances = []
  for _ in range(num_repeats):
    directions = rng.standard_normal(
        (a.shape[1], num_directions // num_repeats))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    distances.append(projected_distances(a, b, directions.astype(a.dtype)))
  return float(np.mean(distances))


def sliced_wasserstein(real_images: np.ndarray, fake_images: np.ndarray,
                       rng: np.random.Generator,
                       descriptors_per_image: int = 128,
                       num_directions: int = 512,
                       num_repeats: int = 4) -> dict[str, float]:
  """PGGAN's SWD×1e3 between real and fake images, per pyramid level.

  Args:
    real_images, fake_images: [N, H, W, C] uint8 images, the same shape, with
      H, W ≥ 16.
    rng: draws the neighbourhoods and the directions. Real image i and fake
      image i share neighbourhood positions, so identical sets score 0.
    descriptors_per_image: 7×7 neighbourhoods drawn from each image per level.
    num_directions: random directions in all, drawn in num_repeats batches
      (PGGAN: 4 × 128).
    num_repeats: batches of directions.

  Returns:
    {"swd_<height>": SWD×1e3 of the level of that height, from H down to
     16, "swd_mean": their mean}.
  """
  real_images, fake_images = np.asarray(real_images), np.asarray(fake_images)
  if real_images.ndim != 4 or real_images.shape != fake_images.shape:
    raise ValueError(f"Expected real and fake [N, H, W, C] images of one "
                     f"shape, got {real_images.shape} and "
                     f"{fake_images.shape}.")
  n, height, width, _ = real_images.shape
  if min(height, width) < MIN_RESOLUTION:
    raise ValueError(f"SWD needs images of at least {MIN_RESOLUTION}×"
                     f"{MIN_RESOLUTION} pixels, got {height}×{width}.")
  if num_directions % num_repeats:
    raise ValueError(f"num_directions {num_directions} is not a multiple of "
                     f"num_repeats {num_repeats}.")
  levels = num_levels(height)
  real_pyramid = laplacian_pyramid(real_images, levels)
  fake_pyramid = laplacian_pyramid(fake_images, levels)
  radius = PATCH_SIZE // 2
  scores = {}
  for real, fake in zip(real_pyramid, fake_pyramid):
    level_height, level_width = real.shape[1:3]
    rows = rng.integers(radius, level_height - radius,
                        (n, descriptors_per_image))
    cols = rng.integers(radius, level_width - radius,
                        (n, descriptors_per_image))
    distance = _swd(_descriptors(real, rows, cols),
                    _descriptors(fake, rows, cols), rng, num_directions,
                    num_repeats)
    scores[f"swd_{level_height}"] = 1e3 * distance
  scores["swd_mean"] = float(np.mean(list(scores.values())))
  return scores
