"""Tests of ganjax.data.image_folder on small generated image folders."""

import numpy as np
from PIL import Image
import pytest

from ganjax.data import image_folder


def _save(path, value, shape=(20, 30, 3)):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def test_flat_folder_is_unlabeled(tmp_path):
  for i in range(3):
    _save(tmp_path / f"{i}.png", 50 * i)
  data = image_folder.image_folder(0, path=str(tmp_path), size=8)
  assert len(data) == 3 and data.spec.num_classes is None
  batch = data.batch(0, 3, seed=0)
  assert batch["x"].shape == (3, 8, 8, 3) and "label" not in batch
  np.testing.assert_allclose(np.sort(batch["x"][:, 0, 0, 0]),
                             np.array([0, 50, 100]) / 127.5 - 1, atol=1e-6)


def test_class_folders_give_labels(tmp_path):
  for label, name in enumerate(["cat", "dog"]):
    for i in range(2 + label):
      _save(tmp_path / name / f"{i}.jpg", 200 * label, shape=(12, 12, 3))
  data = image_folder.image_folder(0, path=str(tmp_path), size=4, channels=1)
  assert data.classes == ["cat", "dog"] and data.spec.num_classes == 2
  batch = data.batch(0, 5, seed=0)
  assert batch["x"].shape == (5, 4, 4, 1)
  # Each image's pixels identify its class folder.
  np.testing.assert_array_equal(batch["x"][:, 0, 0, 0] > 0,
                                batch["label"] == 1)
  np.testing.assert_array_equal(np.bincount(batch["label"]), [2, 3])


@pytest.mark.parametrize("setup,error,match", [
    ("missing", FileNotFoundError, "is not a folder"),
    ("empty", FileNotFoundError, "No images"),
    ("mixed", ValueError, "both images and class folders"),
])
def test_bad_folders_raise(tmp_path, setup, error, match):
  path = tmp_path / "data"
  if setup != "missing":
    path.mkdir()
  if setup == "mixed":
    _save(path / "a.png", 0)
    _save(path / "class" / "b.png", 0)
  with pytest.raises(error, match=match):
    image_folder.image_folder(0, path=str(path))


def _broken(tmp_path, num_good=3):
  """A folder of `num_good` images and two files PIL cannot read."""
  for i in range(num_good):
    _save(tmp_path / f"{i}.png", 50 * i)
  (tmp_path / "notes.jpg").write_text("not an image")
  png = (tmp_path / "0.png").read_bytes()
  (tmp_path / "cut.png").write_bytes(png[:len(png) // 2])
  return tmp_path


def test_unreadable_images_are_refused_by_name(tmp_path):
  with pytest.raises(ValueError) as error:
    image_folder.image_folder(0, path=str(_broken(tmp_path)))
  message = str(error.value)
  assert "2 of the 5 images" in message
  assert "cut.png" in message and "notes.jpg" in message
  assert 'on_error = "skip"' in message


def test_unreadable_images_are_skipped_with_one_warning(tmp_path, caplog):
  data = image_folder.image_folder(0, path=str(_broken(tmp_path)), size=8,
                                   on_error="skip")
  assert [f.rsplit("/", 1)[1] for f in data.files] == ["0.png", "1.png",
                                                       "2.png"]
  warnings = [r.getMessage() for r in caplog.records
              if r.levelname == "WARNING"]
  assert len(warnings) == 1 and "Left out 2 unreadable images" in warnings[0]
  assert "cut.png" in warnings[0]
  assert data.batch(0, 3, seed=0)["x"].shape == (3, 8, 8, 3)


def test_skipping_keeps_the_labels_of_the_readable_images(tmp_path):
  _save(tmp_path / "a" / "0.png", 0)
  (tmp_path / "a" / "bad.png").write_text("x")
  _save(tmp_path / "b" / "0.png", 255)
  data = image_folder.image_folder(0, path=str(tmp_path), on_error="skip")
  np.testing.assert_array_equal(data.labels, [0, 1])


def test_an_image_that_fails_only_when_decoded_is_named(tmp_path):
  pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
  Image.fromarray(pixels).save(tmp_path / "0.jpg")
  jpeg = (tmp_path / "0.jpg").read_bytes()
  (tmp_path / "0.jpg").write_bytes(jpeg[:-200])  # Its header verifies.
  data = image_folder.image_folder(0, path=str(tmp_path), size=8)
  with pytest.raises(OSError, match="Cannot decode the image .*0.jpg"):
    data.batch(0, 1, seed=0)
