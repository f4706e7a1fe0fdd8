"""Tests of the gin-named evaluation metrics over sample sets."""

import gin
import numpy as np
import pytest

from ganjax.metrics import frechet
from ganjax.metrics import inception_score as inception_score_lib
from ganjax.metrics import kernel_distance
from ganjax.metrics import suite


@gin.configurable("suite_test")
def _listed(metrics=()):
  return metrics


def _images(seed, n=70, size=24):
  return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3),
                                              np.uint8)


def test_gin_names_are_the_metrics(clean_gin):
  gin.parse_config("""
      suite_test.metrics = [
          @metrics.fid, @metrics.kid, @metrics.inception_score,
          @metrics.precision_recall, @metrics.density_coverage,
          @metrics.ms_ssim, @metrics.sliced_wasserstein]
  """)
  assert list(_listed()) == [
      suite.fid, suite.kid, suite.inception_score, suite.precision_recall,
      suite.density_coverage, suite.ms_ssim, suite.sliced_wasserstein]


def test_scores_are_those_of_the_metric_functions(clean_gin, fake_inception):
  gin.parse_config("metrics.kid.num_subsets = 7")
  real, fake = _images(0), _images(1)
  sets = suite.SampleSets(real, fake, lambda: fake_inception, seed=3)
  scores = suite.evaluate(sets, [suite.fid, suite.kid, suite.inception_score,
                                 suite.precision_recall,
                                 suite.density_coverage])
  real_f = fake_inception(real)["pool3"]
  fake_f = fake_inception(fake)["pool3"]
  assert scores["fid"] == pytest.approx(frechet.fid(real_f, fake_f))
  want_kid = kernel_distance.kernel_distance(real_f, fake_f, sets.rng("kid"),
                                             num_subsets=7)
  assert scores["kid"] == pytest.approx(want_kid["kid"])
  assert set(scores) == {"fid", "kid", "kid_std", "inception_score",
                         "inception_score_std", "precision", "recall",
                         "density", "coverage"}


def test_intra_fid_is_the_mean_of_the_classes_fids(clean_gin,
                                                   fake_inception):
  real, fake = _images(0, n=60), _images(1, n=45)
  real_labels = np.arange(60) % 3
  fake_labels = np.where(np.arange(45) < 5, -1, np.arange(45) % 3)
  fake_labels[:5] = 2  # Uneven classes are fine.
  real_labels[:4] = -1  # Withheld labels are left out.
  sets = suite.SampleSets(real, fake, lambda: fake_inception,
                          real_labels=real_labels, fake_labels=fake_labels)
  real_f = fake_inception(real)["pool3"]
  fake_f = fake_inception(fake)["pool3"]
  want = [frechet.fid(real_f[real_labels == k], fake_f[fake_labels == k])
          for k in range(3)]
  scores = suite.intra_fid(sets, each_class=True)
  assert scores["intra_fid"] == pytest.approx(np.mean(want))
  assert [scores[f"fid_class_{k}"] for k in range(3)] == pytest.approx(want)
  assert set(suite.intra_fid(sets)) == {"intra_fid"}  # Gin's default.
  with pytest.raises(ValueError, match="needs the classes"):
    suite.intra_fid(suite.SampleSets(real, fake, lambda: fake_inception))
  few = suite.SampleSets(real, fake, lambda: fake_inception,
                         real_labels=real_labels,
                         fake_labels=np.where(np.arange(45) == 0, 3, 0))
  with pytest.raises(ValueError, match="Class 1 has 19 real and 0 generated"):
    suite.intra_fid(few)


def test_features_are_computed_once_per_set(fake_inception):
  sets = suite.SampleSets(_images(0), _images(1), lambda: fake_inception)
  suite.evaluate(sets, [suite.fid, suite.kid, suite.precision_recall])
  assert fake_inception.images_seen == 140


def test_cached_real_features_are_used(fake_inception):
  cached = fake_inception(_images(0))
  sets = suite.SampleSets(None, _images(1), lambda: fake_inception,
                          real_features=cached)
  suite.evaluate(sets, [suite.fid])
  assert fake_inception.images_seen == 140  # 70 cached + 70 generated.


def test_pixel_metrics_need_no_inception():
  def no_inception():
    raise AssertionError("Inception made")
  sets = suite.SampleSets(_images(0, 128, 32), _images(1, 128, 32),
                          no_inception)
  color = [m for m in suite.PIXEL_METRICS if m is not suite.digit_classes]
  scores = suite.evaluate(sets, color)
  assert 0 < scores["ms_ssim"] < 0.5  # Independent noise is diverse.
  assert {"swd_32", "swd_16", "swd_mean"} <= set(scores)
  gray = suite.SampleSets(None, _images(1, 128, 32)[..., :1], no_inception)
  scores = suite.evaluate(gray, [suite.digit_classes])
  assert set(scores) == {"digit_confident", "digit_classes", "digit_kl"}


def test_inception_score_needs_the_classifier(fake_inception):
  fake_inception.has_logits = False
  without = lambda images: {"pool3": fake_inception(images)["pool3"]}
  sets = suite.SampleSets(_images(0), _images(1), lambda: without)
  assert suite.inception_score(sets) == {}


def test_short_names_cover_the_metrics():
  assert set(suite.BY_NAME) == {"fid", "kid", "is", "pr", "dc", "ms_ssim",
                                "swd", "digits", "intra_fid"}


def test_metrics_by_name_and_unknown_names(clean_gin):
  assert suite.by_names(["kid", "fid"]) == [suite.kid, suite.fid]
  with pytest.raises(ValueError, match=r"Unknown metrics \['fdi'\]; choose "
                     "from"):
    suite.by_names(["fid", "fdi"])  # ganjax.fid --metrics=fid,fdi


def test_higher_is_better_for_scores_and_their_std():
  assert suite.higher_is_better("precision")
  assert suite.higher_is_better("modes")
  assert suite.higher_is_better("inception_score_std")
  assert not suite.higher_is_better("fid")
  assert not suite.higher_is_better("reverse_kl")


def test_inception_score_leaves_out_the_bias_unless_asked(fake_inception):
  sets = suite.SampleSets(_images(0), _images(1), lambda: fake_inception)
  logits = fake_inception(_images(1))
  order = sets.rng("inception_score").permutation(70)
  unbiased = inception_score_lib.inception_score(
      logits["logits_unbiased"][order], 10)
  assert suite.inception_score(sets) == pytest.approx(unbiased)
  biased = inception_score_lib.inception_score(logits["logits"][order], 10)
  assert suite.inception_score(sets, use_bias=True) == pytest.approx(biased)
