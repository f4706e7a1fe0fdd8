"""Divergence guard: non-finite losses or state, and what to do about them.

The train step reports `all_finite` (every metric and every float in the new
state) as one device scalar. The loop reads those flags only when it syncs
anyway — to log, sample, evaluate or checkpoint — so there is no host sync per
step, and every checkpoint is checked before it is written: a non-finite state
is never saved. On divergence the gin-selected policy either stops with a
report or rolls back to the last checkpoint and goes on with fresh randomness
(and optionally a lower learning rate), a bounded number of times.
"""

import dataclasses
from typing import Any, Sequence

import gin
import jax
import numpy as np

POLICIES = ("stop", "restore")


class DivergedError(RuntimeError):
  """Training produced non-finite values and the policy gives up."""


@gin.configurable("guard")
@dataclasses.dataclass(frozen=True)
class Policy:
  """What the loop does when a step's losses or state are not finite.

  Attributes:
    action: "stop" (raise DivergedError with a report; the checkpoints are
      kept) or "restore" (roll back to the last checkpoint and continue).
    max_restores: roll-backs allowed in a run before giving up as "stop" does.
    lr_factor: multiplies both learning rates at each roll-back (1.0: keep).
  """
  action: str = "stop"
  max_restores: int = 3
  lr_factor: float = 1.0

  def __post_init__(self):
    if self.action not in POLICIES:
      raise ValueError(f"guard.action = {self.action!r} is not a policy; "
                       f"choose one of {POLICIES}.")
    if self.max_restores < 0 or not 0.0 < self.lr_factor <= 1.0:
      raise ValueError("guard.max_restores must be >= 0 and guard.lr_factor "
                       f"in (0, 1]; got {self.max_restores}, "
                       f"{self.lr_factor}.")


def train_key(base: jax.Array, restores: int) -> jax.Array:
  """The train step's base key after `restores` roll-backs (the run's own
  key before any), so a rolled-back run does not repeat its divergence."""
  return base if restores == 0 else jax.random.fold_in(base, 1_000_003 +
                                                       restores)


def first_nonfinite(steps: Sequence[int],
                    metrics: Sequence[dict[str, Any]]) -> str | None:
  """Describes the first step whose metrics report non-finite values, or None.

  `metrics[i]` are the host values of step `steps[i]` with `all_finite`.
  """
  for step, values in zip(steps, metrics):
    if not bool(values["all_finite"]):
      bad = [f"{k}={float(v)}" for k, v in values.items()
             if k != "all_finite" and not np.isfinite(v)]
      what = ", ".join(bad) if bad else "losses finite, state not finite"
      return f"step {step} ({what})"
  return None


def report(where: str, last_good: int | None, checkpoint_dir: str,
           restores: int) -> str:
  """The message of a DivergedError: what, where it is safe, how to go on."""
  kept = (f"The last good checkpoint, step {last_good}, is kept in "
          f"{checkpoint_dir}." if last_good is not None else
          "No checkpoint had been written yet.")
  return (f"Training diverged: non-finite values first seen at {where}, "
          f"after {restores} roll-back(s). {kept} Fixes: lower the learning "
          "rates, add a penalty or spectral norm, or set guard.action = "
          "'restore' (with guard.lr_factor < 1) to roll back automatically; "
          "re-running the same command resumes from the last checkpoint.")
