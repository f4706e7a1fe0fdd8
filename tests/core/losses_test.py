"""Tests of ganjax.core.losses against numpy versions of the published
formulas."""

import numpy as np
import pytest

from ganjax.core import losses


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _logits(seed):
  rng = np.random.default_rng(seed)
  d_real = rng.normal(0.5, 2.0, size=(16, 1)).astype(np.float32)
  d_fake = rng.normal(-0.5, 2.0, size=(16, 1)).astype(np.float32)
  return d_real, d_fake


def _non_saturating(r, f):
  d_real = -np.mean(np.log(_sigmoid(r)))
  d_fake = -np.mean(np.log(1.0 - _sigmoid(f)))
  return d_real, d_fake, -np.mean(np.log(_sigmoid(f)))


def _minimax(r, f):
  d_real = -np.mean(np.log(_sigmoid(r)))
  d_fake = -np.mean(np.log(1.0 - _sigmoid(f)))
  return d_real, d_fake, np.mean(np.log(1.0 - _sigmoid(f)))


def _wasserstein(r, f):
  return -np.mean(r), np.mean(f), -np.mean(f)


def _least_squares_sigmoid(r, f):
  r, f = _sigmoid(r), _sigmoid(f)
  return (0.5 * np.mean((r - 1.0)**2), 0.5 * np.mean(f**2),
          0.5 * np.mean((f - 1.0)**2))


def _least_squares_raw(r, f):
  return (0.5 * np.mean((r - 1.0)**2), 0.5 * np.mean(f**2),
          0.5 * np.mean((f - 1.0)**2))


def _hinge(r, f):
  return (np.mean(np.maximum(0.0, 1.0 - r)), np.mean(np.maximum(0.0, 1.0 + f)),
          -np.mean(f))


def _relativistic_average(r, f):
  real_rel = r - np.mean(f)
  fake_rel = f - np.mean(r)
  d_real = -np.mean(np.log(_sigmoid(real_rel)))
  d_fake = -np.mean(np.log(1.0 - _sigmoid(fake_rel)))
  g = (-np.mean(np.log(_sigmoid(fake_rel))) -
       np.mean(np.log(1.0 - _sigmoid(real_rel))))
  return d_real, d_fake, g


_CASES = [
    ("non_saturating", losses.non_saturating, _non_saturating),
    ("minimax", losses.minimax, _minimax),
    ("wasserstein", losses.wasserstein, _wasserstein),
    ("least_squares_sigmoid", losses.least_squares, _least_squares_sigmoid),
    ("least_squares_raw",
     lambda r, f: losses.least_squares(r, f, on_sigmoid=False),
     _least_squares_raw),
    ("hinge", losses.hinge, _hinge),
    ("relativistic_average", losses.relativistic_average,
     _relativistic_average),
]


@pytest.mark.parametrize("name,loss_fn,reference", _CASES,
                         ids=[c[0] for c in _CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_numpy_formula(name, loss_fn, reference, seed):
  del name
  d_real, d_fake = _logits(seed)
  out = loss_fn(d_real, d_fake)
  want_real, want_fake, want_g = reference(d_real.astype(np.float64),
                                           d_fake.astype(np.float64))
  np.testing.assert_allclose(out.d_loss_real, want_real, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.d_loss_fake, want_fake, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.g_loss, want_g, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.d_loss, want_real + want_fake, rtol=1e-5,
                             atol=1e-6)
  assert np.shape(out.d_loss) == () and np.shape(out.g_loss) == ()


@pytest.mark.parametrize("name,loss_fn,reference", _CASES,
                         ids=[c[0] for c in _CASES])
def test_d_loss_is_sum_of_parts(name, loss_fn, reference):
  del name, reference
  d_real, d_fake = _logits(2)
  out = loss_fn(d_real, d_fake)
  np.testing.assert_allclose(
      out.d_loss, np.float64(out.d_loss_real) + np.float64(out.d_loss_fake),
      rtol=1e-6)


def test_least_squares_sigmoid_and_raw_differ():
  d_real, d_fake = _logits(3)
  on_sigmoid = losses.least_squares(d_real, d_fake)
  raw = losses.least_squares(d_real, d_fake, on_sigmoid=False)
  assert not np.isclose(on_sigmoid.d_loss, raw.d_loss)


def test_non_saturating_at_zero_logits_is_log2():
  zeros = np.zeros((4, 1), np.float32)
  out = losses.non_saturating(zeros, zeros)
  np.testing.assert_allclose(out.d_loss, 2 * np.log(2.0), rtol=1e-6)
  np.testing.assert_allclose(out.g_loss, np.log(2.0), rtol=1e-6)
