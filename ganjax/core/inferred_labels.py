"""Labels inferred for the images whose label was withheld.

Two ways of Lucic et al. 2019 ("High-Fidelity Image Generation With Fewer
Labels"): S3GAN's D labels them with its class head, trained on the labeled
images during the GAN run (`predict`); S²GAN fits a linear classifier (a
linear probe) on the labeled images' D features, learnt with rotation
self-supervision, and labels the rest with it (`features`, `linear_probe`).
`run/run_dir.py` labels a run's train set with them; `infer_labels.py`
writes those labels for a later run (`label_file` of the data sets).
"""

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from sklearn import linear_model
from sklearn import pipeline
from sklearn import preprocessing

from ganjax.core import gan as gan_lib
from ganjax.core import state as state_lib
from ganjax.data import dataset


def _sown_by_d(gan: gan_lib.GAN, state: state_lib.GANState,
               images: np.ndarray, name: str, fix: str,
               batch_size: int) -> np.ndarray:
  """What D sows as `name` for each image, in inference mode and with every
  label withheld (all-zero rows, so a projection uses the predictions)."""

  @jax.jit
  def run(x):
    y = jnp.zeros((x.shape[0], gan.num_classes)) if gan.conditional else None
    sown = {}
    gan.call(gan.discriminator, state.d_params, state.d_collections, x, y,
             train=False, sown=sown)
    return gan_lib.sown_head(sown, name, fix)

  outputs = []
  for start in range(0, len(images), batch_size):
    chunk = images[start:start + batch_size]
    if chunk.dtype == np.uint8:
      chunk = dataset.images_to_model_range(chunk)
    padded = np.concatenate(  # One compiled shape for the last chunk too.
        [chunk, np.zeros((batch_size - len(chunk), *chunk.shape[1:]),
                         chunk.dtype)])
    outputs.append(np.asarray(run(padded))[:len(chunk)])
  return np.concatenate(outputs)


def predict(gan: gan_lib.GAN, state: state_lib.GANState, images: np.ndarray,
            batch_size: int = 256) -> np.ndarray:
  """[N] int32: the class D's class head predicts for each image (S3GAN)."""
  if "class_logits" not in gan.d_heads:
    raise ValueError("This GAN's discriminator has no class head; train "
                     "with GAN.terms = [@terms.LabelPredictor()] (S3GAN) or "
                     "use a linear probe on its features.")
  logits = _sown_by_d(gan, state, images, "class_logits",
                      "set its aux_classifier = True", batch_size)
  return np.argmax(logits, -1).astype(np.int32)


def features(gan: gan_lib.GAN, state: state_lib.GANState, images: np.ndarray,
             batch_size: int = 256) -> np.ndarray:
  """[N, F]: D's penultimate features of each image."""
  return _sown_by_d(gan, state, images, "features",
                    "pick one built on models.base.Discriminator",
                    batch_size)


def linear_probe(train_features: np.ndarray,
                 labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
  """A logistic-regression classifier of standardized features, fitted on
  the labeled rows (labels ≥ 0); returns its predict function."""
  labeled = labels >= 0
  if not labeled.any():
    raise ValueError("No labeled examples to fit the linear probe on.")
  probe = pipeline.make_pipeline(
      preprocessing.StandardScaler(),
      linear_model.LogisticRegression(max_iter=2000))
  probe.fit(train_features[labeled], labels[labeled])
  return lambda x: probe.predict(x).astype(np.int32)


def fill(labels: np.ndarray, inferred: np.ndarray) -> np.ndarray:
  """The known labels, with the inferred ones where a label was withheld."""
  return np.where(labels >= 0, labels, inferred).astype(np.int32)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
  """Fraction of `predicted` equal to the true `labels`."""
  return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


