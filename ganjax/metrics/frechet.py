"""Fréchet Inception Distance (Heusel et al. 2017) on precomputed features.

FID is the Fréchet (2-Wasserstein) distance between Gaussians fitted to real
and generated Inception pool3 features:
‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr sqrt(Σ1 Σ2). Tr sqrt(Σ1 Σ2) is computed as
TF-GAN does, through the symmetric PSD matrix sqrt(Σ1) Σ2 sqrt(Σ1), which has
the same eigenvalues as Σ1 Σ2: it is real by construction and stays accurate
when a covariance is rank-deficient (fewer samples than dimensions), where
pytorch-fid's `scipy.linalg.sqrtm(Σ1 Σ2)` may return complex noise.
"""

import numpy as np

from ganjax.metrics import feature_checks
import scipy.linalg


def _check_finite(array: np.ndarray, what_contains: str) -> None:
  """Raises "<what_contains> NaN" if `array` holds a NaN (or "… inf")."""
  for problem, test in (("NaN", np.isnan), ("inf", np.isinf)):
    if test(array).any():
      raise ValueError(f"{what_contains} {problem}")


def _check_features(features: np.ndarray, what: str) -> None:
  """Checks that `features` is a finite [N, D] array with N >= 2."""
  if features.ndim != 2:
    raise ValueError(f"{what} must be [N, D], got shape {features.shape}")
  if features.shape[0] < 2:
    raise ValueError(f"{what} need at least 2 rows for a covariance, got "
                     f"{features.shape[0]}")
  _check_finite(features, f"{what} contain")


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean and unbiased (N − 1) covariance of [N, D] features, in float64.

  Args:
    features: [N, D] feature vectors, N >= 2.

  Returns:
    ([D] mean, [D, D] covariance), as `np.mean(axis=0)` and
    `np.cov(rowvar=False)` give them.
  """
  features = np.asarray(features, np.float64)
  _check_features(features, "the features")
  # atleast_2d: np.cov returns a 0-d array when D == 1.
  return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
  """Tr(sqrt(Σ1 Σ2)) for symmetric PSD Σ1, Σ2, as TF-GAN computes it.

  With A = sqrt(Σ1), A Σ2 A is symmetric PSD and similar to Σ1 Σ2, so the
  trace of the square root is the sum of the square roots of its eigenvalues.
  Eigenvalues that round-off makes slightly negative are clipped to 0.

  Args:
    sigma1: [D, D] covariance.
    sigma2: [D, D] covariance.

  Returns:
    Tr(sqrt(Σ1 Σ2)), a non-negative real.
  """
  sigma1 = np.asarray(sigma1, np.float64)
  sigma2 = np.asarray(sigma2, np.float64)
  eigenvalues, eigenvectors = np.linalg.eigh(sigma1)
  sqrt_sigma1 = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
                 ) @ eigenvectors.T
  product = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
  return float(np.sum(np.sqrt(np.clip(
      scipy.linalg.eigvalsh(product), 0.0, None))))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
  """Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2).

  Not clipped at 0: for equal statistics round-off may leave a value of order
  -1e-12 × Tr Σ.

  Args:
    mu1: [D] mean of the first Gaussian.
    sigma1: [D, D] covariance of the first Gaussian.
    mu2: [D] mean of the second Gaussian.
    sigma2: [D, D] covariance of the second Gaussian.

  Returns:
    ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr sqrt(Σ1 Σ2).

  Raises:
    ValueError: on mismatched shapes or a non-finite input.
  """
  mu1, sigma1, mu2, sigma2 = (np.asarray(x, np.float64)
                              for x in (mu1, sigma1, mu2, sigma2))
  for name, mu, sigma in (("1", mu1, sigma1), ("2", mu2, sigma2)):
    if mu.ndim != 1:
      raise ValueError(f"mu{name} must be [D], got shape {mu.shape}")
    if sigma.shape != (mu.size, mu.size):
      raise ValueError(f"sigma{name} must be [D, D] = {(mu.size, mu.size)} "
                       f"to match mu{name}, got shape {sigma.shape}")
  if mu1.shape != mu2.shape:
    raise ValueError(f"the two Gaussians have different dimensions: "
                     f"{mu1.size} and {mu2.size}")
  for name, array in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2),
                      ("sigma2", sigma2)):
    _check_finite(array, f"{name} contains")
  diff = mu1 - mu2
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
               - 2.0 * trace_sqrt_product(sigma1, sigma2))


def fid(real_features: np.ndarray, fake_features: np.ndarray) -> float:
  """FID between [N, D] real and [M, D] generated features.

  Args:
    real_features: [N, D] features of real images, N >= 2.
    fake_features: [M, D] features of generated images, M >= 2.

  Returns:
    The Fréchet distance between the Gaussians fitted to each set.

  Raises:
    ValueError: on mismatched shapes or non-finite features.
  """
  real_features = np.asarray(real_features, np.float64)
  fake_features = np.asarray(fake_features, np.float64)
  feature_checks.check_pair(real_features, fake_features, min_rows=2)
  return frechet_distance(*statistics(real_features),
                          *statistics(fake_features))
