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
