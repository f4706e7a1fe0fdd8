"""Runs trained together: one compiled step, `jax.vmap` of the train step,
updates their stacked states.

Runs that differ only in their seed or in hyperparameters the step reads
from the state (learning rates and the optimizers' other numbers, λ:
`state.hyperparams`) share the computation; each keeps its own ordinary
workdir (checkpoints, samples, scores, configs), from which it can also go
on alone. The group is checked before it starts: the runs must lower to the
same computation and share the loop's settings.
"""

import contextlib
from typing import Any, Callable, Sequence

import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.core import state as state_lib
from ganjax.metrics.inception import features
from ganjax.run import experiment as experiment_lib
from ganjax.run import guard
from ganjax.run import loop as loop_lib
from ganjax.run import partitioning
from ganjax.run import preemption
from ganjax.run import records
from ganjax.run import run_lock
from ganjax.run import settings as settings_lib


class GroupDivergedError(guard.DivergedError):
  """Runs trained together hit non-finite values. Their last checkpoints are
  kept; run them one by one (`train` without `seeds` or `bindings`) to
  resume them under the guard's policy, which can roll a single run back."""


class GroupApartError(RuntimeError):
  """Runs to be trained together resume from different steps; train them
  one by one."""


class GroupMismatchError(ValueError):
  """Runs to be trained together differ in more than the values the step
  reads from the state; train them one by one."""


# What the runs of a group share besides their computation: the settings of
# the loop, the evaluation and the guard, read from gin outside the step.
_SHARED_CONFIGURABLES = ("train", "evaluation", "guard")


def _shared_settings() -> dict[str, Any]:
  return {name: gin.get_bindings(name) for name in _SHARED_CONFIGURABLES}


def _init_with(exp: experiment_lib.Experiment
               ) -> Callable[[jax.Array, Any], state_lib.GANState]:
  """The init as a function of the key and the hyperparameters."""
  return lambda key, hyperparams: exp.init_state(key).with_hyperparams(
      hyperparams)


def _computation(exp: experiment_lib.Experiment,
                 template: state_lib.GANState) -> list[str]:
  """The init and the train step lowered to StableHLO text, with the key,
  the state and the hyperparameters as inputs: runs with equal texts compute
  the same thing but for those inputs. (Lowered, not jaxprs: lowering drops
  the dead code that building an optimizer leaves.) Tracing the step also
  records it in the operative config."""
  init = jax.jit(_init_with(exp)).lower(exp.init_key,
                                        state_lib.hyperparams(exp.gan))
  step = jax.jit(exp.train_step(0)[1]).lower(template, exp.batch_shapes(),
                                             exp.train_key)
  return [lowered.as_text(debug_info=False) for lowered in (init, step)]


def _stack(trees: Sequence[Any]) -> Any:
  """The trees stacked along a new leading axis (host arrays on the host)."""
  return jax.tree.map(lambda *xs: (np.stack if isinstance(xs[0], np.ndarray)
                                   else jnp.stack)(xs), *trees)


def _unstack(state: Any, i: int) -> Any:
  return jax.tree.map(lambda x: x[i], state)


class _Stacked:
  """The layout of runs trained together: states, batches and keys stacked
  along a leading axis, `jax.vmap` of the step, no roll-back."""

  def __init__(self, num_runs: int):
    self.num_runs = num_runs

  def compile(self, fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    return jax.jit(jax.vmap(fn), donate_argnums=0)

  def put(self, batch: dict[str, np.ndarray]) -> Any:
    return jax.tree.map(jnp.asarray, batch)

  def combine(self, parts: Sequence[Any]) -> Any:
    return _stack(parts)

  def each(self, tree: Any) -> list[Any]:
    return [_unstack(tree, i) for i in range(self.num_runs)]

  def on_divergence(self, state: Any, where: str, workdir: str) -> Any:
    del state
    raise GroupDivergedError(
        f"Non-finite values at {where} in {workdir}. Runs trained together "
        "do not roll back: their last checkpoints are kept; train them one "
        "by one to resume them under the guard policy.")


def _check_bindings(workdirs: list[str], bindings: list[list[str]]) -> None:
  """Raises ValueError for runs that cannot be trained together."""
  if len(workdirs) != len(bindings):
    raise ValueError(f"Give one workdir per seed (or per list of bindings); "
                     f"got {len(workdirs)} workdirs for {len(bindings)}.")
  if len(set(map(tuple, bindings))) != len(bindings):
    raise ValueError(f"Runs trained together need distinct bindings; got "
                     f"{bindings}.")
  names = [sorted(b.split("=", 1)[0].strip() for b in run) for run in bindings]
  if any(n != names[0] for n in names):
    raise ValueError(
        f"Runs trained together must bind the same names (each run's "
        f"bindings are parsed over the previous run's); got {bindings}.")
  if jax.process_count() > 1:
    raise ValueError("Runs trained together run in a single process; "
                     "spread a study's trials over processes instead.")


def _open_runs(stack: contextlib.ExitStack, workdirs: list[str],
               bindings: list[list[str]], settings: settings_lib.Settings,
               override_config: bool, part: partitioning.Partitioning
               ) -> tuple[list[records.Run], list[Any]]:
  """Each run's records and restored state (None: a fresh start), once its
  bindings are checked to change only what a group may differ in."""
  make_extractor = features.factory()  # One Inception for all runs.
  shared = _shared_settings()
  runs, states, computation = [], [], None
  for workdir, run_bindings in zip(workdirs, bindings):
    with gin.unlock_config():
      gin.parse_config(run_bindings)
    exp = experiment_lib.make_experiment(
        accumulate_steps=settings.accumulate_steps)
    template = part.abstract(jax.eval_shape(exp.init_state))
    mine = _computation(exp, template)
    computation = computation or mine
    if mine != computation:
      raise GroupMismatchError(
          f"The bindings {run_bindings} of {workdir} change the model, its "
          "init or its train step beyond the values the step reads from "
          "the state (state.hyperparams: the optimizers' numbers and λ), "
          "so it cannot be trained together with "
          f"{bindings[0]}; train them one by one.")
    if _shared_settings() != shared:
      raise GroupMismatchError(
          f"The bindings {run_bindings} of {workdir} change settings the "
          f"runs share ({', '.join(_SHARED_CONFIGURABLES)}.*); train them "
          "one by one.")
    run = stack.enter_context(records.Run(workdir, exp, settings,
                                          make_extractor, progress=not runs))
    runs.append(run)
    state = run.restore(template, override_config)
    states.append(None if state is None else state.with_hyperparams(
        state_lib.hyperparams(exp.gan)))
  return runs, states


def train_group(workdirs: list[str], bindings: list[list[str]],
                settings: settings_lib.Settings,
                override_config: bool) -> list[state_lib.GANState]:
  """Trains one run per workdir, each with its bindings added to the gin
  config, in one vmapped step (`train.train(..., bindings=...)`)."""
  _check_bindings(workdirs, bindings)
  # The runs do not roll back together, but each may go on alone under the
  # guard's policy: a bad guard.* fails now, as for one run.
  guard.Policy()
  with contextlib.ExitStack() as stack:
    for workdir in workdirs:
      stack.enter_context(run_lock.hold(workdir))
    stop = stack.enter_context(preemption.StopRequests())
    runs, states = _open_runs(stack, workdirs, bindings, settings,
                              override_config, partitioning.make())
    resumed = [None if s is None else int(s.step) for s in states]
    if len(set(resumed)) > 1:
      raise GroupApartError(
          f"The runs' latest checkpoints are at different steps ({resumed}: "
          "a stop came between their writes), so they cannot go on together; "
          "train them one by one.")
    keys = jnp.stack([run.exp.init_key for run in runs])
    hyperparams = _stack([state_lib.hyperparams(run.exp.gan) for run in runs])
    init = jax.jit(lambda: jax.vmap(_init_with(runs[0].exp))(keys,
                                                             hyperparams))
    state = init() if states[0] is None else _stack(states)
    for i, run in enumerate(runs):
      run.catch_up(_unstack(state, i))
    state = loop_lib.Loop(runs, _Stacked(len(runs)), settings,
                          stop).run(state)
    for run in runs:
      run.summary()
    return [_unstack(state, i) for i in range(len(runs))]
