"""Tests of ganjax.core.rotation: the rotated batch, its targets, loss,
accuracy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import rotation


def _images(n=5, size=4):
  return jnp.asarray(np.random.default_rng(0).normal(
      size=(n, size, size, 2)).astype(np.float32))


def test_rotate_is_counter_clockwise_quarter_turns():
  image = jnp.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None]
  np.testing.assert_array_equal(rotation.rotate(image, 1)[0, :, :, 0],
                                [[2.0, 4.0], [1.0, 3.0]])
  x = _images()
  np.testing.assert_array_equal(rotation.rotate(x, 4), x)
  np.testing.assert_array_equal(
      rotation.rotate(rotation.rotate(x, 1), 3), x)


def test_rotation_targets_match_the_rotations():
  x, num_rotated = _images(), 2
  batch = rotation.with_rotations(x, num_rotated)
  assert batch.shape == (5 + 3 * num_rotated, 4, 4, 2)
  np.testing.assert_array_equal(batch[:5], x)
  task = batch[-4 * num_rotated:]
  targets = np.asarray(rotation.targets(num_rotated))
  np.testing.assert_array_equal(targets, [0, 0, 1, 1, 2, 2, 3, 3])
  for i, k in enumerate(targets):
    # Undoing the target's rotation recovers the original image.
    np.testing.assert_array_equal(
        rotation.rotate(task[i:i + 1], 4 - k)[0], x[3 + i % num_rotated])


def test_rotated_copies_keep_their_labels():
  labels = jnp.arange(5)
  np.testing.assert_array_equal(
      rotation.with_rotated_labels(labels, 2),
      [0, 1, 2, 3, 4, 3, 4, 3, 4, 3, 4])
  assert rotation.with_rotated_labels(None, 2) is None


def test_loss_and_accuracy_of_the_task_entries():
  num_rotated = 3
  targets = rotation.targets(num_rotated)
  perfect = 20.0 * jax.nn.one_hot(targets, 4)
  # Leading entries (not part of the task) are ignored.
  logits = jnp.concatenate([jnp.zeros((5, 4)), perfect])
  assert float(rotation.loss(logits, num_rotated)) < 1e-6
  assert float(rotation.accuracy(logits, num_rotated)) == 1.0
  uniform = jnp.zeros((12, 4))
  np.testing.assert_allclose(rotation.loss(uniform, num_rotated),
                             np.log(4.0), rtol=1e-6)
  wrong = 20.0 * jax.nn.one_hot((targets + 1) % 4, 4)
  assert float(rotation.accuracy(wrong, num_rotated)) == 0.0


@pytest.mark.parametrize("num_rotated", [0, 6])
def test_bad_rotated_counts_raise(num_rotated):
  with pytest.raises(ValueError, match="Cannot rotate"):
    rotation.with_rotations(_images(), num_rotated)
