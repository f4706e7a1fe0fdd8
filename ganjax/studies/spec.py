"""A study: one experiment trained over axes of gin bindings and seeds.

Compare GAN's large-scale studies (Lucic et al. 2018; Kurach et al. 2019)
trained every combination of losses, penalties and normalizers for several
hyperparameter settings and seeds, and compared the distributions of their
scores. A study file binds `study.*`; `make_study` expands it into trials,
each an ordinary run configured by the experiment's gin files, the study's
fixed bindings, its model's bindings (a named set, e.g. "WGAN-GP": the loss,
the penalty and its weight), its axis values and `experiment.seed`.

Axis values are gin text when they are strings (`"@losses.hinge"`,
`"'uniform'"` for a string literal) and written with `repr` otherwise
(`1e-4`, `(16, 16)`).
"""

import dataclasses
import itertools
from typing import Any, Mapping, Sequence

import gin
import numpy as np

from ganjax.run import config

# How a random axis is drawn: ("log_uniform", low, high), ("uniform", low,
# high) or ("choice", [value, ...]).
_DISTRIBUTIONS = ("log_uniform", "uniform", "choice")


def gin_text(value: Any) -> str:
  """An axis value as the right-hand side of a gin binding."""
  return value if isinstance(value, str) else repr(value)


@dataclasses.dataclass(frozen=True)
class Trial:
  """One run of a study.

  Attributes:
    name: its sub-workdir under `<study workdir>/trials/`.
    setting: the index of its hyperparameter setting; trials of a setting
      differ only in their seed.
    seed: its `experiment.seed`.
    values: axis name → gin text of its value, for every axis.
    model: the name of its model ("" when the study names none).
    model_bindings: that model's bindings.
  """
  name: str
  setting: int
  seed: int
  values: Mapping[str, str]
  model: str = ""
  model_bindings: Sequence[str] = ()

  @property
  def bindings(self) -> list[str]:
    return [*self.model_bindings,
            *(f"{name} = {value}" for name, value in self.values.items()),
            f"experiment.seed = {self.seed}"]


@dataclasses.dataclass(frozen=True)
class Study:
  """What a study trains and how its results are read (see `make_study`)."""
  gin_files: Sequence[str]
  bindings: Sequence[str]
  trials: Sequence[Trial]
  metric: str
  model_axes: Sequence[str]
  vmap_seeds: bool
  vmap_axes: Sequence[str] = ()

  def model(self, trial: Trial) -> str:
    """The label of a trial's model: its model's name and its values of the
    model axes (`WGAN-GP num_packed=2`), references by their last name."""
    def short(value: str) -> str:
      return value.rsplit(".", 1)[-1] if value.startswith("@") else value
    labels = [trial.model] if trial.model else []
    labels += [f"{name.split('.')[-1]}={short(trial.values[name])}"
               for name in self.model_axes]
    return " ".join(labels) or "all"

  def groups(self) -> list[list[Trial]]:
    """The trials trained together (one vmapped step), in order: those of a
    model that differ only in their seeds (with `vmap_seeds`) and in the
    values of `vmap_axes`."""
    groups: dict[tuple, list[Trial]] = {}
    for trial in self.trials:
      key = (trial.model,
             *(value for name, value in trial.values.items()
               if name not in self.vmap_axes),
             None if self.vmap_seeds else trial.seed)
      groups.setdefault(key, []).append(trial)
    return list(groups.values())


def _draw(name: str, distribution: Sequence[Any],
          rng: np.random.Generator) -> Any:
  """One value of random axis `name`."""
  kind, *args = distribution
  if kind not in _DISTRIBUTIONS:
    raise ValueError(f"study.random[{name!r}]: unknown distribution "
                     f"{kind!r}; choose one of {_DISTRIBUTIONS}.")
  if kind == "choice":
    (values,) = args
    return values[rng.integers(len(values))]
  low, high = args
  if not low < high or (kind == "log_uniform" and low <= 0):
    raise ValueError(f"study.random[{name!r}]: {kind} needs low < high "
                     f"(and low > 0 when log-uniform), got ({low}, {high}).")
  if kind == "log_uniform":
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))
  return float(rng.uniform(low, high))


def _check_axes(grid: Mapping[str, Sequence[Any]],
                random: Mapping[str, Sequence[Any]], num_random: int) -> None:
  """Raises ValueError for grid and random axes that cannot make trials."""
  if bool(random) != bool(num_random):
    raise ValueError("study.random and study.num_random go together: give "
                     "both (random settings) or neither.")
  both = set(grid) & set(random)
  if both:
    raise ValueError(f"Axes {sorted(both)} are both in study.grid and in "
                     "study.random; keep each in one.")
  for name, values in grid.items():
    if not values:
      raise ValueError(f"study.grid[{name!r}] has no values.")


@gin.configurable("study")
def make_study(gin_files: Sequence[str] = gin.REQUIRED,
               bindings: Sequence[str] = (),
               models: Mapping[str, Sequence[str]] | None = None,
               grid: Mapping[str, Sequence[Any]] | None = None,
               random: Mapping[str, Sequence[Any]] | None = None,
               num_random: int = 0, seeds: int | Sequence[int] = 1,
               metric: str = "fid", model_axes: Sequence[str] | None = None,
               vmap_seeds: bool = True, vmap_axes: Sequence[str] = (),
               sample_seed: int = 0) -> Study:
  """Expands a study's axes into trials.

  Args:
    gin_files: the experiment's gin files.
    bindings: bindings every trial gets (after the files), e.g. the budget
      `train.num_steps` and `train.eval_every`.
    models: model name → its bindings; each model is trained at every grid
      point and random setting (Lucic et al.'s "NS GAN", "WGAN-GP", …).
    grid: binding name → values; every combination is a setting.
    random: binding name → distribution; each grid point gets `num_random`
      settings drawn from these (Lucic et al.'s random search).
    num_random: random settings per grid point (needs `random`).
    seeds: seeds per setting (0…n-1), or the seeds themselves.
    metric: the score that tables and plots compare (a column of the trials'
      scores.csv, e.g. "fid" or "modes").
    model_axes: the axes that name a model in tables and plots (default:
      the grid's).
    vmap_seeds: train the seeds of a setting together in one vmapped step.
    vmap_axes: axes whose settings are trained together too: those that
      change only values the train step reads from the state (learning
      rates, the optimizers' other numbers, `GAN.penalty_weight`), checked
      when the group starts (`group.GroupMismatchError`).
    sample_seed: seeds the draws of the random axes.

  Returns:
    The study, its trials ordered by setting then seed.
  """
  models = dict(models or {"": ()})
  grid, random = dict(grid or {}), dict(random or {})
  _check_axes(grid, random, num_random)
  seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
  if not seeds or len(set(seeds)) != len(seeds):
    raise ValueError(f"study.seeds must give distinct seeds, got {seeds}.")
  points = list(itertools.product(models.items(), *grid.values(),
                                  range(max(num_random, 1))))
  width = max(3, len(str(len(points) - 1)))
  trials = []
  for setting, ((model, model_bindings), *point, _) in enumerate(points):
    values = {name: gin_text(v) for name, v in zip(grid, point)}
    rng = np.random.default_rng((sample_seed, setting))
    values.update({name: gin_text(_draw(name, distribution, rng))
                   for name, distribution in random.items()})
    trials.extend(Trial(f"{setting:0{width}d}-seed{seed}", setting, seed,
                        values, model, tuple(model_bindings))
                  for seed in seeds)
  model_axes = list(grid) if model_axes is None else list(model_axes)
  for field, names in (("model_axes", model_axes), ("vmap_axes", vmap_axes)):
    unknown = set(names) - set(grid) - set(random)
    if unknown:
      raise ValueError(f"study.{field} {sorted(unknown)} are not axes of "
                       "the study.")
  return Study(list(gin_files), list(bindings), trials, metric, model_axes,
               vmap_seeds, list(vmap_axes))


def load(study_file: str, bindings: Sequence[str] = ()) -> Study:
  """The study of a gin file and `study.*` bindings; gin is left cleared for
  the trials' own configs."""
  gin.clear_config()
  try:
    config.parse([study_file], bindings)
    return make_study()
  finally:
    gin.clear_config()
