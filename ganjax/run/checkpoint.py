"""Orbax checkpoints of the train state in `<workdir>/checkpoints`.

Orbax writes each checkpoint into a temporary folder and renames it when
complete, so a crash mid-write leaves no step behind (the writer's manager
deletes such leftovers). A complete checkpoint that later cannot be read (a
truncated file) is set aside into `<workdir>/checkpoints_unreadable`, with a
warning, when an older one restores: nothing is deleted. Before each write
the free space is checked, so a full disk stops the run with a clear error
instead of a half-written checkpoint.
"""

import dataclasses
import errno
import glob
import logging as std_logging
import os
import shutil
from typing import Iterator

from absl import logging
import jax
import numpy as np
import orbax.checkpoint as ocp

from ganjax.core import state as state_lib

_POLICIES = ocp.checkpoint_managers


def quiet_orbax_logs() -> None:
  """Keeps only orbax's warnings and errors in absl's log: at INFO it logs
  every step of every save. For the commands that train."""
  logging.get_absl_handler().addFilter(
      lambda r: r.levelno >= std_logging.WARNING or "orbax" not in r.pathname)


class DiskFullError(OSError):
  """There is not enough space for the next checkpoint."""


def manager(workdir: str, max_to_keep: int = 3, keep_every: int = 0,
            create: bool = True) -> ocp.CheckpointManager:
  """A manager keeping the last `max_to_keep` checkpoints and, with
  `keep_every` > 0, every checkpoint whose step is a multiple of it.

  Readers pass create=False, so that looking makes no folder and leaves the
  writer's temporary folders alone.
  """
  if max_to_keep < 1 or keep_every < 0:
    raise ValueError(f"Keep at least one checkpoint (max_checkpoints = "
                     f"{max_to_keep}) and a keep_checkpoint_every >= 0 (got "
                     f"{keep_every}).")
  directory = os.path.join(os.path.abspath(workdir), "checkpoints")
  if create:
    _warn_unfinished(directory)
  policies = [_POLICIES.LatestN(max_to_keep)]
  if keep_every:
    policies.append(_POLICIES.EveryNSteps(keep_every))
  return ocp.CheckpointManager(
      directory, item_handlers=ocp.StandardCheckpointHandler(),
      options=ocp.CheckpointManagerOptions(
          create=create, cleanup_tmp_directories=create,
          preservation_policy=_POLICIES.AnyPreservationPolicy(policies)))


def _warn_unfinished(directory: str) -> None:
  """Warns about writes a crash interrupted; the manager then deletes them."""
  unfinished = glob.glob(os.path.join(directory,
                                      f"*{ocp.step.TMP_DIR_SUFFIX}*"))
  if unfinished:
    logging.warning(
        "Found checkpoint writes a crash interrupted (%s); they are removed "
        "and the run resumes from the latest complete checkpoint.",
        ", ".join(sorted(os.path.basename(p) for p in unfinished)))


def _disk_full_message(directory: str, needed: int, free: int) -> str:
  return (f"Not enough disk space for a checkpoint in {directory}: about "
          f"{needed / 2**20:.1f} MiB needed, {free / 2**20:.1f} MiB free. "
          "The checkpoints written so far are intact. Free space, or keep "
          "fewer checkpoints (train.max_checkpoints, "
          "train.keep_checkpoint_every), then re-run the same command to "
          "resume.")


def check_space(checkpoints: ocp.CheckpointManager, state) -> None:
  """Raises DiskFullError unless the disk holds another copy of `state`.

  The estimate is the state's uncompressed size plus 10 % and 1 MiB; orbax's
  files are smaller (compressed), so this errs on the safe side.
  """
  directory = str(checkpoints.directory)
  needed = int(sum(np.dtype(leaf.dtype).itemsize * np.prod(leaf.shape)
                   for leaf in jax.tree.leaves(state)) * 1.1) + 2**20
  free = shutil.disk_usage(directory).free
  if free < needed:
    raise DiskFullError(errno.ENOSPC,
                        _disk_full_message(directory, needed, free))


def _chain(error: BaseException | None) -> Iterator[BaseException]:
  """`error` and the errors it was raised from or while handling."""
  while error is not None:
    yield error
    error = error.__cause__ or error.__context__


def _is_disk_full(error: BaseException) -> bool:
  return any((isinstance(e, OSError) and e.errno == errno.ENOSPC)
             or "No space left on device" in str(e) for e in _chain(error))


def _raise_if_disk_full(checkpoints: ocp.CheckpointManager,
                        error: Exception) -> None:
  if _is_disk_full(error):
    directory = str(checkpoints.directory)
    raise DiskFullError(errno.ENOSPC, _disk_full_message(
        directory, 0, shutil.disk_usage(directory).free)) from error


def wait(checkpoints: ocp.CheckpointManager) -> None:
  """Waits for pending writes; a full disk gets DiskFullError."""
  try:
    checkpoints.wait_until_finished()
  except Exception as e:  # pylint: disable=broad-exception-caught
    _raise_if_disk_full(checkpoints, e)
    raise


def save(checkpoints: ocp.CheckpointManager,
         state: state_lib.GANState) -> None:
  """Saves `state` under its step (asynchronously) once the previous write
  is done (orbax would wait for it too) and the disk has room for it."""
  wait(checkpoints)
  check_space(checkpoints, state)
  try:
    checkpoints.save(int(state.step), args=ocp.args.StandardSave(state))
  except Exception as e:  # pylint: disable=broad-exception-caught
    _raise_if_disk_full(checkpoints, e)
    raise


def finish(checkpoints: ocp.CheckpointManager) -> None:
  """Waits for pending writes, then closes the manager."""
  try:
    wait(checkpoints)
  finally:
    checkpoints.close()


# Fields that checkpoints written before 2026-12-07 hold and the state no
# longer has: progressive growing's level and fade, now derived from the
# step. They are read and dropped, so those runs resume.
_FORMER_FIELDS = {"level": np.int32, "fade": np.float32}
# Fields the state gained since: the terms' states, empty for the GANs those
# checkpoints can hold (no term kept a state then).
_NEW_FIELDS = ("terms",)


def restore(checkpoints: ocp.CheckpointManager,
            template: state_lib.GANState,
            step: int | None = None) -> state_lib.GANState | None:
  """The checkpoint of `step` (default: the latest) in the structure of
  `template`, or None when there is none."""
  step = checkpoints.latest_step() if step is None else step
  if step is None:
    return None
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
  fields = {f.name: getattr(abstract, f.name)
            for f in dataclasses.fields(abstract)}
  metadata = checkpoints.item_metadata(step)
  saved = set(metadata.keys()) if metadata else set(fields)
  former = saved - set(fields)
  new = {name for name in set(fields) - saved
         if name in _NEW_FIELDS and not jax.tree.leaves(fields[name])}
  if (not former and not new) or not former <= set(_FORMER_FIELDS):
    return checkpoints.restore(step, args=ocp.args.StandardRestore(abstract))
  sharding = getattr(abstract.step, "sharding", None)
  restored = checkpoints.restore(step, args=ocp.args.StandardRestore({
      **{name: value for name, value in fields.items() if name not in new},
      **{name: jax.ShapeDtypeStruct((), _FORMER_FIELDS[name],
                                    sharding=sharding)
         for name in former}}))
  return type(template)(**{name: restored[name] if name not in new
                           else fields[name] for name in fields})


_TRANSIENT = ("RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED",
              "Input/output error")


def _is_transient(error: BaseException) -> bool:
  return any(isinstance(e, (MemoryError, TimeoutError, ConnectionError))
             or any(code in str(e) for code in _TRANSIENT)
             for e in _chain(error))


def restore_readable(checkpoints: ocp.CheckpointManager,
                     template: state_lib.GANState, set_aside: bool = True
                     ) -> state_lib.GANState | None:
  """The newest checkpoint that restores, or None when there is none.

  Newer ones that fail to restore while an older one succeeds are damaged:
  with `set_aside` (training) they are moved to `checkpoints_unreadable`
  beside the checkpoint folder, else (the commands that only read a run)
  left in place; a warning names them either way. Errors of the moment (out
  of memory, I/O, timeouts) are raised, not taken for damage. If none
  restores, nothing is moved and the error names the likely cause (a config
  that no longer fits them).
  """
  failures = []
  for step in sorted(checkpoints.all_steps(), reverse=True):
    try:
      state = restore(checkpoints, template, step)
    except Exception as e:  # pylint: disable=broad-exception-caught
      # Orbax and TensorStore raise many types for damaged files; errors of
      # the moment (memory, I/O, a slow file system) are not damage.
      if _is_transient(e):
        raise
      failures.append((step, e))
      continue
    for bad_step, error in failures:
      if set_aside:
        _set_aside(checkpoints, bad_step, error)
      else:
        logging.warning("Checkpoint of step %d cannot be read (%s: %s); "
                        "read the one of step %d instead.", bad_step,
                        type(error).__name__, str(error)[:300], step)
    if failures and set_aside:
      checkpoints.reload()
    return state
  if failures:
    step, error = failures[0]
    raise ValueError(
        f"No checkpoint in {checkpoints.directory} could be restored (step "
        f"{step}: {type(error).__name__}: {str(error)[:300]}). If the config "
        "changed since they were written, they no longer fit the model: run "
        "with the original config, or start a new --workdir.") from error
  return None


def restore_step(checkpoints: ocp.CheckpointManager,
                 template: state_lib.GANState,
                 step: int) -> state_lib.GANState:
  """The checkpoint of `step`, or an error naming the steps there are."""
  steps = sorted(checkpoints.all_steps())
  if step not in steps:
    raise ValueError(f"No checkpoint of step {step} in "
                     f"{checkpoints.directory}; it holds steps {steps}.")
  try:
    return restore(checkpoints, template, step)
  except Exception as e:  # pylint: disable=broad-exception-caught
    if _is_transient(e):
      raise
    raise ValueError(
        f"The checkpoint of step {step} in {checkpoints.directory} cannot be "
        f"read ({type(e).__name__}: {str(e)[:300]}); choose another of the "
        f"steps {steps}.") from e


def _set_aside(checkpoints: ocp.CheckpointManager, step: int,
               error: Exception) -> None:
  if jax.process_index() > 0:  # Process 0 moves it for all.
    return
  source = os.path.join(str(checkpoints.directory), str(step))
  target_dir = str(checkpoints.directory) + "_unreadable"
  os.makedirs(target_dir, exist_ok=True)
  target = os.path.join(target_dir, str(step))
  suffix = 0
  while os.path.exists(target):
    suffix += 1
    target = os.path.join(target_dir, f"{step}.{suffix}")
  shutil.move(source, target)
  logging.warning(
      "Checkpoint of step %d cannot be read (%s: %s); moved it to %s and "
      "resumed from an older one.", step, type(error).__name__,
      str(error)[:300], target)
