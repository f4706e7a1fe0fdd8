r"""Prepares a catalog data set as TFDS array_record files, offline if possible.

  python -m ganjax.data.prepare --dataset=fashion_mnist [--data_dir=DIR]
  python -m ganjax.data.prepare --dataset=mnist --source_dir=DIR_WITH_GZ_FILES
  python -m ganjax.data.prepare --dataset=cifar10    # downloads (internet)

Fashion-MNIST comes from the Debian package `dataset-fashion-mnist`
(/usr/share/datasets/fashion-mnist). Debian stripped the file name and time
stamp from the gzip headers; restoring them makes the files byte-identical
to upstream, so TFDS's own sha256 check of the stock `fashion_mnist` builder
passes. MNIST takes the four original .gz files from `--source_dir`, checked
the same way. Other data sets use TFDS's normal download path. Preparing
stock builders needs TensorFlow (a ganjax dependency); reading does not.
"""

import os
import struct
import tempfile

from absl import flags
import tensorflow_datasets as tfds

from ganjax.data import catalog
from ganjax import console

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

# Upstream gzip mtimes of the Fashion-MNIST files (the files' own headers).
_FASHION_MNIST_MTIMES = {"train": 1504176606, "t10k": 1504176627}
_GZIP_FNAME = 0x08

# What `--source_dir` must hold; TFDS checks their sha256.
_ORIGINAL_FILES = {"mnist": ("train-images-idx3-ubyte.gz",
                             "train-labels-idx1-ubyte.gz",
                             "t10k-images-idx3-ubyte.gz",
                             "t10k-labels-idx1-ubyte.gz")}


def restore_gzip_header(data: bytes, file_name: str, mtime: int) -> bytes:
  """`data` (a gzip stream without FNAME) with FNAME and MTIME set.

  The deflate payload is untouched, so the decompressed bytes are the same;
  the header is what upstream's `gzip` wrote.
  """
  if data[:3] != b"\x1f\x8b\x08":
    raise ValueError(f"{file_name} is not a gzip file.")
  if data[3] & ~_GZIP_FNAME:
    raise ValueError(f"{file_name}: unexpected gzip flags {data[3]:#x}.")
  if data[3] & _GZIP_FNAME:
    return data  # Already has its name.
  header = bytearray(data[:10])
  header[3] |= _GZIP_FNAME
  header[4:8] = struct.pack("<I", mtime)
  return bytes(header) + file_name.encode() + b"\0" + data[10:]


def debian_fashion_mnist_to(source_dir: str, manual_dir: str) -> None:
  """Writes Debian's Fashion-MNIST files with upstream headers."""
  for name in sorted(os.listdir(source_dir)):
    if not name.endswith("-ubyte.gz"):
      continue
    with open(os.path.join(source_dir, name), "rb") as f:
      data = f.read()
    mtime = _FASHION_MNIST_MTIMES[name.split("-")[0]]
    with open(os.path.join(manual_dir, name), "wb") as f:
      f.write(restore_gzip_header(data, name[:-len(".gz")], mtime))


def prepare(name: str, data_dir: str | None = None,
            source_dir: str | None = None,
            file_format: str = "array_record") -> None:
  """Prepares catalog data set `name` in `data_dir`.

  ganjax reads array_record; `file_format="tfrecord"` writes the copy that
  tf.data reads, for comparisons such as benchmarks/input_pipeline.py.
  """
  builder = tfds.builder(catalog.entry(name).tfds_name, data_dir=data_dir,
                         file_format=file_format)
  if name == "fashion_mnist":
    source_dir = source_dir or DEBIAN_FASHION_MNIST
    if not os.path.isdir(source_dir):
      raise FileNotFoundError(
          f"No Fashion-MNIST files in {source_dir}: run `sudo apt-get "
          "install dataset-fashion-mnist`, or pass --source_dir.")
    with tempfile.TemporaryDirectory() as manual_dir:
      debian_fashion_mnist_to(source_dir, manual_dir)
      builder.download_and_prepare(
          download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
  elif source_dir is not None:
    if name in _ORIGINAL_FILES:
      missing = [f for f in _ORIGINAL_FILES[name]
                 if not os.path.exists(os.path.join(source_dir, f))]
      if missing:
        raise FileNotFoundError(f"{source_dir} lacks the original {name} "
                                f"files {missing}.")
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=source_dir))
  else:
    builder.download_and_prepare()


def main(argv):
  console.setup()
  del argv
  options = flags.FLAGS
  prepare(options.dataset, options.data_dir, options.source_dir)
  print(f"Prepared {options.dataset} in "
        f"{options.data_dir or tfds.core.constants.DATA_DIR}.")


if __name__ == "__main__":
  # Defined here so that importing this module defines no flags.
  flags.DEFINE_string("dataset", None, "Catalog name to prepare.",
                      required=True)
  flags.DEFINE_string("data_dir", None, "TFDS data directory (default: "
                      "TFDS's).")
  flags.DEFINE_string("source_dir", None, "Local files: the original .gz "
                      "files (mnist), or Debian's Fashion-MNIST (default "
                      f"{DEBIAN_FASHION_MNIST}).")
  console.run(main)
