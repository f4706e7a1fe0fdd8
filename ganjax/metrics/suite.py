"""The evaluation metrics under their gin names, over a real and a generated
set.

Each metric maps a `SampleSets` to a dict of scores, and runs list them:

  evaluation.metrics = [@metrics.fid, @metrics.kid, @metrics.inception_score]
  metrics.kid.num_subsets = 100

Inception features of each set are computed once, when a metric first needs
them; real-set features may come from a cache (`run/evaluation.py`). `BY_NAME`
gives the short names of `python -m ganjax.fid --metrics`.
"""

import functools
import zlib
from typing import Any, Callable, Sequence

from absl import logging
import gin
import numpy as np

from ganjax.metrics import digit_classes as digit_classes_lib
from ganjax.metrics import frechet
from ganjax.metrics import inception_score as inception_score_lib
from ganjax.metrics import kernel_distance
from ganjax.metrics import ms_ssim as ms_ssim_lib
from ganjax.metrics import prdc
from ganjax.metrics import sliced_wasserstein as swd_lib

Features = dict[str, np.ndarray]


class SampleSets:
  """Real and generated uint8 images, and their features computed lazily.

  Attributes:
    real_images: [N, H, W, C] uint8 real images (may be None when
      real_features are given and no metric needs real pixels).
    fake_images: [M, H, W, C] uint8 generated images.
    seed: seeds each metric's random draws (subsets, projections, batches).
    real_labels, fake_labels: [N] and [M] int classes of the images, for
      per-class metrics (intra-FID); None where unknown.
  """

  def __init__(self, real_images: np.ndarray | None, fake_images: np.ndarray,
               make_extractor: Callable[[], Callable[[np.ndarray], Features]],
               real_features: Features | None = None, seed: int = 0,
               real_labels: np.ndarray | None = None,
               fake_labels: np.ndarray | None = None):
    """`make_extractor` (e.g. `features.factory()`) is called only when a
    metric needs features, so pixel metrics need no Inception weights."""
    self.real_images = real_images
    self.fake_images = fake_images
    self.seed = seed
    self.real_labels = real_labels
    self.fake_labels = fake_labels
    self._make_extractor = functools.cache(make_extractor)
    if real_features is not None:
      self.__dict__["real_features"] = real_features

  @functools.cached_property
  def real_features(self) -> Features:
    """The real images' features, computed on first use."""
    if self.real_images is None:
      raise ValueError("No real images or real features to compare with.")
    return self._make_extractor()(self.real_images)

  @functools.cached_property
  def fake_features(self) -> Features:
    """The generated images' features, computed on first use."""
    return self._make_extractor()(self.fake_images)

  def rng(self, metric: str) -> np.random.Generator:
    """A generator of its own per metric, so adding a metric changes none."""
    return np.random.default_rng([self.seed, zlib.crc32(metric.encode())])


@gin.configurable("metrics.fid", denylist=["sets"])
def fid(sets: SampleSets) -> dict[str, float]:
  """Fréchet Inception distance (Heusel et al. 2017) of pool3 features."""
  return {"fid": frechet.fid(sets.real_features["pool3"],
                             sets.fake_features["pool3"])}


@gin.configurable("metrics.intra_fid", denylist=["sets"])
def intra_fid(sets: SampleSets, each_class: bool = False
              ) -> dict[str, float]:
  """Intra-FID (Miyato & Koyama 2018): the mean over classes of the FID
  between the real and the generated images of each class, as StudioGAN
  and the BigGAN papers report it for conditional models; `each_class`
  adds each class's FID (`fid_class_<k>`). Needs the labels of both sets
  and at least 2 images of each side per class."""
  if sets.real_labels is None or sets.fake_labels is None:
    raise ValueError("Intra-FID needs the classes of the real and of the "
                     "generated images: a conditional model and labeled real "
                     "data (ganjax.fid: an .npz with `labels`, or class "
                     "sub-folders).")
  real, fake = sets.real_features["pool3"], sets.fake_features["pool3"]
  classes = np.union1d(sets.real_labels, sets.fake_labels)
  classes = classes[classes >= 0]  # −1: a withheld real label.
  per_class = {}
  for k in classes:
    sides = real[sets.real_labels == k], fake[sets.fake_labels == k]
    if min(len(side) for side in sides) < 2:
      raise ValueError(
          f"Class {k} has {len(sides[0])} real and {len(sides[1])} generated "
          "images; intra-FID needs at least 2 of each (more for a meaningful "
          "one: StudioGAN uses all real images of a class).")
    per_class[f"fid_class_{k}"] = frechet.fid(*sides)
  scores = {"intra_fid": float(np.mean(list(per_class.values())))}
  return {**scores, **per_class} if each_class else scores


@gin.configurable("metrics.kid", denylist=["sets"])
def kid(sets: SampleSets, num_subsets: int = 100,
        subset_size: int = 1000) -> dict[str, float]:
  """Kernel Inception distance (Bińkowski et al. 2018), averaged over subsets."""
  return kernel_distance.kernel_distance(
      sets.real_features["pool3"], sets.fake_features["pool3"],
      sets.rng("kid"), num_subsets, subset_size)


@gin.configurable("metrics.inception_score", denylist=["sets"])
def inception_score(sets: SampleSets, num_splits: int = 10,
                    use_bias: bool = False) -> dict[str, float]:
  """Inception Score (Salimans et al. 2016); empty without classifier weights.

  The samples are shuffled before the splits. `use_bias=False` is
  improved-gan's (and StyleGAN2-ADA's) softmax of pool3 × W alone; True adds
  the classifier's bias, as TF-GAN and Compare GAN do.
  """
  if "logits" not in sets.fake_features:
    logging.warning("The Inception weights have no classifier (fid-helper's "
                    "default_1.pt), so there is no Inception Score; use "
                    "pytorch-fid's pt_inception-2015-12-05 file for it.")
    return {}
  logits = sets.fake_features["logits" if use_bias else "logits_unbiased"]
  order = sets.rng("inception_score").permutation(len(logits))
  return inception_score_lib.inception_score(logits[order], num_splits)


@gin.configurable("metrics.precision_recall", denylist=["sets"])
def precision_recall(sets: SampleSets, k: int = 3) -> dict[str, float]:
  """Improved precision and recall (Kynkäänniemi et al. 2019) of pool3."""
  return prdc.precision_recall(sets.real_features["pool3"],
                               sets.fake_features["pool3"], k)


@gin.configurable("metrics.density_coverage", denylist=["sets"])
def density_coverage(sets: SampleSets, k: int = 5) -> dict[str, float]:
  """Density and coverage (Naeem et al. 2020) of pool3 features."""
  return prdc.density_coverage(sets.real_features["pool3"],
                               sets.fake_features["pool3"], k)


@gin.configurable("metrics.ms_ssim", denylist=["sets"])
def ms_ssim(sets: SampleSets, num_batches: int = 5, batch_size: int = 64,
            shrink_window: bool = True) -> dict[str, float]:
  """MS-SSIM of generated pairs (Odena et al. 2017; lower: more diverse).

  `shrink_window` is Compare GAN's variant, which scores images under 161 px
  (TF's 5-scale bound) with a window shrunk to fit each scale.
  """
  return ms_ssim_lib.ms_ssim_diversity(sets.fake_images, sets.rng("ms_ssim"),
                                       num_batches, batch_size,
                                       shrink_window=shrink_window)


@gin.configurable("metrics.sliced_wasserstein", denylist=["sets"])
def sliced_wasserstein(sets: SampleSets) -> dict[str, float]:
  """Sliced Wasserstein distance of Laplacian-pyramid patches (Karras et al.
  2018), ×1e3."""
  return swd_lib.sliced_wasserstein(sets.real_images, sets.fake_images,
                                    sets.rng("sliced_wasserstein"))


@gin.configurable("metrics.digit_classes", denylist=["sets"])
def digit_classes(sets: SampleSets, threshold: float = 0.8,
                  min_share: float = 0.02) -> dict[str, float]:
  """Which digits a model of `datasets.digits` draws, by a classifier of the
  real digits: confident fraction, classes present, KL from uniform."""
  return digit_classes_lib.digit_classes(sets.fake_images, threshold,
                                         min_share)


Metric = Callable[[SampleSets], dict[str, float]]

# Metrics of pixels alone, which need no Inception network.
PIXEL_METRICS = (ms_ssim, sliced_wasserstein, digit_classes)

BY_NAME: dict[str, Metric] = {
    "fid": fid, "kid": kid, "is": inception_score, "pr": precision_recall,
    "dc": density_coverage, "ms_ssim": ms_ssim, "swd": sliced_wasserstein,
    "digits": digit_classes, "intra_fid": intra_fid}


def by_names(names: list[str]) -> list[Metric]:
  """The metrics of `BY_NAME` called `names`, or an error listing them."""
  unknown = sorted(set(names) - set(BY_NAME))
  if unknown:
    raise ValueError(f"Unknown metrics {unknown}; choose from "
                     f"{sorted(BY_NAME)}.")
  return [BY_NAME[name] for name in names]


# Scores where higher is better; every other score is better lower (FID,
# KID, reverse KL, MS-SSIM, sliced Wasserstein).
HIGHER_IS_BETTER = ("inception_score", "modes", "high_quality", "precision",
                    "recall", "density", "coverage")


def higher_is_better(score: str) -> bool:
  """Whether a larger `score` (a metric's output, or its `_std`) is better."""
  return score.removesuffix("_std") in HIGHER_IS_BETTER


def needs_inception(metrics: Sequence[Metric]) -> bool:
  """Whether any of `metrics` compares Inception features."""
  return any(metric not in PIXEL_METRICS for metric in metrics)


def protocol(real: str, num_real: int | str, num_fake: int | str,
             num_draws: int, extractor: Any | None) -> dict[str, str]:
  """How scores were measured, as the records beside them name it (FIDs of
  different protocols do not compare): the real set, the numbers of real
  and generated images, the draws averaged, and the Inception network's
  resize and weights (the hash of its fingerprint), "none" without one."""
  return {
      "protocol.real": real,
      "protocol.num_real": str(num_real),
      "protocol.num_fake": str(num_fake),
      "protocol.num_draws": str(num_draws),
      "protocol.resize": extractor.resize if extractor else "none",
      "protocol.inception": (extractor.fingerprint.rsplit("-", 1)[-1]
                             if extractor else "none"),
  }


def evaluate(sets: SampleSets, metrics: list[Metric]) -> dict[str, float]:
  """All scores of `metrics` on `sets`, merged into one dict."""
  scores = {}
  for metric in metrics:
    scores.update(metric(sets))
  return scores
