"""Kernel Inception Distance (Bińkowski et al. 2018) on precomputed features.

KID is the unbiased estimate of the squared MMD between real and generated
features under the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³. As in
clean-fid and StyleGAN2-ADA's kid50k, it is averaged over `num_subsets` random
subsets of `subset_size` points from each set, drawn without replacement; the
spread over subsets is reported as in the paper's code (np.std, ddof=0). It
is unbiased, so it can be negative when the distributions match.
"""

import numpy as np

from ganjax.metrics import feature_checks


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """[N, M] matrix of (xᵀy / d + 1)³."""
  return (x @ y.T / x.shape[1] + 1.0)**3


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
  """Unbiased MMD² between [m, D] x and [n, D] y under the cubic kernel.

  The within-set means leave out the diagonal k(x_i, x_i); the cross term
  averages over all m·n pairs.

  Args:
    x: [m, D] samples, m >= 2.
    y: [n, D] samples, n >= 2.

  Returns:
    The MMD²_u estimate.
  """
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  m, n = len(x), len(y)
  k_xx, k_yy = _polynomial_kernel(x, x), _polynomial_kernel(y, y)
  return float(
      (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
      + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
      - 2.0 * _polynomial_kernel(x, y).mean())


def kernel_distance(real_features: np.ndarray, fake_features: np.ndarray,
                    rng: np.random.Generator | None = None,
                    num_subsets: int = 100,
                    subset_size: int = 1000) -> dict[str, float]:
  """KID between [N, D] real and [M, D] generated features.

  Args:
    real_features: [N, D] features of real images.
    fake_features: [M, D] features of generated images.
    rng: draws the subsets; None uses `np.random.default_rng(0)`, so that
      repeated evaluations of the same features agree.
    num_subsets: number of subset pairs averaged over.
    subset_size: points per subset, capped at min(N, M); at least 2.

  Returns:
    {"kid": mean MMD² over subsets, "kid_std": its standard deviation over
     subsets}.

  Raises:
    ValueError: on mismatched shapes, non-finite features or fewer than 2
      points per subset.
  """
  real_features = np.asarray(real_features, np.float64)
  fake_features = np.asarray(fake_features, np.float64)
  feature_checks.check_pair(real_features, fake_features)
  size = min(len(real_features), len(fake_features), subset_size)
  if size < 2:
    raise ValueError(f"KID needs subsets of at least 2 points, got {size}")
  if rng is None:
    rng = np.random.default_rng(0)
  estimates = np.array([
      polynomial_mmd2(
          real_features[rng.choice(len(real_features), size, replace=False)],
          fake_features[rng.choice(len(fake_features), size, replace=False)])
      for _ in range(num_subsets)])
  return {"kid": float(estimates.mean()), "kid_std": float(estimates.std())}
