"""Tests of ganjax.run.image_files: the image grid."""

import numpy as np

from ganjax.run import image_files


def test_grid_enlarges_small_images_and_separates_the_cells():
  images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 1),
                                             dtype=np.uint8)
  grid = image_files.image_grid(images)
  # 8-pixel images ×4 (cells of at least 32), 3 columns, 2 rows, 2-pixel
  # mid-gray gaps around every cell.
  assert grid.shape == (2 * 34 + 2, 3 * 34 + 2, 1)
  for i, image in enumerate(images):
    r, c = divmod(i, 3)
    cell = grid[2 + 34 * r:2 + 34 * r + 32, 2 + 34 * c:2 + 34 * c + 32, 0]
    np.testing.assert_array_equal(cell, np.kron(image[..., 0],
                                                np.ones((4, 4), np.uint8)))
  assert (grid[:2] == 128).all() and (grid[:, 34:36] == 128).all()
  assert (grid[36:68, 70:102] == 128).all()  # The sixth cell is empty.


def test_grid_keeps_large_images_as_they_are():
  images = np.zeros((4, 40, 40, 3), np.uint8)
  grid = image_files.image_grid(images, padding=0)
  assert grid.shape == (80, 80, 3) and not grid.any()
