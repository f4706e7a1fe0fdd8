"""The convex-polygon data set of Lucic et al. 2018, as a TFDS builder.

"Are GANs Created Equal?" (arXiv:1711.10337) measured precision and recall
on 28×28 images of convex polygons, whose manifold is known. This follows
Compare GAN's `Convex_Polygons_Dataset` colab: each of the n vertices sits
in its own equal angular segment of an ellipse (at least `min_segment_angle`
into it), the polygon is rotated by `np.radians(u · 2π)` (at most ≈ 6.3°,
the colab's quirk, kept), scaled to `scale` of the image, optionally moved
so that its centre of mass is the image centre, rasterized on a grid
`subpixel_res` times finer and box-filtered down: a black polygon on white.
The label is the number of vertices. 80,000 examples: the first 60,000 for
training, the next 10,000 for testing, the last 10,000 held out.
"""

import numpy as np
from matplotlib import path as mpl_path
import tensorflow_datasets as tfds

SPLITS = {"train": (0, 60_000), "test": (60_000, 70_000),
          "holdout": (70_000, 80_000)}


def polygon_image(rng: np.random.Generator, n_vertices: int = 3,
                  min_segment_angle: float = 20.0, scale: float = 0.75,
                  raster_dim: int = 28, subpixel_res: int = 8,
                  shift_to_mean: bool = True) -> np.ndarray:
  """One [raster_dim, raster_dim, 1] uint8 image: 0 inside, 255 outside."""
  segment = 360.0 / n_vertices
  angles = np.radians(np.arange(n_vertices) * segment + min_segment_angle / 2
                      + rng.uniform(0, segment - min_segment_angle / 2,
                                    n_vertices))
  angles += np.radians(rng.uniform() * 2 * np.pi)  # The colab's small turn.
  vertices = np.stack([np.cos(angles), np.sin(angles)], axis=1)
  if shift_to_mean:
    vertices -= vertices.mean(axis=0)
  fine = raster_dim * subpixel_res
  vertices = (vertices * scale + 1.0) / 2.0 * fine
  centres = np.arange(fine) + 0.5
  grid = np.stack(np.meshgrid(centres, centres), axis=-1).reshape(-1, 2)
  inside = mpl_path.Path(vertices).contains_points(grid).reshape(fine, fine)
  coverage = inside.reshape(raster_dim, subpixel_res, raster_dim,
                            subpixel_res).mean(axis=(1, 3))
  return np.round(255 * (1.0 - coverage)).astype(np.uint8)[..., None]


class ConvexPolygons(tfds.core.GeneratorBasedBuilder):
  """Triangles of Lucic et al. 2018 (the colab's example parameters)."""
  VERSION = tfds.core.Version("1.0.0")
  SEED = 0
  N_VERTICES = 3

  def _info(self) -> tfds.core.DatasetInfo:
    # Tensor, not Image: numpy images need no TensorFlow to encode.
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(), dtype=np.int64),
        }),
        supervised_keys=("image", "label"))

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {name: self._generate_examples(*bounds)
            for name, bounds in SPLITS.items()}

  def _generate_examples(self, start: int, stop: int):
    for index in range(start, stop):
      rng = np.random.default_rng((self.SEED, index))
      yield index, {"image": polygon_image(rng, self.N_VERTICES),
                    "label": self.N_VERTICES}
