"""Tests of ganjax.data.convex_polygons."""

import numpy as np
import tensorflow_datasets as tfds

from ganjax.data import catalog
from ganjax.data import convex_polygons


def test_polygon_image_is_a_black_convex_shape_on_white():
  image = convex_polygons.polygon_image(np.random.default_rng(0))
  assert image.shape == (28, 28, 1) and image.dtype == np.uint8
  assert image[0, 0, 0] == 255 and image[14, 14, 0] == 0  # Corner, centre.
  black = (255 - image[..., 0].astype(float)) / 255
  # A triangle inscribed in a circle of radius 0.75·14 px covers at most
  # 3√3/4·r² ≈ 143 px² (equilateral) and, with segments ≥ 20°, not tiny.
  assert 20 < black.sum() < 3 * np.sqrt(3) / 4 * (0.75 * 14) ** 2 + 1
  # Convex: every row and column crosses the shape at most once.
  for line in [*(black > 0.5), *(black > 0.5).T]:
    assert np.count_nonzero(np.diff(line.astype(int)) == 1) <= 1


def test_polygon_images_are_reproducible_and_differ():
  first = convex_polygons.polygon_image(np.random.default_rng((0, 5)))
  again = convex_polygons.polygon_image(np.random.default_rng((0, 5)))
  other = convex_polygons.polygon_image(np.random.default_rng((0, 6)))
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)


def test_builder_prepares_without_download_and_loads(tmp_path, monkeypatch):
  monkeypatch.setattr(convex_polygons, "SPLITS", {
      "train": (0, 12), "test": (12, 16), "holdout": (16, 20)})
  # Registered under its name, as `ganjax.data.prepare` looks it up.
  builder = tfds.builder("convex_polygons", data_dir=str(tmp_path),
                         file_format="array_record")
  assert isinstance(builder, convex_polygons.ConvexPolygons)
  builder.download_and_prepare()
  source = tfds.data_source("convex_polygons", split="train",
                            data_dir=str(tmp_path))
  assert len(source) == 12 and source[0]["label"] == 3
  # TFDS stores examples in its own order: compare as sets.
  want = {convex_polygons.polygon_image(np.random.default_rng((0, i))).tobytes()
          for i in range(12)}
  assert {source[i]["image"].tobytes() for i in range(12)} == want
  data = catalog.tfds_dataset(0, name="convex_polygons", split="eval",
                              data_dir=str(tmp_path))
  assert len(data) == 4 and data.batch(0, 4, seed=0)["x"].shape == (
      4, 28, 28, 1)
