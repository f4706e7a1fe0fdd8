"""Withholding labels for semi-supervised training (S3GAN's few labels).

A fixed subset of the training set keeps its labels and the rest are marked
−1. The subset depends only on `label_seed`, not on the run's seed, so runs
with different seeds see the same labeled examples (as Compare GAN's label
files fixed them).
"""

import numpy as np

UNLABELED = -1


def withhold_labels(labels: np.ndarray, *, fraction: float | None = None,
                    per_class: int | None = None,
                    label_seed: int = 0) -> np.ndarray:
  """Labels with all but a reproducible subset replaced by −1.

  Args:
    labels: [N] integer labels.
    fraction: keep this fraction of all labels (rounded to whole examples).
    per_class: or keep this many labels of every class.
    label_seed: chooses the subset.

  Returns:
    [N] int32 labels, −1 where withheld.
  """
  if (fraction is None) == (per_class is None):
    raise ValueError("Give exactly one of fraction and per_class.")
  labels = np.asarray(labels, np.int32)
  rng = np.random.default_rng(label_seed)
  keep = np.zeros(len(labels), bool)
  if fraction is not None:
    if not 0.0 <= fraction <= 1.0:
      raise ValueError(f"fraction must be in [0, 1], got {fraction}.")
    keep[rng.permutation(len(labels))[:round(fraction * len(labels))]] = True
  else:
    for label in np.unique(labels[labels != UNLABELED]):
      members = np.flatnonzero(labels == label)
      if len(members) < per_class:
        raise ValueError(f"Class {label} has only {len(members)} examples; "
                         f"cannot keep {per_class} labels of it.")
      keep[rng.choice(members, per_class, replace=False)] = True
  return np.where(keep, labels, UNLABELED).astype(np.int32)
