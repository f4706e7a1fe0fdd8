"""Tests of ganjax.metrics.frechet against closed forms and pytorch-fid."""

import numpy as np
import pytest
import scipy.linalg

from ganjax.metrics import frechet


def _pytorch_fid(mu1, sigma1, mu2, sigma2):
  """pytorch-fid's / TTUR's formula, with scipy's general matrix sqrt."""
  diff = mu1 - mu2
  covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
  return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(
      covmean)


def _features(rng, n, d):
  """Correlated, non-centred, non-negative features like pool3's."""
  mixing = rng.standard_normal((d, d)) / np.sqrt(d)
  return np.abs(rng.standard_normal((n, d)) @ mixing + 0.3)


@pytest.mark.parametrize("d,delta,s", [(1, 0.5, 2.0), (8, 0.0, 0.5),
                                       (64, 1.5, 1.0), (256, 0.1, 3.0)])
def test_closed_form_isotropic(d, delta, s):
  mu1, mu2 = np.zeros(d), np.full(d, delta)
  sigma1, sigma2 = np.eye(d), s**2 * np.eye(d)
  want = d * delta**2 + d * (1 - s)**2
  got = frechet.frechet_distance(mu1, sigma1, mu2, sigma2)
  np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-9)


def test_closed_form_diagonal():
  # Commuting covariances: Tr sqrt(Σ1 Σ2) = Σ_i sqrt(a_i b_i).
  rng = np.random.default_rng(0)
  a, b = rng.uniform(0.1, 3.0, 16), rng.uniform(0.0, 3.0, 16)
  np.testing.assert_allclose(
      frechet.trace_sqrt_product(np.diag(a), np.diag(b)),
      np.sum(np.sqrt(a * b)), rtol=1e-12)


def test_same_features_give_zero():
  features = _features(np.random.default_rng(1), 500, 32)
  assert abs(frechet.fid(features, features)) < 1e-9


def test_statistics_match_numpy():
  features = _features(np.random.default_rng(2), 100, 7).astype(np.float32)
  mu, sigma = frechet.statistics(features)
  assert mu.dtype == sigma.dtype == np.float64
  features = features.astype(np.float64)
  np.testing.assert_allclose(mu, np.mean(features, axis=0), rtol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(features, rowvar=False),
                             rtol=1e-12)


def test_statistics_one_dimension():
  mu, sigma = frechet.statistics(np.array([[1.0], [3.0]]))
  assert mu.shape == (1,) and sigma.shape == (1, 1)
  np.testing.assert_allclose(sigma, [[2.0]])


@pytest.mark.parametrize("n,d", [(400, 32), (20, 48), (30, 30)],
                         ids=["full_rank", "rank_deficient", "n_equals_d"])
def test_matches_pytorch_fid(n, d):
  rng = np.random.default_rng(3)
  mu1, sigma1 = frechet.statistics(_features(rng, n, d))
  mu2, sigma2 = frechet.statistics(_features(rng, n, d) + 0.1)
  want = _pytorch_fid(mu1, sigma1, mu2, sigma2)
  got = frechet.frechet_distance(mu1, sigma1, mu2, sigma2)
  np.testing.assert_allclose(got, want, rtol=1e-6)


def test_symmetric():
  rng = np.random.default_rng(4)
  real, fake = _features(rng, 300, 24), 2 * _features(rng, 200, 24)
  np.testing.assert_allclose(frechet.fid(real, fake), frechet.fid(fake, real),
                             rtol=1e-10)
  np.testing.assert_allclose(
      frechet.trace_sqrt_product(np.cov(real.T), np.cov(fake.T)),
      frechet.trace_sqrt_product(np.cov(fake.T), np.cov(real.T)), rtol=1e-10)


def test_shape_mismatch():
  rng = np.random.default_rng(5)
  with pytest.raises(ValueError, match="D = 8 .* D = 9"):
    frechet.fid(rng.standard_normal((10, 8)), rng.standard_normal((10, 9)))
  with pytest.raises(ValueError, match="different dimensions"):
    frechet.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
  with pytest.raises(ValueError, match="sigma2 must be"):
    frechet.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
  with pytest.raises(ValueError, match=r"must be \[N, D\]"):
    frechet.fid(np.zeros(10), np.zeros((10, 1)))
  with pytest.raises(ValueError, match="at least 2"):
    frechet.fid(np.zeros((1, 3)), np.zeros((10, 3)))


def test_non_finite():
  rng = np.random.default_rng(6)
  real, fake = rng.standard_normal((10, 4)), rng.standard_normal((10, 4))
  fake[3, 2] = np.nan
  with pytest.raises(ValueError,
                     match="generated features contain NaN"):
    frechet.fid(real, fake)
  real[0, 0] = np.inf
  with pytest.raises(ValueError, match="real features contain NaN or inf"):
    frechet.fid(real, fake)
  with pytest.raises(ValueError, match="sigma1 contains NaN"):
    frechet.frechet_distance(np.zeros(2), np.full((2, 2), np.nan),
                             np.zeros(2), np.eye(2))
