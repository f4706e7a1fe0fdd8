"""`python -m ganjax.export` end to end: the exported G, reloaded, draws
`ganjax.sample`'s images."""

import json
import os

import jax
import numpy as np
import pytest

from ganjax.run import generator_export
from ganjax.run import image_files

from tests import paths
from tests import workdirs

_NUM = 6


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  """A conditional tiny DCGAN (batch norm, EMA) trained 2 steps, its export
  and `ganjax.sample`'s samples of it."""
  root = tmp_path_factory.mktemp("export")
  workdir = str(root / "run")
  workdirs.train_in_process(
      workdir, [os.path.join(paths.TESTDATA, "tiny_digits.gin")],
      ["GAN.conditional = True", "GAN.prior = 'normal'",
       "GAN.ema_decay = 0.5", "GAN.ema_start_step = 0",
       "generator/optax.adam.learning_rate = 0.05"], num_steps=2)
  processes = [
      workdirs.start("ganjax.export", [f"--workdir={workdir}",
                                       f"--out={root / 'g'}"]),
      workdirs.start("ganjax.sample", [
          f"--workdir={workdir}", f"--num_samples={_NUM}",
          f"--out={root / 'samples.npz'}"])]
  for process in processes:
    code, log = workdirs.finish(process)
    assert code == 0, log[-3000:]
  with np.load(root / "samples.npz") as data:
    samples = dict(data)
  return workdir, str(root / "g"), samples


def _sample_inputs(samples, z_dim):
  """The inputs `ganjax.sample --seed=0` gave G: its first batch of 256
  latents (`sampling.draw`) and the labels it wrote, padded to 256."""
  key = jax.random.fold_in(jax.random.key(0), 0)
  z = np.asarray(jax.random.normal(key, (256, z_dim)))
  labels = np.pad(samples["labels"], (0, 256 - _NUM))
  return z, labels


def test_stablehlo_reproduces_the_samples_bit_for_bit(exported):
  _, out, samples = exported
  with open(os.path.join(out, "inputs.json")) as f:
    described = json.load(f)
  assert list(described["inputs"]) == ["z", "label"]
  assert described["output"] == [28, 28, 1]
  z_dim = int(described["inputs"]["z"].split("[b, ")[1].split("]")[0])
  with open(os.path.join(out, generator_export.STABLEHLO), "rb") as f:
    g = jax.export.deserialize(bytearray(f.read()))
  z, labels = _sample_inputs(samples, z_dim)
  images = image_files.to_uint8(np.asarray(g.call(z, labels)))[:_NUM]
  np.testing.assert_array_equal(images, samples["samples"])
  # Any batch size: the batch is symbolic.
  np.testing.assert_allclose(np.asarray(g.call(z[:3], labels[:3])),
                             np.asarray(g.call(z, labels))[:3], atol=1e-5)


def test_saved_model_reproduces_the_samples(exported):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  _, out, samples = exported
  g = tf.saved_model.load(os.path.join(out, generator_export.SAVED_MODEL))
  z, labels = _sample_inputs(samples, g.generate.input_signature[0].shape[1])
  images = g.generate(tf.constant(z), tf.constant(labels, tf.int32)).numpy()
  want = samples["samples"].astype(np.float32) / 127.5 - 1.0
  np.testing.assert_allclose(images[:_NUM], want, atol=1.5 / 127.5)
  assert "README.md" in os.listdir(out)

