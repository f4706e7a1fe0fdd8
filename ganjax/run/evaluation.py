"""Scores of a train state: the gin-listed metrics, averaged over sample draws.

`python -m ganjax.evaluate` runs this on a run's checkpoints and the training
loop on its current state (`train.eval_every`). What is measured is gin:

  evaluation.metrics = [@metrics.fid, @metrics.kid]
  evaluation.num_samples = 10000   # Compare GAN: 10k against the test split.
  evaluation.num_draws = 3

Real images come from the experiment's data set (or `evaluation.dataset`,
e.g. a test split), without its random augmentation; their Inception
features are cached on disk under the hash of the images and of the feature
settings, so a data set, split and sample count is embedded once. Scores go to TensorBoard and to
`<workdir>/scores.csv`, one row per step, with the run's gin parameters.
"""

import functools
import hashlib
import inspect
import os
import tempfile
from typing import Callable, Sequence

from absl import logging
from clu import metric_writers
import gin
import jax
import numpy as np

from ganjax.core import sampling
from ganjax.core import state as state_lib
from ganjax.data import dataset as dataset_lib
from ganjax.metrics import mode_coverage
from ganjax.metrics import suite
from ganjax.metrics.inception import features
from ganjax.metrics.inception import weights as inception_weights
from ganjax.run import checkpoint
from ganjax.run import experiment as experiment_lib
from ganjax.run import image_files
from ganjax.run import run_dir
from ganjax.run import scores_file

Scores = dict[str, float]


def real_images(data: dataset_lib.Dataset, num: int, seed: int,
                batch_size: int = 500
                ) -> tuple[np.ndarray, np.ndarray | None]:
  """`num` uint8 images of `data` in a fixed order (its batches for `seed`),
  and their labels (None for unlabeled data)."""
  batches = [data.batch(i, batch_size, seed)
             for i in range(-(-num // batch_size))]
  images = image_files.to_uint8(np.concatenate([b["x"] for b in batches]))
  labels = (np.concatenate([b["label"] for b in batches])[:num]
            if "label" in batches[0] else None)
  return images[:num], labels


def cached_features(images: np.ndarray,
                    extractor: features.InceptionFeatures) -> suite.Features:
  """The Inception features of `images`, from or into the on-disk cache."""
  key = hashlib.sha256(images.tobytes())
  key.update(repr((images.shape, extractor.fingerprint)).encode())
  path = os.path.join(inception_weights.cache_dir(), "features",
                      key.hexdigest()[:32] + ".npz")
  if os.path.exists(path):
    with np.load(path) as cached:
      return dict(cached)
  out = {"pool3": extractor(images)["pool3"]}
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with tempfile.NamedTemporaryFile(dir=os.path.dirname(path), suffix=".npz",
                                   delete=False) as f:
    np.savez(f, **out)
  os.replace(f.name, path)
  return out


@gin.configurable("evaluation", denylist=["exp", "state", "make_extractor"])
def evaluate(exp: experiment_lib.Experiment, state: state_lib.GANState,
             make_extractor: Callable[[], features.InceptionFeatures],
             metrics: Sequence[suite.Metric] = (suite.fid,),
             num_samples: int = 10000, num_draws: int = 1,
             dataset: Callable[[int], dataset_lib.Dataset] | None = None,
             use_ema: bool | None = None, standing_stats: int = 0,
             seed: int = 0) -> Scores:
  """Scores of `state`: the mean (and `<name>_std` over draws) of each metric.

  Args:
    exp: the run's experiment.
    state: the train state evaluated.
    make_extractor: makes the Inception feature extractor (called once, on
      need; image data only).
    metrics: the `metrics.*` functions computed.
    num_samples: generated (and real) images per draw.
    num_draws: independent sets of generated images averaged over.
    dataset: the real data (a `datasets.*` factory); the run's by default.
    use_ema: with G's EMA weights; by default when the run keeps them.
    standing_stats: recompute G's batch-norm statistics over this many
      samples first (Compare GAN's BigGAN protocol); 0 keeps them.
    seed: seeds the latents and the metrics' random draws.
  """
  gan = exp.sampling_gan(state)
  make_extractor = functools.cache(make_extractor)
  use_ema = state.ema_params is not None if use_ema is None else use_ema
  key = jax.random.key(seed)
  key, stats_key = jax.random.split(key)
  if standing_stats:
    state = sampling.with_standing_statistics(gan, state, stats_key,
                                              standing_stats, use_ema)
  data = (exp.data if dataset is None else dataset(seed)).for_evaluation()
  mixture = getattr(data, "mixture", None)
  if not data.spec.is_image and mixture is None:
    raise ValueError("Only image data and Gaussian mixtures have evaluation "
                     "metrics.")
  real, real_labels, real_features = _real_side(data, num_samples, seed,
                                                metrics, make_extractor)
  fake_labels = sampling.classes_in_turn(gan, num_samples)
  draws = []
  for draw in range(num_draws):
    fake = sampling.draw(gan, state, jax.random.fold_in(key, draw),
                         num_samples, use_ema, fake_labels)
    if not np.isfinite(fake).all():
      raise FloatingPointError(
          f"G made non-finite samples at step {int(state.step)}: the run has "
          "diverged; evaluate an earlier checkpoint.")
    if mixture is not None:
      draws.append(mode_coverage.mode_coverage(fake, mixture.means,
                                               mixture.std))
    else:
      sets = suite.SampleSets(real, image_files.to_uint8(fake), make_extractor,
                              real_features, seed + draw, real_labels,
                              fake_labels)
      draws.append(suite.evaluate(sets, list(metrics)))
  scores = {k: float(np.mean([d[k] for d in draws])) for k in draws[0]}
  if num_draws > 1:
    scores.update({f"{k}_std": float(np.std([d[k] for d in draws]))
                   for k in draws[0]})
  return scores


def _real_side(data: dataset_lib.Dataset, num_samples: int, seed: int,
               metrics: Sequence[suite.Metric],
               make_extractor: Callable[[], features.InceptionFeatures]
               ) -> tuple[np.ndarray | None, np.ndarray | None,
                          dict[str, np.ndarray] | None]:
  """The real images of an evaluation, their labels and, if a metric needs
  them, their (cached) Inception features; Nones for non-image data."""
  if not data.spec.is_image:
    return None, None, None
  if num_samples > len(data):
    raise ValueError(f"evaluation.num_samples = {num_samples} exceeds the "
                     f"{len(data)} real images; repeats would bias the "
                     "scores. Lower it or pick a larger split.")
  real, labels = real_images(data, num_samples, seed)
  if not suite.needs_inception(metrics):
    return real, labels, None
  return real, labels, cached_features(real, make_extractor())


def _setting(name: str):
  """`evaluation.<name>` as `evaluate` gets it: gin's binding, or its
  default."""
  bound = gin.get_bindings("evaluation")
  if name in bound:
    return bound[name]
  return inspect.signature(evaluate).parameters[name].default


def needs_inception() -> bool:
  """Whether the gin-bound `evaluation.metrics` need Inception features."""
  return suite.needs_inception(_setting("metrics"))


def protocol(exp: experiment_lib.Experiment,
             make_extractor: Callable[[], features.InceptionFeatures]
             ) -> dict[str, str]:
  """`suite.protocol` of `evaluate` under the parsed config: its real data
  (the data set's name), sample counts and draws, and the Inception it
  uses."""
  dataset = _setting("dataset")
  data = exp.data if dataset is None else dataset(_setting("seed"))
  image = data.spec.is_image
  num = _setting("num_samples")
  return suite.protocol(
      data.name, num if image else 0, num, _setting("num_draws"),
      make_extractor() if image and needs_inception() else None)


def score_and_record(workdir: str, step: int, exp: experiment_lib.Experiment,
                     state: state_lib.GANState,
                     make_extractor: Callable[[], features.InceptionFeatures],
                     writer: metric_writers.MetricWriter) -> Scores:
  """Evaluates `state`, adds its row to scores.csv (from process 0) and
  writes the scores to `writer`; the training loop and `ganjax.evaluate`
  both record this way."""
  scores = evaluate(exp, state, make_extractor)
  if jax.process_index() == 0:
    scores_file.append(workdir, step, scores, protocol(exp, make_extractor))
  writer.write_scalars(step, scores)
  writer.flush()
  return scores


def evaluate_new_checkpoints(
    workdir: str, exp: experiment_lib.Experiment,
    make_extractor: Callable[[], features.InceptionFeatures],
    writer: metric_writers.MetricWriter,
    unreadable: set[int] | None = None) -> list[int]:
  """Scores every checkpoint of `workdir` not in scores.csv; returns steps.

  Checkpoints that cannot be read are skipped with a warning and added to
  `unreadable`; those already in it are skipped silently (a --continuous
  evaluation warns once).
  """
  manager = checkpoint.manager(workdir, create=False)
  template = jax.eval_shape(exp.init_state)
  unreadable = set() if unreadable is None else unreadable
  scored = []
  try:
    for step in sorted(set(manager.all_steps()) - scores_file.steps(workdir)
                       - unreadable):
      try:
        state = checkpoint.restore_step(manager, template, step)
      except ValueError as e:
        manager.reload()
        if step in manager.all_steps():
          logging.warning("%s Skipped it.", e)
          unreadable.add(step)
        else:  # Deleted by the run's max_to_keep while it was being read.
          logging.warning("Checkpoint %d disappeared before it was read.",
                          step)
        continue
      score_and_record(workdir, step, exp, state, make_extractor, writer)
      scored.append(step)
  finally:
    manager.close()
  return scored


def score_run(workdir: str, metrics: list[Callable[..., Scores]],
              num_samples: int,
              make_extractor: Callable[[], features.InceptionFeatures]
              ) -> tuple[int, Scores]:
  """(step, scores) of the latest checkpoint of the run in `workdir`, with
  `metrics` and `num_samples` in place of its config's evaluation settings
  (e.g. to compare finished runs at one protocol). Clears gin first: each
  run is rebuilt from its own config.gin."""
  gin.clear_config()
  exp, state = run_dir.load_run(workdir)
  with gin.unlock_config():
    gin.bind_parameter("evaluation.metrics", metrics)
    gin.bind_parameter("evaluation.num_samples", num_samples)
  return int(state.step), evaluate(exp, state, make_extractor)
