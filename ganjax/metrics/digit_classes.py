"""Which digits a generator draws, judged by a classifier of the real digits.

A mode-coverage check for models trained on the embedded UCI digits
(`datasets.digits`), in the spirit of the classifier-based counts of Stacked
MNIST (Metz et al. 2017) and PacGAN: an MLP trained on all 1,797 real digits,
at the samples' resolution and through the same resize as the training data,
classifies each sample. Reported:

- `digit_confident`: the fraction of samples it classifies with probability
  of at least `threshold` (0.8): samples that look like some digit;
- `digit_classes`: the classes holding at least `min_share` (2 %) of the
  confident samples;
- `digit_kl`: KL(q ‖ uniform) of the confident samples' class histogram q.

Held-out real digits score about 0.97 confident (5-fold), 10 classes and KL
0.00 (`tests/metrics/digit_classes_test.py` measures it).
"""

import functools

import numpy as np
from sklearn import neural_network

from ganjax.data import digits


@functools.cache
def classifier(size: int) -> neural_network.MLPClassifier:
  """The judge for `size`×`size` digits, fitted once per size (about 2 s)."""
  return fit(size, np.arange(1797))


def fit(size: int, rows: np.ndarray) -> neural_network.MLPClassifier:
  """An MLP (one hidden layer of 128) fitted to the real digits `rows`."""
  data = digits.digits(0, size=size)
  x = _features(data.examples[rows])
  model = neural_network.MLPClassifier((128,), alpha=1e-3, max_iter=1000,
                                       random_state=0)
  return model.fit(x, data.labels[rows])


def _features(images: np.ndarray) -> np.ndarray:
  """[N, H·W] pixels in [-1, 1] from uint8 or [-1, 1] float images."""
  x = np.asarray(images)
  if x.dtype == np.uint8:
    x = x.astype(np.float32) / 127.5 - 1.0
  return x.reshape(len(x), -1)


def score_probabilities(probabilities: np.ndarray, threshold: float = 0.8,
                        min_share: float = 0.02) -> dict[str, float]:
  """The three scores from the classifier's [N, 10] class probabilities."""
  confident = probabilities.max(axis=1) >= threshold
  counts = np.bincount(probabilities.argmax(axis=1)[confident],
                       minlength=probabilities.shape[1])
  if not counts.sum():
    return {"digit_confident": 0.0, "digit_classes": 0.0,
            "digit_kl": float("inf")}
  q = counts / counts.sum()
  kl = float(np.sum(q[q > 0] * np.log(q[q > 0] * len(q))))
  return {"digit_confident": float(confident.mean()),
          "digit_classes": float(np.count_nonzero(q >= min_share)),
          "digit_kl": kl}


def digit_classes(images: np.ndarray, threshold: float = 0.8,
                  min_share: float = 0.02) -> dict[str, float]:
  """The scores of [N, H, W, 1] digit images (uint8, or floats in [-1, 1]).

  Args:
    images: square grayscale samples of a model trained on the digits.
    threshold: the class probability that counts a sample as confident.
    min_share: the share of the confident samples a class must hold to
      count as present.

  Returns:
    {"digit_confident", "digit_classes", "digit_kl"}.
  """
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 1 or (
      images.shape[1] != images.shape[2]):
    raise ValueError(f"The digit judge takes [N, S, S, 1] grayscale images, "
                     f"got shape {images.shape}.")
  probabilities = classifier(images.shape[1]).predict_proba(
      _features(images))
  return score_probabilities(probabilities, threshold, min_share)
