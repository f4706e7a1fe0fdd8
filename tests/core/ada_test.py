"""Tests of ganjax.core.ada: ADA's transforms against NumPy/SciPy
computations, their composition against the single transforms, and p."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

from ganjax.core import ada

_BGC = ada.transforms("bgc")


def _images(num=3, size=8, channels=3, seed=0):
  return np.random.default_rng(seed).uniform(
      -1, 1, (num, size, size, channels)).astype(np.float32)


def _one(matrix):
  return jnp.asarray(matrix, jnp.float32)[None]


def _numpy_move(image, dx, dy):
  """Image content moved right by dx and down by dy whole pixels, the
  uncovered pixels mirrored (torch's reflect padding)."""
  pad = max(abs(dx), abs(dy))
  padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
  height, width = image.shape[:2]
  return padded[pad - dy:pad - dy + height, pad - dx:pad - dx + width]


def test_the_blit_transforms_and_their_composition_are_exact():
  x = _images(num=1)
  flip = ada.scale2d(-1, 1)
  quarter = ada.rotate2d(np.pi / 2)
  move = ada.translate2d(-2, -1)  # Inverse: content moves by (+2, +1).
  np.testing.assert_allclose(ada.resample(x, flip)[0], x[0, :, ::-1],
                             atol=1e-5)
  # Output pixel (x, y) reads input (−y, x) about the center: NumPy's
  # quarter turn of the array.
  np.testing.assert_allclose(ada.resample(x, quarter)[0], np.rot90(x[0]),
                             atol=1e-5)
  np.testing.assert_allclose(ada.resample(x, move)[0],
                             _numpy_move(x[0], 2, 1), atol=1e-5)
  # One resampling with the product = the three applied in turn (the
  # inverse matrices compose outermost first: flip, then turn, then move).
  composed = ada.resample(x, flip @ quarter @ move)[0]
  one_by_one = _numpy_move(np.rot90(x[0, :, ::-1]), 2, 1)
  np.testing.assert_allclose(composed, one_by_one, atol=1e-5)


def test_general_transforms_sample_bilinearly_with_mirroring():
  x = _images(num=2, size=9, channels=2)
  matrix = (ada.scale2d(0.8, 1.25) @ ada.rotate2d(0.3) @
            ada.translate2d(0.4, -1.7))
  got = np.asarray(ada.resample(x, jnp.concatenate([matrix, matrix])))
  c = 4.0
  ys, xs = np.meshgrid(np.arange(9) - c, np.arange(9) - c, indexing="ij")
  m = np.asarray(matrix[0], np.float64)
  src_x = m[0, 0] * xs + m[0, 1] * ys + m[0, 2] + c
  src_y = m[1, 0] * xs + m[1, 1] * ys + m[1, 2] + c
  for n in range(2):
    for ch in range(2):
      want = ndimage.map_coordinates(x[n, :, :, ch].astype(np.float64),
                                     [src_y, src_x], order=1, mode="mirror")
      np.testing.assert_allclose(got[n, :, :, ch], want, atol=1e-5)


def test_p_zero_is_the_identity_and_p_one_always_applies():
  x = _images(num=16, channels=3)
  np.testing.assert_allclose(ada.augment(x, jax.random.key(0), 0.0, _BGC), x,
                             atol=1e-5)
  geometric = ada.geometric_matrix(jax.random.key(1), 64, 8, 8, 1.0,
                                   frozenset({"scale"}))
  assert np.all(np.abs(np.asarray(geometric[:, 0, 0]) - 1) > 0)
  colors = ada.color_matrix(jax.random.key(2), 64, 3, 1.0,
                            frozenset({"brightness"}))
  assert np.all(np.asarray(colors[:, 0, 3]) != 0)
  none = ada.color_matrix(jax.random.key(2), 64, 3, 0.0,
                          frozenset({"brightness"}))
  np.testing.assert_array_equal(none, np.broadcast_to(np.eye(4), (64, 4, 4)))


def test_each_transform_is_applied_with_probability_p():
  p = 0.3
  geometric = np.asarray(ada.geometric_matrix(
      jax.random.key(3), 4000, 8, 8, p, frozenset({"scale"})))
  share = np.mean(np.abs(geometric[:, 0, 0] - 1) > 1e-7)
  assert abs(share - p) < 0.03


def test_color_matrices_act_as_the_reference_says():
  x = _images(num=2, channels=3)
  c_mat = np.stack([np.eye(4), np.eye(4)]).astype(np.float32)
  c_mat[0, :3, :3] = [[0.5, 0.2, 0.0], [0.1, 0.9, 0.3], [0.0, 0.0, 1.2]]
  c_mat[0, :3, 3] = [0.1, -0.2, 0.3]
  got = np.asarray(ada.apply_color(x, jnp.asarray(c_mat)))
  want = np.einsum("ij,hwj->hwi", c_mat[0, :3, :3], x[0]) + c_mat[0, :3, 3]
  np.testing.assert_allclose(got[0], want, atol=1e-6)
  np.testing.assert_allclose(got[1], x[1], atol=1e-6)
  # A luma flip of a grey image negates it; brightness adds b.
  gray = _images(num=1, channels=1)
  luma = np.eye(4) - 2 * np.outer([1, 1, 1, 0], [1, 1, 1, 0]) / 3
  np.testing.assert_allclose(ada.apply_color(gray, _one(luma)), -gray,
                             atol=1e-6)
  brighter = np.eye(4)
  brighter[:3, 3] = 0.25
  np.testing.assert_allclose(ada.apply_color(gray, _one(brighter)),
                             gray + 0.25, atol=1e-6)


def test_hue_rotation_keeps_grey_and_luma():
  theta = jnp.array([0.7])
  c_mat = np.asarray(ada._rotate3d(ada._LUMA, theta))[0]  # pylint: disable=protected-access
  grey = np.array([0.3, 0.3, 0.3, 1.0])
  np.testing.assert_allclose(c_mat @ grey, grey, atol=1e-6)
  rgb = np.array([0.9, -0.2, 0.1, 1.0])
  assert abs((c_mat @ rgb)[:3].sum() - rgb[:3].sum()) < 1e-5


def test_unknown_pipelines_and_channel_counts_are_refused():
  with pytest.raises(ValueError, match="'bgcx'.*bgc"):
    ada.transforms("bgcx")
  with pytest.raises(ValueError, match="RGB or one-channel"):
    ada.apply_color(_images(channels=2), _one(np.eye(4)))
