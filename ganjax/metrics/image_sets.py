"""Image sets to compare: a folder of images, or an .npz of samples."""

import os

import numpy as np
from PIL import Image

from ganjax.data import image_folder
from ganjax.metrics.inception import inputs as inception_input


def load(path: str, num_samples: int | None = None) -> np.ndarray:
  """uint8 [N, H, W, C] images from a folder or an .npz file."""
  if os.path.isdir(path):
    files = image_folder.images_in(path)[:num_samples]
    if not files:
      raise FileNotFoundError(f"No images ({', '.join(image_folder.EXTENSIONS)}"
                              f") in {path}.")
    bad = image_folder.unreadable(files)
    if bad:
      raise ValueError(f"{len(bad)} images in {path} cannot be read: "
                       f"{image_folder.listed(bad)}. Remove or replace them.")
    images = []
    for name in files:
      with Image.open(name) as image:
        images.append(np.asarray(image.convert("RGB")))
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
      raise ValueError(f"The images in {path} have different sizes "
                       f"{sorted(shapes)[:3]}…; resize them to one size.")
    return np.stack(images)
  if path.endswith(".npz") and os.path.isfile(path):
    with np.load(path) as data:
      key = next((k for k in ("samples", "images") if k in data), None)
      if key is None:
        raise ValueError(f"{path} holds {list(data)}, but neither `samples` "
                         "nor `images`.")
      images = data[key][:num_samples]
    inception_input.check_images(images)
    return images
  raise FileNotFoundError(f"{path} is neither a folder of images nor an .npz "
                          "file.")
