"""Every command, fed bad input, ends with one line that names the problem
and the fix: exit status 1, no traceback (README, "Runs that survive").

The messages themselves are tested where they are raised (the README's
table names those tests); this starts each command once, concurrently (each
imports TensorFlow through clu), on an input that fails early.
"""

import os
import shutil

import numpy as np
from PIL import Image
import pytest

from tests import paths
from tests import workdirs

_TINY = os.path.join(paths.TESTDATA, "tiny_digits.gin")


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
  """{case: (exit status, output)} of each command on its bad input."""
  root = tmp_path_factory.mktemp("bad_input")
  images = root / "images"
  images.mkdir()
  for i in range(3):
    Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(
        images / f"{i}.png")
  (images / "broken.png").write_text("not an image")
  no_checkpoint = root / "no_checkpoint"
  no_checkpoint.mkdir()
  shutil.copy(_TINY, no_checkpoint / "config.gin")
  cases = {
      "unprepared": ("ganjax.main", [
          f"--gin_file={_TINY}", f"--workdir={root / 'cifar'}",
          "--gin_bindings=experiment.dataset = @datasets.tfds",
          "--gin_bindings=datasets.tfds.name = 'cifar10'",
          "--gin_bindings=train.num_steps = 2"]),
      "broken_image": ("ganjax.main", [
          f"--gin_file={_TINY}", f"--workdir={root / 'folder'}",
          "--gin_bindings=experiment.dataset = @datasets.image_folder",
          f"--gin_bindings=datasets.image_folder.path = '{images}'",
          "--gin_bindings=datasets.image_folder.size = 28",
          "--gin_bindings=datasets.image_folder.channels = 1",
          "--gin_bindings=train.num_steps = 2"]),
      "no_checkpoint": ("ganjax.sample", [
          f"--workdir={no_checkpoint}", "--num_samples=2",
          f"--out={root / 'x.npz'}"]),
      "not_a_run": ("ganjax.evaluate", [f"--workdir={root}"]),
      "fid_broken_image": ("ganjax.fid", [str(images), str(images)]),
      "no_study": ("ganjax.study", [f"--study={root / 'missing.gin'}",
                                    f"--workdir={root / 'study'}"]),
      "labels_not_a_run": ("ganjax.infer_labels", [
          f"--workdir={root}", f"--out={root / 'labels.npy'}"]),
      "prepare_unknown": ("ganjax.data.prepare", ["--dataset=cifar100"]),
  }
  env = {"TFDS_DATA_DIR": str(root / "tfds")}  # Nothing prepared there.
  started = {case: workdirs.start(module, args, env)
             for case, (module, args) in cases.items()}
  return {case: workdirs.finish(p) for case, p in started.items()}


@pytest.mark.parametrize("case,message", [
    ("unprepared", "Error: Data set 'cifar10' (cifar10 in TFDS) is not "
                   "prepared in"),
    ("broken_image", "cannot be read: "),
    ("no_checkpoint", "Error: No checkpoint in"),
    ("not_a_run", "is not a ganjax run directory"),
    ("fid_broken_image", "1 images in"),
    ("no_study", "Error: Gin file"),
    ("labels_not_a_run", "is not a ganjax run directory"),
    ("prepare_unknown", "Error: Unknown data set 'cifar100'"),
])
def test_bad_input_ends_with_its_message(failures, case, message):
  code, log = failures[case]
  assert code == 1, log[-3000:]
  assert message in log, log[-3000:]
  assert "Traceback" not in log, log[-3000:]
