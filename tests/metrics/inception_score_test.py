"""Tests of ganjax.metrics.inception_score against closed forms and a loop."""

import math

import numpy as np
import pytest

from ganjax.metrics import inception_score


def _loop_inception_score(logits, num_splits):
  """improved-gan's computation, one sample and one class at a time."""
  n, num_classes = logits.shape
  scores = []
  for i in range(num_splits):
    split = logits[i * n // num_splits:(i + 1) * n // num_splits]
    probs = []
    for row in split:
      top = max(row)
      exps = [math.exp(v - top) for v in row]
      probs.append([e / sum(exps) for e in exps])
    marginal = [sum(p[c] for p in probs) / len(probs)
                for c in range(num_classes)]
    kls = [sum(p_c * math.log(p_c / m_c)
               for p_c, m_c in zip(p, marginal) if p_c > 0) for p in probs]
    scores.append(math.exp(sum(kls) / len(kls)))
  return np.mean(scores), np.std(scores)


@pytest.mark.parametrize("num_classes", [2, 10, 1008])
def test_uniform_predictions_give_one(num_classes):
  # Equal logits in each row: p(y|x) = p(y) = uniform, so every KL is 0.
  logits = np.repeat(np.random.default_rng(0).normal(size=(100, 1)),
                     num_classes, axis=1)
  scores = inception_score.inception_score(logits)
  np.testing.assert_allclose(scores["inception_score"], 1.0, rtol=1e-12)
  assert scores["inception_score_std"] < 1e-12


@pytest.mark.parametrize("num_classes", [10, 1008])
def test_confident_even_predictions_give_num_classes(num_classes):
  # One-hot-like predictions, each class equally often in every split:
  # KL(p(y|x) ‖ uniform) = log C for every x.
  num_splits = 4
  labels = np.arange(num_splits * num_classes) % num_classes
  logits = 200.0 * np.eye(num_classes)[labels]
  scores = inception_score.inception_score(logits, num_splits)
  np.testing.assert_allclose(scores["inception_score"], num_classes,
                             rtol=1e-9)
  assert scores["inception_score_std"] < 1e-9 * num_classes


@pytest.mark.parametrize("n,num_classes,num_splits",
                         [(50, 5, 10), (103, 7, 10), (37, 1008, 3),
                          (20, 4, 1)])
def test_matches_loop(n, num_classes, num_splits):
  rng = np.random.default_rng(1)
  logits = rng.normal(scale=3.0, size=(n, num_classes)).astype(np.float32)
  want_mean, want_std = _loop_inception_score(logits.astype(np.float64),
                                              num_splits)
  scores = inception_score.inception_score(logits, num_splits)
  np.testing.assert_allclose(scores["inception_score"], want_mean,
                             rtol=1e-10)
  np.testing.assert_allclose(scores["inception_score_std"], want_std,
                             rtol=1e-8, atol=1e-12)
  assert 1.0 <= scores["inception_score"] <= num_classes


def test_large_logits_are_stable():
  # Logits of 1e4 overflow a naive exp; log-softmax handles them.
  logits = 1e4 * np.eye(3)[np.arange(30) % 3]
  scores = inception_score.inception_score(logits, num_splits=5)
  np.testing.assert_allclose(scores["inception_score"], 3.0, rtol=1e-12)


def test_invalid_inputs():
  with pytest.raises(ValueError, match=r"\[N, C\]"):
    inception_score.inception_score(np.zeros(10))
  with pytest.raises(ValueError, match="num_splits"):
    inception_score.inception_score(np.zeros((5, 3)), num_splits=10)
  with pytest.raises(ValueError, match="NaN"):
    inception_score.inception_score(np.full((20, 3), np.nan))
