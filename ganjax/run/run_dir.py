"""A training run's directory read back: its experiment, rebuilt from
config.gin, its checkpoints, and what the commands that read runs draw from
them (samples, inferred labels)."""

import os
from typing import Any, Sequence

import gin
import jax
import numpy as np

from ganjax.core import gan as gan_lib
from ganjax.core import inferred_labels
from ganjax.core import sampling
from ganjax.core import state as state_lib
from ganjax.run import checkpoint
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import image_files
from ganjax.run import partitioning
from ganjax.run import scores_file


def load_experiment(workdir: str, gin_files: Sequence[str] = (),
                    gin_bindings: Sequence[str] = ()
                    ) -> experiment_lib.Experiment:
  """The experiment of a run directory, rebuilt from its config.gin.

  `gin_files` and `gin_bindings` are parsed after it (e.g. evaluation
  settings).
  """
  config_path = os.path.join(workdir, "config.gin")
  if not os.path.exists(config_path):
    raise FileNotFoundError(f"{config_path} not found: {workdir!r} is not a "
                            "ganjax run directory (train one with "
                            "python -m ganjax.main).")
  config.parse([config_path, *gin_files], gin_bindings)
  return experiment_lib.make_experiment()


def chosen_step(workdir: str, step: str | None,
                metric: str = "fid") -> int | None:
  """The checkpoint a command reads, from its `--step`: None (the newest
  that restores), a step number, or "best": the step of the best `metric`
  in the run's scores.csv."""
  if step is None:
    return None
  if step == "best":
    best = scores_file.best(workdir, metric)
    if best is None:
      raise ValueError(f"--step=best: {workdir}/scores.csv has no {metric!r} "
                       "scores; evaluate the run (python -m ganjax.evaluate) "
                       "or name a step.")
    return int(best["step"])
  if not step.isdigit():
    raise ValueError(f"--step takes a step number or 'best', got {step!r}.")
  return int(step)


def restore_state(workdir: str, exp: experiment_lib.Experiment,
                  step: int | None = None) -> state_lib.GANState:
  """The train state of `exp` saved in `workdir` at `step`, by default the
  newest checkpoint that restores (damaged newer ones are named in a
  warning and left in place).

  The state is restored replicated onto this machine's devices, whatever
  the devices and hosts that wrote it.
  """
  template = partitioning.make(fsdp=1).abstract(
      jax.eval_shape(exp.init_state))
  manager = checkpoint.manager(workdir, create=False)
  try:
    state = (checkpoint.restore_readable(manager, template, set_aside=False)
             if step is None else
             checkpoint.restore_step(manager, template, step))
  finally:
    manager.close()
  if state is None:
    raise FileNotFoundError(f"No checkpoint in {workdir}/checkpoints; the run "
                            "has not saved one yet.")
  return state


def load_run(workdir: str, step: int | None = None
             ) -> tuple[experiment_lib.Experiment, state_lib.GANState]:
  """The experiment and train state (`restore_state`) of a run directory."""
  exp = load_experiment(workdir)
  return exp, restore_state(workdir, exp, step)


def num_steps() -> int:
  """The parsed run config's `train.num_steps`: the run's last step."""
  return gin.query_parameter("train.num_steps")


def load_for_sampling(workdir: str, seed: int = 0,
                      use_ema: bool | None = None, standing_stats: int = 0,
                      truncation_psi: float | None = None,
                      step: int | None = None
                      ) -> tuple[Any, gan_lib.GAN, state_lib.GANState, bool]:
  """(experiment, sampling GAN, state, use_ema) of the run in `workdir` at
  `step` (`restore_state`): EMA weights by default when kept, G's
  batch-norm statistics recomputed over `standing_stats` samples (from
  `seed`) if > 0, and StyleGAN2's truncation by `truncation_psi` if
  given."""
  exp, state = load_run(workdir, step)
  gan = sampling.with_truncation_psi(exp.sampling_gan(state), truncation_psi)
  use_ema = state.ema_params is not None if use_ema is None else use_ema
  if standing_stats:
    stats_rng = jax.random.split(jax.random.key(seed))[1]
    state = sampling.with_standing_statistics(gan, state, stats_rng,
                                              standing_stats, use_ema)
  return exp, gan, state, use_ema


def check_label(gan: gan_lib.GAN, label: int | None) -> None:
  """Raises ValueError for a `--label` the model cannot take."""
  if label is None:
    return
  if not gan.conditional:
    raise ValueError("--label given, but the model is unconditional.")
  if not 0 <= label < gan.num_classes:
    raise ValueError(f"--label must be in [0, {gan.num_classes}).")


def draw_from_run(workdir: str, num_samples: int, seed: int = 0,
                  use_ema: bool | None = None, label: int | None = None,
                  truncation: float | None = None,
                  standing_stats: int = 0,
                  truncation_psi: float | None = None,
                  step: int | None = None) -> dict[str, np.ndarray]:
  """`ganjax.sample`'s arrays from the run in `workdir`: `samples` (uint8
  images or float32 vectors), and `labels` for a class-conditional model.
  The arguments are the command's flags of the same names.

  Raises:
    ValueError: for a label the model cannot take.
  """
  exp, gan, state, use_ema = load_for_sampling(
      workdir, seed, use_ema, standing_stats, truncation_psi, step)
  check_label(gan, label)
  rng = jax.random.key(seed)
  label_rng = jax.random.split(rng)[0]
  arrays = {}
  if gan.conditional:
    labels = (np.asarray(gan.sample_labels(label_rng, num_samples))
              if label is None else np.full(num_samples, label))
    arrays["labels"] = labels.astype(np.int32)
  out = sampling.draw(gan, state, rng, num_samples, use_ema,
                      arrays.get("labels"), truncation)
  if exp.data.spec.is_image:
    out = image_files.to_uint8(out)
  return {"samples": out, **arrays}


def inferred_train_labels(workdir: str, method: str,
                          step: int | None = None) -> np.ndarray:
  """The train labels of the run in `workdir`, its withheld ones inferred by
  `method`: "probe" (a linear probe on D's features, S²GAN) or "head" (D's
  class head, S3GAN), from the checkpoint of `step` (`restore_state`)."""
  exp, state = load_run(workdir, step)
  labels = getattr(exp.data, "labels", None)
  if labels is None or not (labels < 0).any():
    raise ValueError(f"The train set of {workdir} has no withheld labels "
                     f"(−1) to infer; set labeled_fraction on its data set.")
  examples = exp.data.examples
  if method == "head":
    inferred = inferred_labels.predict(exp.gan, state, examples)
  elif method == "probe":
    train_features = inferred_labels.features(exp.gan, state, examples)
    inferred = inferred_labels.linear_probe(train_features,
                                            labels)(train_features)
  else:
    raise ValueError(f"method must be 'probe' or 'head', got {method!r}.")
  return inferred_labels.fill(labels, inferred)
