"""Tests of ganjax.data.partial_labels."""

import numpy as np
import pytest

from ganjax.data import partial_labels

_LABELS = np.repeat(np.arange(10), 50)  # 10 classes of 50.


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 1.0])
def test_fraction_keeps_that_many_true_labels(fraction):
  got = partial_labels.withhold_labels(_LABELS, fraction=fraction)
  kept = got != partial_labels.UNLABELED
  assert kept.sum() == round(fraction * len(_LABELS))
  np.testing.assert_array_equal(got[kept], _LABELS[kept])


def test_per_class_keeps_that_many_of_every_class():
  got = partial_labels.withhold_labels(_LABELS, per_class=4)
  kept = got[got != partial_labels.UNLABELED]
  np.testing.assert_array_equal(np.bincount(kept, minlength=10),
                                np.full(10, 4))


def test_subset_is_reproducible_and_depends_on_label_seed():
  first = partial_labels.withhold_labels(_LABELS, fraction=0.2, label_seed=3)
  again = partial_labels.withhold_labels(_LABELS, fraction=0.2, label_seed=3)
  other = partial_labels.withhold_labels(_LABELS, fraction=0.2, label_seed=4)
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)


@pytest.mark.parametrize("kwargs,match", [
    (dict(), "exactly one"),
    (dict(fraction=0.5, per_class=2), "exactly one"),
    (dict(fraction=1.5), r"\[0, 1\]"),
    (dict(per_class=51), "only 50 examples"),
])
def test_bad_arguments_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    partial_labels.withhold_labels(_LABELS, **kwargs)


def test_labeled_subset_is_independent_of_the_batch_order():
  """The subset must not be the first examples of the seed's first epoch
  (NumPy pads seeds with zeros: default_rng(0) == default_rng((0, 0)))."""
  labels = np.arange(1000) % 10
  kept = partial_labels.withhold_labels(labels, fraction=0.2, label_seed=0)
  first_epoch = np.random.default_rng((0, 0)).permutation(1000)
  share = np.mean(kept[first_epoch[:200]] != partial_labels.UNLABELED)
  assert 0.1 < share < 0.3, share
