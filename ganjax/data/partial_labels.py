"""Withholding labels for semi-supervised training (S3GAN's few labels).

A fixed subset of the training set keeps its labels and the rest are marked
−1. The subset depends only on `label_seed`, not on the run's seed, so runs
with different seeds see the same labeled examples (as Compare GAN's label
files fixed them).
"""

import numpy as np

UNLABELED = -1
_STREAM = 1  # Spawn key of the labeled subset's random stream.


def _rng(label_seed: int) -> np.random.Generator:
  # A stream of its own: default_rng(label_seed) would equal the batch
  # order's default_rng((seed, 0)) when label_seed = seed (NumPy pads seeds
  # with zeros), and epoch 0 would begin with exactly the labeled examples.
  return np.random.default_rng(
      np.random.SeedSequence(label_seed, spawn_key=(_STREAM,)))


def labeled_mask(num_examples: int, fraction: float,
                 label_seed: int = 0) -> np.ndarray:
  """[N] bool: a reproducible random `fraction` of the examples (rounded to
  whole examples), chosen without reading any label, so that data sets read
  batch by batch can withhold labels too."""
  if not 0.0 <= fraction <= 1.0:
    raise ValueError(f"fraction must be in [0, 1], got {fraction}.")
  keep = np.zeros(num_examples, bool)
  keep[_rng(label_seed).permutation(num_examples)[
      :round(fraction * num_examples)]] = True
  return keep


def withhold_labels(labels: np.ndarray, *, fraction: float | None = None,
                    per_class: int | None = None,
                    label_seed: int = 0) -> np.ndarray:
  """Labels with all but a reproducible subset replaced by −1.

  Args:
    labels: [N] integer labels.
    fraction: keep this fraction of all labels (`labeled_mask`).
    per_class: or keep this many labels of every class.
    label_seed: chooses the subset.

  Returns:
    [N] int32 labels, −1 where withheld.
  """
  if (fraction is None) == (per_class is None):
    raise ValueError("Give exactly one of fraction and per_class.")
  labels = np.asarray(labels, np.int32)
  if fraction is not None:
    keep = labeled_mask(len(labels), fraction, label_seed)
  else:
    rng = _rng(label_seed)
    keep = np.zeros(len(labels), bool)
    for label in np.unique(labels[labels != UNLABELED]):
      members = np.flatnonzero(labels == label)
      if len(members) < per_class:
        raise ValueError(f"Class {label} has only {len(members)} examples; "
                         f"cannot keep {per_class} labels of it.")
      keep[rng.choice(members, per_class, replace=False)] = True
  return np.where(keep, labels, UNLABELED).astype(np.int32)


def read_label_file(path: str, num_examples: int,
                    num_classes: int) -> np.ndarray:
  """[N] int32 labels from a .npy file (e.g. inferred labels, S²GAN), in
  the order of the data set's examples, checked against it."""
  try:
    labels = np.load(path)
  except (OSError, ValueError) as error:
    raise ValueError(f"Cannot read the label file {path!r}: {error}. Write "
                     f"one with python -m ganjax.infer_labels.") from error
  if labels.shape != (num_examples,) or not np.issubdtype(labels.dtype,
                                                          np.integer):
    raise ValueError(f"The label file {path!r} holds {labels.dtype} "
                     f"{labels.shape}; the data set needs ({num_examples},) "
                     f"integer labels.")
  if labels.min() < UNLABELED or labels.max() >= num_classes:
    raise ValueError(f"The label file {path!r} has labels outside −1…"
                     f"{num_classes - 1}.")
  return labels.astype(np.int32)


def relabel(labels: np.ndarray, num_classes: int,
            label_file: str | None = None, fraction: float | None = None,
            per_class: int | None = None,
            label_seed: int = 0) -> np.ndarray:
  """A data set's labels as its options say: replaced from `label_file`
  (`read_label_file`), then all but a subset withheld when `fraction` or
  `per_class` is given (`withhold_labels`)."""
  labels = np.asarray(labels, np.int32)
  if label_file is not None:
    labels = read_label_file(label_file, len(labels), num_classes)
  if fraction is not None or per_class is not None:
    labels = withhold_labels(labels, fraction=fraction, per_class=per_class,
                             label_seed=label_seed)
  return labels
