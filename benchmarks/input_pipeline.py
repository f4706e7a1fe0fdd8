r"""Input pipeline throughput against what the training step consumes.

For each data set it times `Dataset.batch` (what the training loop calls) on
2 CPU cores and prints images/s beside the images/s a training step
consumes (steps/s of the network measured in the same run × batch size), and
their ratio (target ≥ 10×). It also times the tf.data path on the same data
(`tfds.load` of a TFRecord copy → shuffle → batch → prefetch → numpy), the
alternative that the data layer was chosen against.

Data sets: real Fashion-MNIST (prepared from Debian's package if it is not
prepared yet; held in memory), the same data read example by example from
its TFDS data source (the path the large data sets take: PNG decoding and
preprocessing per example), a synthetic TFDS data set of 218×178 PNG
images with CelebA's 160 → 64 preprocessing, and 50k random 32×32×3 images
in memory (CIFAR-10's path; there is no offline CIFAR-10).

  python benchmarks/input_pipeline.py [--data_dir=/tmp/ganjax_bench_tfds]
"""

import functools
import os
import time

from absl import app
from absl import flags
import jax
import numpy as np
import tensorflow_datasets as tfds

from ganjax.data import catalog
from ganjax.data import dataset
from ganjax.data import prepare
from ganjax.run import registry  # pylint: disable=unused-import

_DATA_DIR = flags.DEFINE_string("data_dir", "/tmp/ganjax_bench_tfds",
                                "TFDS data directory for the prepared data.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Batch size.")
_SECONDS = flags.DEFINE_float("seconds", 5.0, "Seconds timed per pipeline.")


class FaceLike(tfds.core.GeneratorBasedBuilder):
  """2,000 random 218×178 PNG images: CelebA's size and encoding."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict(
        {"image": tfds.features.Image(shape=(218, 178, 3))}))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples()}

  def _generate_examples(self):
    from PIL import Image  # pylint: disable=import-outside-toplevel
    rng = np.random.default_rng(0)
    # Smooth random images, so PNG compresses them about as well as photos.
    for i in range(2000):
      small = rng.integers(0, 256, (28, 23, 3), np.uint8)
      yield i, {"image": Image.fromarray(small).resize((178, 218))}


def images_per_second(next_batch, batch_size: int, seconds: float) -> float:
  """Images/s of `next_batch()` calls over about `seconds`."""
  next_batch()  # Warm-up (caches, compilation).
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    next_batch()
    count += batch_size
  return count / (time.perf_counter() - start)


def our_pipeline(data, batch_size: int):
  step = iter(range(10**9))
  return lambda: data.batch(next(step), batch_size, seed=0)


def tf_data_pipeline(name: str, data_dir: str, batch_size: int):
  """tfds.load → shuffle → batch → prefetch, as numpy (TFRecord copy)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  tf.config.set_visible_devices([], "GPU")
  tfrecord_dir = os.path.join(data_dir, "tfrecord")
  prepare.prepare(name, data_dir=tfrecord_dir, file_format="tfrecord")
  builder = tfds.builder(name, data_dir=tfrecord_dir, file_format="tfrecord")
  ds = builder.as_dataset(split="train").repeat().shuffle(10_000, seed=0)
  ds = ds.map(lambda e: (tf.cast(e["image"], tf.float32) / 127.5 - 1.0,
                         e["label"]), num_parallel_calls=tf.data.AUTOTUNE)
  it = iter(tfds.as_numpy(ds.batch(batch_size).prefetch(2)))
  return lambda: next(it)


def dcgan_steps_per_second(batch_size: int) -> float:
  """Training steps/s of the dcgan at 28×28×1 (Compare GAN's width 64)."""
  import gin  # pylint: disable=import-outside-toplevel
  from ganjax.core import steps  # pylint: disable=import-outside-toplevel
  from ganjax.run import config, experiment  # pylint: disable=import-outside-toplevel
  gin.clear_config()
  config.parse(["base.gin", "datasets/digits.gin", "models/dcgan.gin"],
               ["datasets.digits.size = 28",
                f"experiment.batch_size = {batch_size}",
                "train.num_steps = 1"])
  exp = experiment.make_experiment()
  state = exp.init_state()
  step = jax.jit(functools.partial(steps.train_step, exp.gan),
                 donate_argnums=0)
  state, _ = step(state, exp.batch(0), exp.train_key)
  jax.block_until_ready(state)
  start, n = time.perf_counter(), 3
  for i in range(n):
    state, _ = step(state, exp.batch(i), exp.train_key)
  jax.block_until_ready(state)
  return n / (time.perf_counter() - start)


def main(argv):
  del argv
  data_dir, batch_size, seconds = _DATA_DIR.value, _BATCH.value, _SECONDS.value
  start = time.perf_counter()
  try:
    train = catalog.tfds_dataset(0, name="fashion_mnist", data_dir=data_dir)
  except FileNotFoundError:
    prepare.prepare("fashion_mnist", data_dir=data_dir)
    train = catalog.tfds_dataset(0, name="fashion_mnist", data_dir=data_dir)
  print(f"Fashion-MNIST loaded into memory in "
        f"{time.perf_counter() - start:.1f} s (prepared if needed)")
  source = tfds.data_source("fashion_mnist", split="train", data_dir=data_dir)
  streamed = catalog.SourceDataset(source, catalog.Entry(
      "fashion_mnist", "train", "test", (28, 28, 1), 10,
      lambda image, rng, training: image), training=True)
  FaceLike(data_dir=data_dir, file_format="array_record").download_and_prepare()
  faces = catalog.SourceDataset(
      tfds.data_source("face_like", split="train", data_dir=data_dir),
      catalog.CATALOG["celeb_a"], training=True)

  cifar_like = dataset.ArrayDataset(
      np.random.default_rng(0).integers(0, 256, (50_000, 32, 32, 3), np.uint8),
      np.zeros(50_000, np.int32), dataset.DataSpec((32, 32, 3), 10, True))
  consumed = dcgan_steps_per_second(batch_size) * batch_size
  rows = [
      ("fashion_mnist, in memory (ganjax)", our_pipeline(train, batch_size),
       consumed),
      ("fashion_mnist, tf.data from TFRecord", tf_data_pipeline(
          "fashion_mnist", data_dir, batch_size), consumed),
      ("fashion_mnist, per-example data source (ganjax)",
       our_pipeline(streamed, batch_size), consumed),
      ("218×178 PNG → celeb_a 64×64, per-example (ganjax)",
       our_pipeline(faces, batch_size), None),
      ("50k random 32×32×3 uint8, in memory (CIFAR-10's path)",
       our_pipeline(cifar_like, batch_size), None),
  ]
  print(f"\nbatch {batch_size}, {os.cpu_count()} CPUs; the dcgan 28×28 step "
        f"consumes {consumed:.0f} images/s")
  print("| pipeline | images/s | step consumes | ratio |")
  print("|---|---:|---:|---:|")
  for name, pipeline, need in rows:
    rate = images_per_second(pipeline, batch_size, seconds)
    ratio = f"{rate / need:.0f}×" if need else "—"
    need_text = f"{need:.0f}" if need else "—"
    print(f"| {name} | {rate:.0f} | {need_text} | {ratio} |")


if __name__ == "__main__":
  app.run(main)
