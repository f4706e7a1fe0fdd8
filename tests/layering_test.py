"""The package's rooms import only the rooms below them.

ganjax's layers, bottom up: `ops` (backend workarounds), `models`, `data`,
`metrics`, `core` (the GAN math), `run` (the machinery of a training run),
`studies`, and the commands at the top (`ganjax/*.py`, with `console.py`,
which any layer may use to talk to the person at the console,
`quiet_tensorflow.py`, which the commands import first, and `step_flags.py`,
the flags of the commands that read a checkpoint). This test
reads every module's imports, the ones inside functions too, and fails on
any that goes up or sideways.
"""

import ast
import pathlib

import pytest

from tests import paths

_PACKAGE = pathlib.Path(paths.REPO) / "ganjax"
# Each room and the rooms it may import (besides itself and console).
_ALLOWED = {
    "ops": set(),
    "models": {"ops"},
    "data": set(),
    "metrics": {"ops", "models", "data"},
    "core": {"ops", "models", "data"},
    "run": {"ops", "models", "data", "metrics", "core"},
    "studies": {"ops", "models", "data", "metrics", "core", "run"},
}
_COMMANDS = "commands"


def _room(module: str) -> str:
  """The room of a dotted module path under ganjax."""
  parts = module.split(".")
  if len(parts) < 2:
    return _COMMANDS
  if parts[1] == "console":
    return "console"
  return parts[1] if parts[1] in _ALLOWED else _COMMANDS


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
  """(line, module) of every ganjax import in a file."""
  found = []
  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.ImportFrom) and node.module and (
        node.module == "ganjax" or node.module.startswith("ganjax.")):
      if node.module == "ganjax":
        found += [(node.lineno, f"ganjax.{a.name}") for a in node.names]
      else:
        found.append((node.lineno, node.module))
    elif isinstance(node, ast.Import):
      found += [(node.lineno, a.name) for a in node.names
                if a.name.startswith("ganjax.")]
  return found


_MODULES = sorted(_PACKAGE.rglob("*.py"))


def _name(path: pathlib.Path) -> str:
  return ".".join(("ganjax",) + path.relative_to(_PACKAGE).with_suffix(
      "").parts)


@pytest.mark.parametrize("path", _MODULES,
                         ids=lambda p: str(p.relative_to(_PACKAGE)))
def test_imports_go_down_only(path):
  room = _room(_name(path))
  if room == _COMMANDS:
    return
  allowed = {room, "console"} | _ALLOWED.get(room, set())
  wrong = [f"line {line}: {module} ({_room(module)})"
           for line, module in _imports(path)
           if _room(module) not in allowed]
  assert not wrong, (f"{_name(path)} is in room {room!r}, which may import "
                     f"only {sorted(allowed)}; it imports " + "; ".join(wrong))


def test_console_imports_nothing_of_ganjax():
  assert not _imports(_PACKAGE / "console.py")


def test_every_module_is_in_a_room_or_a_command():
  flat = {p.stem for p in _PACKAGE.glob("*.py")} - {
      "__init__", "console", "quiet_tensorflow", "step_flags"}
  commands = {"main", "sample", "evaluate", "fid", "study", "infer_labels",
              "components", "export"}
  assert flat <= commands, (f"{sorted(flat - commands)} sit in ganjax/ "
                            "beside the commands; move them into a room.")


def test_an_upward_import_is_found(tmp_path):
  module = tmp_path / "late.py"
  module.write_text("import os\n\ndef f():\n  from ganjax.run import train\n"
                    "  import ganjax.core.steps\n  from ganjax import console\n")
  assert _imports(module) == [(4, "ganjax.run"), (5, "ganjax.core.steps"),
                              (6, "ganjax.console")]
  assert [_room(m) for _, m in _imports(module)] == ["run", "core", "console"]
