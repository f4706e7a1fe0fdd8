"""The UCI hand-written digits bundled with scikit-learn: real data, no download.

1,797 grayscale 8×8 digits (values 0..16) with labels 0–9, resized bilinearly
to `size`×`size` and scaled to [-1, 1]. Source: UCI ML "Optical Recognition of
Handwritten Digits" (Alpaydin & Kaynak, CC BY 4.0), shipped inside the
scikit-learn wheel.
"""

import gin
import jax
import numpy as np
from sklearn import datasets as sklearn_datasets

from ganjax.data import dataset


@gin.configurable(module="datasets")
def digits(seed: int, size: int = 32) -> dataset.ArrayDataset:
  """The digits as [1797, size, size, 1] images in [-1, 1], with labels.

  Args:
    seed: unused (the data are fixed); part of every data set's signature.
    size: output height and width.
  """
  del seed
  raw = sklearn_datasets.load_digits()
  images = np.asarray(raw.images, np.float32)[..., None] / 16.0
  images = np.asarray(jax.image.resize(
      images, (len(images), size, size, 1), "bilinear"))
  images = np.clip(images, 0.0, 1.0) * 2.0 - 1.0
  return dataset.ArrayDataset(
      images, np.asarray(raw.target), dataset.DataSpec((size, size, 1), 10,
                                                       True))
