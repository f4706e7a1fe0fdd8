"""Orbax checkpoints of the train state in `<workdir>/checkpoints`."""

import os

import jax
import orbax.checkpoint as ocp

from ganjax import state as state_lib


def manager(workdir: str, max_to_keep: int = 3,
            create: bool = True) -> ocp.CheckpointManager:
  """A manager that keeps the last `max_to_keep` checkpoints.

  Readers pass create=False so that looking does not make a folder.
  """
  return ocp.CheckpointManager(
      os.path.join(os.path.abspath(workdir), "checkpoints"),
      options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep,
                                           create=create))


def save(checkpoints: ocp.CheckpointManager,
         state: state_lib.GANState) -> None:
  """Saves `state` under its step (asynchronously)."""
  checkpoints.save(int(state.step), args=ocp.args.StandardSave(state))


def restore(checkpoints: ocp.CheckpointManager,
            template: state_lib.GANState,
            step: int | None = None) -> state_lib.GANState | None:
  """The checkpoint of `step` (default: the latest) in the structure of
  `template`, or None when there is none."""
  step = checkpoints.latest_step() if step is None else step
  if step is None:
    return None
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
  return checkpoints.restore(step, args=ocp.args.StandardRestore(abstract))
