"""Rotation self-supervision (SSGAN, Chen et al. 2019).

D learns to tell by how much an image was rotated (0, 90, 180 or 270°,
counter-clockwise) from the features it also uses to tell real from fake.
A batch of n images gets its last `num_rotated` images appended rotated by
90, 180 and 270°; the rotation task is then the last `4 · num_rotated`
entries: the unrotated originals (class 0) and their three rotations
(classes 1, 2, 3), as in Compare GAN.
"""

import jax
import jax.numpy as jnp
import optax


def rotate(images: jax.Array, quarter_turns: int) -> jax.Array:
  """NHWC images rotated counter-clockwise by `quarter_turns` · 90°."""
  return jnp.rot90(images, quarter_turns, axes=(1, 2))


def with_rotations(images: jax.Array, num_rotated: int) -> jax.Array:
  """[n + 3·num_rotated, ...]: the images, then their last `num_rotated`
  rotated by 90°, 180° and 270°."""
  if not 0 < num_rotated <= images.shape[0]:
    raise ValueError(f"Cannot rotate {num_rotated} of a batch of "
                     f"{images.shape[0]} images.")
  last = images[-num_rotated:]
  return jnp.concatenate([images] + [rotate(last, k) for k in (1, 2, 3)])


def with_rotated_labels(labels: jax.Array | None,
                        num_rotated: int) -> jax.Array | None:
  """Labels matching `with_rotations`: a rotated copy keeps its label."""
  if labels is None:
    return None
  return jnp.concatenate([labels] + [labels[-num_rotated:]] * 3)


def targets(num_rotated: int) -> jax.Array:
  """The rotation classes of the last 4·num_rotated entries: 0…0 1…1 2…2
  3…3."""
  return jnp.repeat(jnp.arange(4), num_rotated)


def task_logits(rotation_logits: jax.Array, num_rotated: int) -> jax.Array:
  """D's rotation logits of the entries of the rotation task (the last
  4·num_rotated of a `with_rotations` batch)."""
  return rotation_logits[-4 * num_rotated:]


def loss(rotation_logits: jax.Array, num_rotated: int) -> jax.Array:
  """Mean cross-entropy of the 4-way rotation task of one batch."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      task_logits(rotation_logits, num_rotated), targets(num_rotated)))


def accuracy(rotation_logits: jax.Array, num_rotated: int) -> jax.Array:
  """Fraction of the rotation task D gets right."""
  predicted = jnp.argmax(task_logits(rotation_logits, num_rotated), -1)
  return jnp.mean(predicted == targets(num_rotated))
