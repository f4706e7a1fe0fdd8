"""Tests of ganjax.metrics.digit_classes: the judge of which digits a model
of the embedded digits draws."""

import numpy as np
import pytest
from sklearn import model_selection

from ganjax.data import digits
from ganjax.metrics import digit_classes


def test_scores_from_probabilities():
  probabilities = np.array([
      [0.9, 0.1, 0.0], [0.85, 0.15, 0.0], [0.1, 0.9, 0.0],
      [0.5, 0.5, 0.0],  # Not confident.
  ])
  scores = digit_classes.score_probabilities(probabilities)
  assert scores["digit_confident"] == 0.75
  assert scores["digit_classes"] == 2
  q = np.array([2 / 3, 1 / 3])
  np.testing.assert_allclose(scores["digit_kl"], np.sum(q * np.log(q * 3)))
  # A class under min_share of the confident samples is not counted.
  many = np.tile(np.eye(3)[[0]], (99, 1))
  scores = digit_classes.score_probabilities(np.vstack([many, np.eye(3)[[1]]]),
                                             min_share=0.02)
  assert scores["digit_classes"] == 1


def test_held_out_real_digits_score_as_documented():
  """The real digits the judge was not fitted on: about 0.97 confident,
  all 10 classes, KL ≈ 0 (5-fold)."""
  data = digits.digits(0, size=8)
  folds = model_selection.StratifiedKFold(5, shuffle=True, random_state=0)
  probabilities = np.zeros((len(data), 10))
  for train, held_out in folds.split(data.examples, data.labels):
    probabilities[held_out] = digit_classes.fit(8, train).predict_proba(
        data.examples[held_out].reshape(len(held_out), -1))
  scores = digit_classes.score_probabilities(probabilities)
  assert scores["digit_confident"] > 0.95
  assert scores["digit_classes"] == 10 and scores["digit_kl"] < 0.01
  accuracy = np.mean(probabilities.argmax(1) == data.labels)
  assert accuracy > 0.96


def test_collapse_and_noise_fail_the_judge():
  data = digits.digits(0, size=16)
  images = ((data.examples + 1.0) * 127.5).round().astype(np.uint8)
  sevens = images[data.labels == 7][:100]
  scores = digit_classes.digit_classes(sevens)
  assert scores["digit_classes"] == 1
  np.testing.assert_allclose(scores["digit_kl"], np.log(10), rtol=1e-6)
  # The whole real set, as uint8 or as floats in [-1, 1], passes.
  for real in (images, data.examples):
    scores = digit_classes.digit_classes(real)
    assert scores["digit_confident"] > 0.95 and scores["digit_classes"] == 10
  noise = np.random.default_rng(0).integers(0, 256, (200, 16, 16, 1),
                                           dtype=np.uint8)
  assert digit_classes.digit_classes(noise)["digit_confident"] < 0.5


def test_images_must_be_square_grayscale():
  with pytest.raises(ValueError, match=r"\[N, S, S, 1\] grayscale"):
    digit_classes.digit_classes(np.zeros((4, 8, 8, 3), np.uint8))
