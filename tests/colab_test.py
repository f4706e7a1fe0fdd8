"""The Colab notebooks run top to bottom (GANJAX_SMOKE=1: a few steps and
samples) and are committed without outputs."""

import glob
import os

import nbclient
import nbformat
import pytest

from tests import paths

_COLAB = os.path.join(paths.REPO, "colab")
_NOTEBOOKS = sorted(glob.glob(os.path.join(_COLAB, "*.ipynb")))


def test_the_three_notebooks_are_there():
  assert [os.path.basename(p) for p in _NOTEBOOKS] == [
      "accelerators.ipynb", "explore.ipynb", "quickstart.ipynb"]


@pytest.mark.parametrize("path", _NOTEBOOKS, ids=os.path.basename)
def test_outputs_are_stripped(path):
  notebook = nbformat.read(path, as_version=4)
  for cell in notebook.cells:
    if cell.cell_type == "code":
      assert not cell.outputs and cell.execution_count is None, path


@pytest.mark.parametrize("path", _NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, tmp_path, monkeypatch):
  monkeypatch.setenv("GANJAX_SMOKE", "1")
  monkeypatch.setenv("GANJAX_WORKDIR", str(tmp_path / "run"))
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  notebook = nbformat.read(path, as_version=4)
  nbclient.NotebookClient(
      notebook, timeout=600, kernel_name="python3",
      resources={"metadata": {"path": str(tmp_path)}}).execute()
  outputs = [o for c in notebook.cells if c.cell_type == "code"
             for o in c.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  # Pictures were shown.
  assert any("image/png" in o.get("data", {}) for o in outputs)
