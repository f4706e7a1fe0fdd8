"""A user's own images: a folder becomes a data set with one gin line.

  experiment.dataset = @datasets.image_folder
  datasets.image_folder.path = "/data/my_faces"
  datasets.image_folder.size = 64

Images directly in `path` make an unlabeled data set; images in
sub-folders of `path` (one per class, sorted by name) make a labeled one.
Each image is read with PIL, converted to RGB (or kept grayscale with
`channels = 1`), center-cropped to a square and resized to size×size when
its batch is drawn, so folders of any size work without preparation.
Files that PIL cannot open are found when the data set is made: it refuses
them by name, or with `datasets.image_folder.on_error = "skip"` leaves them
out with one warning.
"""

import os

from absl import logging
import gin
import numpy as np
from PIL import Image

from ganjax.data import dataset
from ganjax.data import preprocess

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def images_in(directory: str) -> list[str]:
  """The image files directly in `directory`, sorted by name."""
  return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                if name.lower().endswith(EXTENSIONS))


def listing(path: str) -> tuple[list[str], np.ndarray | None, list[str]]:
  """(image files, labels, class names) of a folder: the images directly in
  it, unlabeled, or those of its class sub-folders (sorted by name), each
  labeled with its folder's index."""
  classes = sorted(name for name in os.listdir(path)
                   if os.path.isdir(os.path.join(path, name)))
  files, labels = images_in(path), None
  if classes:
    if files:
      raise ValueError(f"{path} holds both images and class folders; put "
                       "every image in a class folder, or none.")
    per_class = [images_in(os.path.join(path, c)) for c in classes]
    files = [f for class_files in per_class for f in class_files]
    labels = np.repeat(np.arange(len(classes), dtype=np.int32),
                       [len(f) for f in per_class])
  if not files:
    raise FileNotFoundError(f"No images ({', '.join(EXTENSIONS)}) in {path} "
                            "or its class folders.")
  return files, labels, classes


def unreadable(files: list[str]) -> list[str]:
  """The files of `files` that PIL cannot open and verify (not an image, a
  damaged header or PNG chunk). A JPEG cut short passes: only decoding finds
  that, and `ImageFolder` then names the file."""
  bad = []
  for path in files:
    try:
      with Image.open(path) as image:
        image.verify()
    except Exception:  # pylint: disable=broad-exception-caught
      # PIL raises OSError, SyntaxError, struct.error, … for damaged files.
      bad.append(path)
  return bad


def listed(paths: list[str], limit: int = 5) -> str:
  """The first `limit` of `paths`, and how many more."""
  more = len(paths) - limit
  return ", ".join(paths[:limit]) + (f" and {more} more" if more > 0 else "")


def _readable(files: list[str], labels: np.ndarray | None, path: str,
              on_error: str) -> tuple[list[str], np.ndarray | None]:
  """`files` (and their labels) without unreadable ones under "skip"; an
  error naming them under "raise"."""
  bad = set(unreadable(files))
  if not bad:
    return files, labels
  names = listed(sorted(bad))
  if on_error == "raise":
    raise ValueError(
        f"{len(bad)} of the {len(files)} images in {path} cannot be read: "
        f"{names}. Remove or replace them, or leave them out with "
        "datasets.image_folder.on_error = \"skip\".")
  logging.warning("Left out %d unreadable images of %s: %s.", len(bad), path,
                  names)
  keep = np.array([f not in bad for f in files])
  return ([f for f, k in zip(files, keep) if k],
          None if labels is None else labels[keep])


class ImageFolder(dataset.Dataset):
  """Image files read, cropped and resized batch by batch."""

  def __init__(self, files: list[str], labels: np.ndarray | None,
               classes: list[str], size: int, channels: int):
    self.files = files
    self.labels = labels
    self.classes = classes
    self.size = size
    self.mode = {1: "L", 3: "RGB"}[channels]
    self.spec = dataset.DataSpec((size, size, channels),
                                 len(classes) or None, True)

  def __len__(self) -> int:
    return len(self.files)

  def _load(self, path: str) -> np.ndarray:
    try:
      with Image.open(path) as image:
        pixels = np.asarray(image.convert(self.mode))
    except OSError as e:  # E.g. a JPEG cut short, found only when decoded.
      raise OSError(f"Cannot decode the image {path} ({e}); remove or "
                    "replace it, then re-run the same command: a run "
                    "resumes from its latest checkpoint.") from e
    pixels = pixels.reshape(*pixels.shape[:2], -1)
    square = preprocess.center_crop(pixels, min(pixels.shape[:2]))
    return preprocess.resize(square, self.size)

  def _read(self, rows, seeds):
    del seeds  # No random preprocessing.
    images = np.stack([self._load(self.files[row]) for row in rows])
    batch = {"x": dataset.images_to_model_range(images)}
    if self.labels is not None:
      batch["label"] = self.labels[rows]
    return batch


@gin.configurable(module="datasets")
def image_folder(seed: int, path: str = gin.REQUIRED, size: int = 64,
                 channels: int = 3, on_error: str = "raise") -> ImageFolder:
  """The images under `path` (class sub-folders give labels).

  Args:
    seed: unused (the run's seed orders batches).
    path: the folder.
    size: output height and width.
    channels: 3 (RGB) or 1 (grayscale).
    on_error: files PIL cannot read: "raise" an error naming them, or
      "skip" them with a warning.
  """
  del seed
  if not os.path.isdir(path):
    raise FileNotFoundError(f"datasets.image_folder.path = {path!r} is not "
                            "a folder.")
  if channels not in (1, 3):
    raise ValueError(f"channels must be 1 or 3, got {channels}.")
  if on_error not in ("raise", "skip"):
    raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
  files, labels, classes = listing(path)
  files, labels = _readable(files, labels, path, on_error)
  if not files:
    raise FileNotFoundError(f"None of the images in {path} can be read.")
  data = ImageFolder(files, labels, classes, size, channels)
  data.name = f"the images in {path}"
  return data
