"""Tests of reading the image sets that `ganjax.fid` compares."""

import numpy as np
import pytest
from PIL import Image

from ganjax.metrics import frechet
from ganjax.metrics import image_sets
from ganjax.metrics import suite


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


def test_statistics_files_give_fid_against_images(tmp_path, fake_inception):
  real, fake = _images(30), _images(40)[::-1].copy()
  # As pytorch-fid's --save-stats writes them: mu and sigma only.
  mu, sigma = frechet.statistics(fake_inception(real)["pool3"])
  np.savez(tmp_path / "stats.npz", mu=mu.astype(np.float32), sigma=sigma)
  stats = image_sets.load(str(tmp_path / "stats.npz"))
  assert isinstance(stats, image_sets.Statistics)
  assert image_sets.size(stats) == "statistics" and image_sets.size(fake) == 40
  want = frechet.fid(fake_inception(real)["pool3"],
                     fake_inception(fake)["pool3"])
  for sides in ((stats, fake), (real, fake)):
    got = image_sets.compare(*sides, [suite.fid], lambda: fake_inception)
    np.testing.assert_allclose(got["fid"], want, rtol=1e-5)
  with pytest.raises(ValueError, match="gives FID only"):
    image_sets.compare(stats, fake, [suite.fid, suite.kid],
                       lambda: fake_inception)
