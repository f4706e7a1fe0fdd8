"""ganjax works as an installed package, not only from its checkout.

Builds the wheel from a copy of the sources, installs it (without its
dependencies, which the test's own environment lends through a path file)
into a fresh virtual environment outside the checkout, and from an empty
directory trains a shipped config for a few steps, naming it relative to the
configs folder as the README does.
"""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig

from tests import paths

_SOURCES = ("ganjax", "setup.cfg", "pyproject.toml", "README.md")


def _run(args, **kwargs):
  result = subprocess.run(args, capture_output=True, text=True, timeout=600,
                          **kwargs)
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  return result


def test_the_wheel_trains_a_shipped_config_from_any_directory(tmp_path):
  source = tmp_path / "source"
  for name in _SOURCES:
    copy = shutil.copytree if os.path.isdir(
        os.path.join(paths.REPO, name)) else shutil.copy
    copy(os.path.join(paths.REPO, name), source / name)
  _run([sys.executable, "-m", "pip", "wheel", "--no-deps",
        "--no-build-isolation", "--quiet", "-w", str(tmp_path / "dist"),
        str(source)])
  wheel, = glob.glob(str(tmp_path / "dist" / "ganjax-*.whl"))

  venv = tmp_path / "venv"
  _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
  python = str(venv / "bin" / "python")
  site = _run([python, "-c", "import sysconfig; "
               "print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
  # The dependencies: this environment's packages, added as a plain path
  # (its .pth files, the checkout's editable install among them, stay off).
  with open(os.path.join(site, "dependencies.pth"), "w") as f:
    f.write(sysconfig.get_paths()["purelib"] + "\n")
  _run([sys.executable, "-m", "pip", "--python", python, "install",
        "--no-deps", "--quiet", wheel])

  workdir = tmp_path / "elsewhere"
  workdir.mkdir()
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  located = _run([python, "-c", "import ganjax; print(ganjax.__file__)"],
                 cwd=workdir, env=env).stdout
  assert located.startswith(site), located
  _run([python, "-m", "ganjax.main", "--gin_file=experiments/quickstart.gin",
        "--workdir=run", "--gin_bindings=train.num_steps = 4",
        "--gin_bindings=train.log_every = 2",
        "--gin_bindings=train.sample_every = 4",
        "--gin_bindings=train.checkpoint_every = 4",
        "--gin_bindings=train.eval_every = 4",
        "--gin_bindings=evaluation.num_samples = 64"],
       cwd=workdir, env=env)
  assert (workdir / "run" / "operative_config.gin").exists()
  assert glob.glob(str(workdir / "run" / "samples" / "*.png"))
  assert os.listdir(workdir / "run" / "checkpoints") == ["4"]
