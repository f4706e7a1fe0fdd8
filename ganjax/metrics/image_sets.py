"""Image sets to compare: a folder of images, an .npz of samples, or the
Inception statistics of a set (`ganjax.fid`'s inputs)."""

import os
from typing import Callable, NamedTuple, Sequence

import numpy as np
from PIL import Image

from ganjax.data import image_folder
from ganjax.metrics import frechet
from ganjax.metrics import suite
from ganjax.metrics.inception import inputs as inception_input


class Statistics(NamedTuple):
  """A set's precomputed Inception pool3 statistics: an .npz holding `mu`
  and `sigma`, as pytorch-fid (`--save-stats`) and TTUR write them."""
  mu: np.ndarray
  sigma: np.ndarray


Set = np.ndarray | Statistics


def load(path: str, num_samples: int | None = None) -> Set:
  """uint8 [N, H, W, C] images from a folder or an .npz file, or the
  `Statistics` an .npz holds."""
  if os.path.isdir(path):
    files = image_folder.listing(path)[0][:num_samples]
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
      if "mu" in data and "sigma" in data:
        return Statistics(data["mu"].astype(np.float64),
                          data["sigma"].astype(np.float64))
      key = next((k for k in ("samples", "images") if k in data), None)
      if key is None:
        raise ValueError(f"{path} holds {list(data)}, but neither `samples` "
                         "nor `images` (nor statistics: `mu` and `sigma`).")
      images = data[key][:num_samples]
    inception_input.check_images(images)
    return images
  raise FileNotFoundError(f"{path} is neither a folder of images nor an .npz "
                          "file.")


def labels(path: str, num_samples: int | None = None) -> np.ndarray | None:
  """The class of each image `load` reads from `path`: the index of its
  class sub-folder, or an .npz's `labels` (what `ganjax.sample` writes for
  a conditional model); None where there are none."""
  if os.path.isdir(path):
    found = image_folder.listing(path)[1]
  else:
    with np.load(path) as data:
      found = data["labels"] if "labels" in data else None
  return None if found is None else np.asarray(found[:num_samples], np.int32)


def size(images: Set) -> int | str:
  """The number of images of a set; "statistics" for a statistics file
  (pytorch-fid's and TTUR's do not record it)."""
  return "statistics" if isinstance(images, Statistics) else len(images)


def compare(real: Set, fake: Set, metrics: Sequence[suite.Metric],
            make_extractor: Callable[[], Callable], seed: int = 0,
            real_labels: np.ndarray | None = None,
            fake_labels: np.ndarray | None = None) -> dict[str, float]:
  """The scores of `metrics` between two sets (their labels feed per-class
  metrics). A `Statistics` side gives FID alone: the other metrics need the
  features themselves."""
  if not any(isinstance(s, Statistics) for s in (real, fake)):
    return suite.evaluate(
        suite.SampleSets(real, fake, make_extractor, seed=seed,
                         real_labels=real_labels, fake_labels=fake_labels),
        list(metrics))
  if list(metrics) != [suite.fid]:
    raise ValueError("A statistics file (mu, sigma) gives FID only; compute "
                     "the other metrics from images (--metrics=fid).")
  gaussians = [side if isinstance(side, Statistics) else
               frechet.statistics(make_extractor()(side)["pool3"])
               for side in (real, fake)]
  return {"fid": frechet.frechet_distance(*gaussians[0], *gaussians[1])}
