"""Tests of reading the image sets that `ganjax.fid` compares."""

import numpy as np
import pytest
from PIL import Image

from ganjax.metrics import image_sets


def _images(n=4):
  return np.random.default_rng(0).integers(0, 256, (n, 9, 7, 3), np.uint8)


def test_folder_of_pngs_in_name_order(tmp_path):
  images = _images()
  for i, image in enumerate(images):
    Image.fromarray(image).save(tmp_path / f"{i}.png")
  (tmp_path / "notes.txt").write_text("not an image")
  np.testing.assert_array_equal(image_sets.load(str(tmp_path)), images)
  np.testing.assert_array_equal(image_sets.load(str(tmp_path), 2), images[:2])


def test_grayscale_files_become_rgb(tmp_path):
  Image.fromarray(np.full((5, 5), 7, np.uint8)).save(tmp_path / "a.png")
  loaded = image_sets.load(str(tmp_path))
  assert loaded.shape == (1, 5, 5, 3) and (loaded == 7).all()


@pytest.mark.parametrize("key", ["samples", "images"])
def test_npz(tmp_path, key):
  path = str(tmp_path / "set.npz")
  np.savez(path, **{key: _images()})
  np.testing.assert_array_equal(image_sets.load(path, 3), _images()[:3])


def test_bad_sets_name_the_problem(tmp_path):
  with pytest.raises(FileNotFoundError, match="No images"):
    image_sets.load(str(tmp_path))
  Image.fromarray(_images()[0]).save(tmp_path / "a.png")
  Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "b.png")
  with pytest.raises(ValueError, match="different sizes"):
    image_sets.load(str(tmp_path))
  np.savez(tmp_path / "x.npz", pictures=_images())
  with pytest.raises(ValueError, match="neither `samples` nor `images`"):
    image_sets.load(str(tmp_path / "x.npz"))
  np.savez(tmp_path / "f.npz", samples=_images().astype(np.float32))
  with pytest.raises(ValueError, match="uint8"):
    image_sets.load(str(tmp_path / "f.npz"))
  with pytest.raises(FileNotFoundError, match="neither a folder"):
    image_sets.load(str(tmp_path / "missing"))
  (tmp_path / "c.png").write_text("not an image")
  with pytest.raises(ValueError, match="1 images in .* cannot be read: .*c.png"):
    image_sets.load(str(tmp_path))
