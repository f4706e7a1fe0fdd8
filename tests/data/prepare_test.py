"""Tests of ganjax.data.prepare: offline Fashion-MNIST from Debian's files."""

import gzip
import hashlib
import os

import numpy as np
import pytest
from tensorflow_datasets.core.download import download_manager

from ganjax.data import catalog
from ganjax.data import prepare
from ganjax.run import config
from ganjax.run import train


def test_restore_gzip_header_keeps_the_content():
  payload = np.arange(1000, dtype=np.uint16).tobytes()
  stripped = gzip.compress(payload, mtime=0)
  assert not stripped[3] & 0x08
  restored = prepare.restore_gzip_header(stripped, "train-labels-idx1-ubyte",
                                         1504176606)
  assert restored[3] & 0x08
  assert int.from_bytes(restored[4:8], "little") == 1504176606
  assert restored[10:34] == b"train-labels-idx1-ubyte\0"
  assert gzip.decompress(restored) == payload
  # Idempotent: a file that has its name is left alone.
  assert prepare.restore_gzip_header(restored, "x", 0) == restored


def test_restore_gzip_header_rejects_other_files():
  with pytest.raises(ValueError, match="not a gzip file"):
    prepare.restore_gzip_header(b"PK\x03\x04" + bytes(20), "a.zip", 0)


# TFDS's registered sha256 of the upstream files (url_checksums).
_UPSTREAM_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
_needs_debian = pytest.mark.skipif(
    not os.path.isdir(prepare.DEBIAN_FASHION_MNIST),
    reason="needs `apt-get install dataset-fashion-mnist` (.ci/run does it)")


@_needs_debian
def test_debian_files_become_byte_identical_to_upstream(tmp_path):
  prepare.debian_fashion_mnist_to(prepare.DEBIAN_FASHION_MNIST, tmp_path)
  for name, sha256 in _UPSTREAM_SHA256.items():
    digest = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert digest == sha256, name


@pytest.fixture(scope="module")
def fashion_mnist_dir(tmp_path_factory):
  """Real Fashion-MNIST prepared from Debian's files through TFDS."""
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  prepare.prepare("fashion_mnist", data_dir=data_dir)
  return data_dir


@_needs_debian
def test_real_fashion_mnist_through_tfds(fashion_mnist_dir):
  train = catalog.tfds_dataset(0, name="fashion_mnist",
                               data_dir=fashion_mnist_dir)
  test = catalog.tfds_dataset(0, name="fashion_mnist", split="eval",
                              data_dir=fashion_mnist_dir)
  assert (len(train), len(test)) == (60_000, 10_000)
  np.testing.assert_array_equal(np.bincount(train.labels), np.full(10, 6000))
  batch = train.batch(0, 64, seed=0)
  assert batch["x"].shape == (64, 28, 28, 1)
  assert batch["x"].min() >= -1.0 and batch["x"].max() <= 1.0
  # Real clothes: mostly background, with bright garment pixels.
  assert (batch["x"] == -1.0).mean() > 0.3 and batch["x"].max() > 0.9


@_needs_debian
def test_a_gan_trains_on_real_fashion_mnist(fashion_mnist_dir, tmp_path,
                                           clean_gin):
  # Goodfellow et al.'s MLP GAN, tiny: what is tested is the data's path
  # into the training loop, not the network.
  config.parse(["base.gin", "datasets/fashion_mnist.gin"],
               [f"datasets.tfds.data_dir = '{fashion_mnist_dir}'",
                # The 10k test images load in a sixth of the training set's
                # time; the test above reads the training split.
                "datasets.tfds.split = 'eval'",
                "GAN.generator = @models.mlp.Generator",
                "GAN.discriminator = @models.mlp.Discriminator",
                "models.mlp.Generator.hidden_dims = (16,)",
                "models.mlp.Generator.output_activation = 'tanh'",
                "models.mlp.Discriminator.hidden_dims = (16,)",
                "experiment.batch_size = 8",
                "train.num_steps = 3", "train.log_every = 1",
                "train.sample_every = 3", "train.checkpoint_every = 3"])
  state = train.train(str(tmp_path))
  assert int(state.step) == 3
  assert os.path.exists(tmp_path / "samples" / "step_00000003.png")


def test_unknown_dataset_raises():
  with pytest.raises(ValueError, match="Unknown data set 'cifar100'"):
    prepare.prepare("cifar100")


def test_missing_debian_files_raise(tmp_path):
  with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
    prepare.prepare("fashion_mnist", data_dir=str(tmp_path),
                    source_dir=str(tmp_path / "nowhere"))


def test_mnist_source_dir_must_hold_the_original_files(tmp_path):
  (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
  with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
    prepare.prepare("mnist", data_dir=str(tmp_path / "tfds"),
                    source_dir=str(tmp_path))


def test_mnist_files_that_are_not_the_originals_are_rejected(tmp_path):
  # TFDS checks the sha256 of files given by --source_dir.
  for name in prepare._ORIGINAL_FILES["mnist"]:  # pylint: disable=protected-access
    (tmp_path / name).write_bytes(gzip.compress(b"not mnist"))
  with pytest.raises(download_manager.NonMatchingChecksumError,
                     match="wrong checksum"):
    prepare.prepare("mnist", data_dir=str(tmp_path / "tfds"),
                    source_dir=str(tmp_path))
