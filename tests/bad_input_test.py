"""Every command, fed bad input, ends with one line that names the problem
and the fix: exit status 1, no traceback (README, "Runs that survive").

The messages themselves are tested where they are raised (the README's
table names those tests), and `console_test` tests `console.run`'s way of
ending; here every command is checked to run through it, and three of them
are started, concurrently (each imports TensorFlow through clu), on the
inputs that used to end in a raw traceback.
"""

import ast
import os
import pathlib

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
  (no_checkpoint / "config.gin").write_text(f"include '{_TINY}'\n")
  cases = {
      "unprepared": ("ganjax.main", [
          f"--gin_file={_TINY}", f"--workdir={root / 'cifar'}",
          "--gin_bindings=experiment.dataset = @datasets.tfds",
          "--gin_bindings=datasets.tfds.name = 'cifar10'",
          "--gin_bindings=train.num_steps = 2"]),
      "no_checkpoint": ("ganjax.sample", [
          f"--workdir={no_checkpoint}", "--num_samples=2",
          f"--out={root / 'x.npz'}"]),
      "fid_broken_image": ("ganjax.fid", [str(images), str(images)]),
  }
  env = {"TFDS_DATA_DIR": str(root / "tfds")}  # Nothing prepared there.
  started = {case: workdirs.start(module, args, env)
             for case, (module, args) in cases.items()}
  return {case: workdirs.finish(p) for case, p in started.items()}


@pytest.mark.parametrize("case,message", [
    ("unprepared", "Error: Data set 'cifar10' (cifar10 in TFDS) is not "
                   "prepared in"),
    ("no_checkpoint", "Error: No checkpoint in"),
    ("fid_broken_image", "Error: 1 images in"),
])
def test_bad_input_ends_with_its_message(failures, case, message):
  code, log = failures[case]
  assert code == 1, log[-3000:]
  assert message in log, log[-3000:]
  assert "Traceback" not in log, log[-3000:]


_COMMANDS = ["main", "sample", "evaluate", "fid", "study", "infer_labels",
             "export", "data/prepare"]


@pytest.mark.parametrize("command", _COMMANDS)
def test_every_command_runs_through_console_run(command):
  path = pathlib.Path(paths.REPO) / "ganjax" / f"{command}.py"
  main_block = next(
      node for node in ast.parse(path.read_text()).body
      if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
  calls = [ast.unparse(node.func) for node in ast.walk(main_block)
           if isinstance(node, ast.Call)]
  assert "console.run" in calls, calls
