"""k-NN precision, recall, density and coverage of generated features.

Improved precision and recall (Kynkäänniemi et al. 2019, k = 3) and density
and coverage (Naeem et al. 2020, k = 5), as `clovaai/generative-evaluation-
prdc` computes them. Each real point X_i gets the ball of radius r_i, its
distance to its k-th nearest real neighbour other than itself; balls are open
(distance < radius).

- precision: fraction of fake points inside at least one real ball.
- recall: fraction of real points inside at least one fake ball (radii from
  the fake points' own k-NN).
- density: (1 / (k M)) Σ_j Σ_i 1[‖Y_j − X_i‖ < r_i]; 1 in expectation when
  fake and real are identically distributed.
- coverage: fraction of real balls containing at least one fake point.

Distances come from ‖x‖² + ‖y‖² − 2 xᵀy in float64, clipped at 0, a block of
rows at a time, so 10k × 10k points of 2048 dimensions need only
block_size × N distances in memory. Squared distances are compared with
squared radii, which orders them exactly as the distances.
"""

from collections.abc import Iterator

import numpy as np

from ganjax.metrics import feature_checks


def _check(real: np.ndarray, fake: np.ndarray, k: int,
           fake_balls: bool) -> None:
  """Validates [N, D] real and [M, D] fake features for k-NN balls."""
  feature_checks.check_pair(real, fake)
  for what, features, balls in (("real", real, True),
                                ("generated", fake, fake_balls)):
    if balls and not 1 <= k < len(features):
      raise ValueError(f"k must be in [1, {len(features) - 1}] for "
                       f"{len(features)} {what} points, got {k}")


def _blocks(n: int, block_size: int) -> Iterator[slice]:
  """Consecutive slices of at most block_size rows covering range(n)."""
  for start in range(0, n, block_size):
    yield slice(start, min(start + block_size, n))


def _squared_distances(x: np.ndarray, x_norms: np.ndarray, y: np.ndarray,
                       y_norms: np.ndarray) -> np.ndarray:
  """[len(x), len(y)] squared Euclidean distances, given squared norms."""
  return np.maximum(x_norms[:, None] + y_norms[None, :] - 2.0 * (x @ y.T), 0.0)


def _squared_norms(x: np.ndarray) -> np.ndarray:
  """[N] squared Euclidean norms of the rows of x."""
  return np.einsum("ij,ij->i", x, x)


def _knn_squared_radii(features: np.ndarray, norms: np.ndarray, k: int,
                       block_size: int) -> np.ndarray:
  """Squared distance of each point to its k-th nearest other point."""
  radii = np.empty(len(features))
  for rows in _blocks(len(features), block_size):
    distances = _squared_distances(features[rows], norms[rows], features,
                                   norms)
    # The point itself, at distance exactly 0, is the 0-th order statistic.
    own = np.arange(rows.start, rows.stop)
    distances[own - rows.start, own] = 0.0
    radii[rows] = np.partition(distances, k, axis=1)[:, k]
  return radii


def _ball_statistics(real: np.ndarray, fake: np.ndarray, k: int,
                     block_size: int, with_recall: bool
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
  """Counts and flags from which all four metrics are means.

  Returns:
    ([M] number of real balls holding each fake point, [N] whether each real
     ball holds a fake point, [N] whether each real point lies in some fake
     ball, or None unless with_recall).
  """
  real = np.asarray(real, np.float64)
  fake = np.asarray(fake, np.float64)
  _check(real, fake, k, fake_balls=with_recall)
  real_norms, fake_norms = _squared_norms(real), _squared_norms(fake)
  real_radii = _knn_squared_radii(real, real_norms, k, block_size)
  fake_radii = (_knn_squared_radii(fake, fake_norms, k, block_size)
                if with_recall else None)
  balls_per_fake = np.empty(len(fake), np.int64)
  covered = np.zeros(len(real), bool)
  recalled = np.zeros(len(real), bool) if with_recall else None
  for rows in _blocks(len(fake), block_size):
    distances = _squared_distances(fake[rows], fake_norms[rows], real,
                                   real_norms)
    inside_real_balls = distances < real_radii[None, :]
    balls_per_fake[rows] = inside_real_balls.sum(axis=1)
    covered |= inside_real_balls.any(axis=0)
    if with_recall:
      recalled |= (distances < fake_radii[rows, None]).any(axis=0)
  return balls_per_fake, covered, recalled


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3,
                     block_size: int = 1024) -> dict[str, float]:
  """Improved precision and recall (Kynkäänniemi et al. 2019).

  Args:
    real: [N, D] features of real images, N > k.
    fake: [M, D] features of generated images, M > k.
    k: neighbour whose distance sets each ball's radius.
    block_size: rows of distances computed at a time.

  Returns:
    {"precision": fraction of fake points in the real manifold,
     "recall": fraction of real points in the fake manifold}.

  Raises:
    ValueError: on mismatched shapes, non-finite features or k too large.
  """
  balls_per_fake, _, recalled = _ball_statistics(real, fake, k, block_size,
                                                 with_recall=True)
  return {"precision": float(np.mean(balls_per_fake > 0)),
          "recall": float(np.mean(recalled))}


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5,
                     block_size: int = 1024) -> dict[str, float]:
  """Density and coverage (Naeem et al. 2020).

  Args:
    real: [N, D] features of real images, N > k.
    fake: [M, D] features of generated images, M >= 1.
    k: neighbour whose distance sets each real ball's radius.
    block_size: rows of distances computed at a time.

  Returns:
    {"density": mean number of real balls per fake point, over k,
     "coverage": fraction of real balls holding a fake point}.

  Raises:
    ValueError: on mismatched shapes, non-finite features or k too large.
  """
  balls_per_fake, covered, _ = _ball_statistics(real, fake, k, block_size,
                                                with_recall=False)
  return {"density": float(balls_per_fake.sum() / (k * len(balls_per_fake))),
          "coverage": float(np.mean(covered))}
