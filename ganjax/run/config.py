"""Gin config files: parsing them, and recording a run's config in its workdir.

Components become nameable in configs by importing `ganjax.run.registry`. A
misspelled name gets gin's error (file, line) plus the closest registered
names. A run that resumes in a workdir must have the recorded operative
config, up to the settings that do not change what it computes (run length,
cadences, evaluation, the divergence guard); `check_unchanged` enforces it.
"""

import difflib
import inspect
import logging as std_logging
import os
import re
import threading
import tokenize
from typing import Sequence

from absl import logging
import gin

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "gin_configs")
# The configs folder's name, which paths may start with (`gin_configs/...`,
# as the repository root's link to it is named).
_FOLDER = os.path.basename(CONFIG_DIR) + os.sep
_on_search_path = False


def _not_gin_lookup_noise(record: std_logging.LogRecord) -> bool:
  """False for gin's "Path not found" errors: its Python-package reader logs
  one for every include it then finds on the search path (a file missing
  everywhere still raises)."""
  return not (record.pathname.endswith("resource_reader.py")
              and record.getMessage().startswith("Path not found"))


def locate(path: str) -> str:
  """`path` as given if it exists, else relative to ganjax's configs folder
  (`experiments/quickstart.gin`, or `gin_configs/experiments/quickstart.gin`
  as from the repository root), from any working directory."""
  candidates = [path, os.path.join(CONFIG_DIR, path)]
  if path.startswith(_FOLDER):
    candidates.append(os.path.join(CONFIG_DIR, path[len(_FOLDER):]))
  for candidate in candidates:
    if os.path.exists(candidate):
      return candidate
  raise FileNotFoundError(
      f"Gin file {path!r} not found (looked in the current directory and in "
      f"ganjax's configs, {CONFIG_DIR}).")


def parse(gin_files: Sequence[str], gin_bindings: Sequence[str]) -> None:
  """Parses config files then bindings; unknown names raise at once.

  Files are found by `locate`; their `include`s also resolve against
  ganjax's configs folder (added to gin's search path on the first call).
  """
  global _on_search_path
  if not _on_search_path:
    gin.add_config_file_search_path(CONFIG_DIR)
    _on_search_path = True
  gin_files = [locate(path) for path in gin_files]
  root = std_logging.getLogger()
  root.addFilter(_not_gin_lookup_noise)
  try:
    # gin.parse_config_files_and_bindings, a file or binding at a time, so
    # that a syntax error (gin's tokenizer names no file) is placed.
    for path in gin_files:
      _parse_source(gin.parse_config_file, path, f"the gin file {path} (or "
                    "a file it includes)")
    for binding in gin_bindings:
      _parse_source(gin.parse_config, binding, f"the binding {binding!r}")
    gin.finalize()
  finally:
    root.removeFilter(_not_gin_lookup_noise)


def _parse_source(parse, source, where: str) -> None:
  """`parse(source)`, its errors made ValueErrors that say `where` and, for
  unknown names, what was probably meant."""
  try:
    parse(source)
  except (SyntaxError, tokenize.TokenError) as e:
    raise ValueError(f"Syntax error in {where}: {e}.") from e
  except ValueError as e:
    hint = _suggestion(str(e))
    if not hint:
      raise
    raise ValueError(f"{e}\n{hint}") from e


def registered_configurables() -> dict[str, gin.config.Configurable]:
  """{full selector: configurable} of everything registered with gin.

  gin 0.5 has no public listing of its registry; this is ganjax's one read
  of it (for "did you mean" hints and the README's component tables).
  """
  return dict(gin.config._REGISTRY.items())  # pylint: disable=protected-access


def _registered() -> dict[str, gin.config.Configurable]:
  """Registered configurables under every name that selects them: the full
  selector and its dotted suffixes (`ganjax.core.losses.hinge`, `losses.hinge`,
  `hinge`)."""
  names = {}
  for selector, configurable in registered_configurables().items():
    parts = selector.split(".")
    for i in range(len(parts)):
      names.setdefault(".".join(parts[i:]), configurable)
  return names


def _parameters(configurable: gin.config.Configurable) -> list[str]:
  wrapped = configurable.wrapped
  target = wrapped.__init__ if inspect.isclass(wrapped) else wrapped
  return [p for p in inspect.signature(target).parameters
          if p != "self" and p not in (configurable.denylist or ())]


# GAN options that became objective terms (`terms.*`), for configs that
# still bind them (older run directories among them).
_FORMER_GAN_OPTIONS = {
    "self_supervision": "GAN.terms = [@terms.Rotation()] (\"rotation_only\": "
                        "with GAN.adversarial_weight = 0.0)",
    "rotation_weight_d": "terms.Rotation.weight_d",
    "rotation_weight_g": "terms.Rotation.weight_g",
    "rotated_batch_size": "terms.Rotation.rotated_batch_size",
    "label_predictor_weight": "@terms.LabelPredictor() in GAN.terms, its "
                              "weight terms.LabelPredictor.weight",
    "aux_classifier_weight": "@terms.AuxClassifier() in GAN.terms, its "
                             "weight terms.AuxClassifier.weight",
    "g_orthogonal_weight": "@terms.Orthogonal() in GAN.terms, its weight "
                           "terms.Orthogonal.weight",
}


def _suggestion(message: str) -> str:
  """"Did you mean" for gin's unknown-configurable/parameter errors (gin's
  errors carry only their text, so the names are read from it)."""
  registered = _registered()
  unknown = re.search(r"No configurable matching (?:reference )?'@?([\w.]+)",
                      message)
  if unknown:
    name = unknown.group(1)
    same_depth = [n for n in registered if n.count(".") == name.count(".")]
    close = difflib.get_close_matches(name, same_depth, n=3, cutoff=0.6)
    families = ("Registered names are listed by family in "
                "ganjax/run/registry.py.")
    return (f"Did you mean {' or '.join(repr(c) for c in close)}? {families}"
            if close else families)
  no_param = re.search(
      r"Configurable '([\w.]+)' doesn't have a parameter named '(\w+)'",
      message)
  if no_param and no_param.group(1) == "GAN" and (
      no_param.group(2) in _FORMER_GAN_OPTIONS):
    return (f"GAN.{no_param.group(2)} is now "
            f"{_FORMER_GAN_OPTIONS[no_param.group(2)]}; see the README's "
            "objective terms.")
  if no_param and no_param.group(1) in registered:
    params = _parameters(registered[no_param.group(1)])
    close = difflib.get_close_matches(no_param.group(2), params, n=3,
                                      cutoff=0.6)
    return (f"Did you mean {' or '.join(repr(c) for c in close)}? "
            if close else "") + f"Its parameters: {', '.join(params)}."
  return ""


def write_config(workdir: str) -> str:
  """Writes the whole parsed config to `<workdir>/config.gin`; the run's
  record and what `ganjax.sample` rebuilds the model from."""
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, "config.gin")
  with open(path, "w") as f:
    f.write(gin.config_str())
  return path


def write_operative_config(workdir: str, resumed_step: int | None = None
                           ) -> str:
  """Writes the values actually used, defaults included, to
  `<workdir>/operative_config.gin`.

  When a run resumed at `resumed_step` under a changed config, the previous
  record is kept as `operative_config.until_step_<resumed_step>.gin`.
  """
  path = os.path.join(workdir, "operative_config.gin")
  operative = gin.operative_config_str()
  if resumed_step is not None and os.path.exists(path):
    with open(path) as f:
      if changed_bindings(f.read(), operative):
        os.replace(path, os.path.join(
            workdir, f"operative_config.until_step_{resumed_step}.gin"))
  with open(path, "w") as f:
    f.write(operative)
  return path


class ConfigChangedError(ValueError):
  """The workdir's run was recorded with another config."""


# Configurables free to change when a run resumes: they do not change what it
# computes (run length, cadences, evaluation, the divergence guard, how the
# state is laid out over devices).
FREE_TO_CHANGE = ("train", "evaluation", "guard", "metrics", "partitioning")

# gin's parser reads values with `ast.literal_eval`, which CPython 3.11 does
# not make thread-safe (concurrent calls fail with "AST constructor recursion
# depth mismatch", cpython gh-106905); threads that record scores parse here.
_PARSE_LOCK = threading.Lock()


def bindings(text: str) -> dict[str, str]:
  """`scope/name.param` → value (its repr) of each binding in a config text,
  read by gin's own parser."""
  found = {}
  with _PARSE_LOCK:
    statements = list(gin.config_parser.ConfigParser(
        text, gin.config.ParserDelegate(skip_unknown=True)))
  for statement in statements:
    if isinstance(statement, gin.config_parser.BindingStatement):
      scope = f"{statement.scope}/" if statement.scope else ""
      found[f"{scope}{statement.selector}.{statement.arg_name}"] = _format(
          statement.value)
  return found


def _format(value) -> str:
  """A value as a config writes it (`@scope/name()` for references), also
  for references to names this process has not registered."""
  if isinstance(value, gin.config.ConfigurableReference):
    return repr(value)
  selector = getattr(value, "selector", None)
  if isinstance(selector, str) and hasattr(value, "evaluate"):
    return f"@{selector}{'()' if value.evaluate else ''}"
  return repr(value)


def _free_to_change(name: str) -> bool:
  configurable = name.split("/")[-1].rsplit(".", 1)[0]
  return configurable.split(".")[0] in FREE_TO_CHANGE


def changed_bindings(old: str, new: str) -> list[str]:
  """`name: old -> new` for each binding that differs between two written
  configs, leaving out those free to change."""
  before, after = bindings(old), bindings(new)
  return [f"{name}: {before.get(name, '(default)')} -> "
          f"{after.get(name, '(default)')}"
          for name in sorted(set(before) | set(after))
          if before.get(name) != after.get(name) and not _free_to_change(name)]


def check_unchanged(workdir: str, operative: str, override: bool) -> None:
  """Refuses to resume in `workdir` under a different operative config.

  With `override` it only warns; `write_operative_config` then keeps the old
  record.
  """
  path = os.path.join(workdir, "operative_config.gin")
  if not os.path.exists(path):
    return
  with open(path) as f:
    changes = changed_bindings(f.read(), operative)
  if not changes:
    return
  listed = "\n  ".join(changes)
  if not override:
    raise ConfigChangedError(
        f"{workdir} holds a run whose config differs from this one:\n  "
        f"{listed}\nResuming it with other settings would mix two "
        "experiments. Use a new --workdir, run with the recorded config "
        f"({path}), or pass --override_config to continue with the new "
        "settings.")
  logging.warning("Config changed (--override_config):\n  %s", listed)
