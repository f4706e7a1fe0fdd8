"""What is trained: the data set, the GAN, the batch size and the seed, and,
for progressive growing, the schedule of levels.

Both the training loop and the sampler build the experiment from the same gin
config (`experiment.dataset = @datasets.digits`), so they agree on the model.
"""

import dataclasses
from typing import Any, Callable

import gin
import jax
import numpy as np

from ganjax.core import gan as gan_lib
from ganjax.core import progressive
from ganjax.core import state as state_lib
from ganjax.data import dataset


@dataclasses.dataclass(frozen=True)
class Experiment:
  """A data set and a GAN with the batch size and seed of a run."""
  data: dataset.Dataset
  gan: gan_lib.GAN
  batch_size: int
  seed: int
  schedule: progressive.Schedule | None = None
  accumulate_steps: int = 1

  @property
  def init_key(self) -> jax.Array:
    return jax.random.fold_in(jax.random.key(self.seed), 0)

  @property
  def train_key(self) -> jax.Array:
    """The base key of the train step, which folds in the step."""
    return jax.random.fold_in(jax.random.key(self.seed), 1)

  @property
  def sample_key(self) -> jax.Array:
    """The key of the fixed latents of the sample grids."""
    return jax.random.fold_in(jax.random.key(self.seed), 2)

  def init_state(self, key: jax.Array | None = None) -> state_lib.GANState:
    """A fresh state, from the run's init key unless `key` is given."""
    return state_lib.create_state(
        self.gan, self.init_key if key is None else key,
        self.data.spec.shape, self.batch_size)

  def step_batch_size(self, step: int = 0) -> int:
    """Examples of train step `step`: disc_iters slices of the batch size
    (its level's, when growing)."""
    size = (self.batch_size if self.schedule is None else
            self.schedule.at(step).batch_size)
    return size * self.gan.disc_iters

  def batch(self, step: int) -> dict:
    """This process's part of the examples of train step `step` (all of
    them on a single host)."""
    size = self.step_batch_size(step)
    start = (step * size if self.schedule is None else
             self.schedule.examples_before(step, self.gan.disc_iters))
    return self.data.batch_at(start, size, self.seed, jax.process_index(),
                              jax.process_count())

  def batch_shapes(self, step: int = 0) -> dict:
    """Shapes and dtypes of train step `step`'s (global) batch, for tracing;
    from one example, not a whole batch read and decoded."""
    return jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(
            (self.step_batch_size(step), *x.shape[1:]), x.dtype),
        self.data.batch(0, 1, self.seed))

  def train_step(self, step: int) -> tuple[int, Callable[..., Any]]:
    """(level, the train step (state, batch, rng) → (state, metrics) of G
    step `step`): one per level when growing, else level 0 throughout."""
    return progressive.step_function(self.schedule, self.gan, step,
                                     self.accumulate_steps)

  def sampling_gan(self, state: state_lib.GANState) -> gan_lib.GAN:
    """The GAN that draws `state`'s samples: when growing, at the level and
    fade of its last step, upsampled to the data's resolution."""
    if self.schedule is None:
      return self.gan
    return progressive.at_level(
        self.gan, *self.schedule.trained_at(int(state.step)), full_size=True)


def check_batch(batch: dict[str, np.ndarray], spec: dataset.DataSpec) -> None:
  """Raises, naming the problem, unless `batch` is what the models take."""
  x = batch["x"]
  if x.shape[1:] != spec.shape:
    raise ValueError(f"The data set serves examples of shape {x.shape[1:]} "
                     f"but declares {spec.shape}; fix its preprocessing.")
  if x.dtype != np.float32:
    raise ValueError(f"The data set serves {x.dtype} examples; the models "
                     "take float32.")
  if spec.is_image and (x.min() < -1.0 or x.max() > 1.0):
    raise ValueError(f"Images must lie in [-1, 1] (got [{x.min():.3g}, "
                     f"{x.max():.3g}]); scale uint8 images with "
                     "dataset.images_to_model_range.")
  if spec.num_classes and "label" not in batch:
    raise ValueError(f"The data set declares {spec.num_classes} classes but "
                     "serves no labels.")


def check_devices(exp: Experiment, devices: int) -> None:
  """Raises unless each D update's batch (each level's, when growing) splits
  evenly over the devices, as training them data-parallel needs."""
  sizes = {"experiment.batch_size": exp.batch_size}
  if exp.schedule is not None:
    sizes.update({f"progressive.schedule.batch_sizes[{lv.resolution}]":
                  lv.batch_size for lv in exp.schedule.levels})
  for name, size in sizes.items():
    if size % devices:
      raise ValueError(
          f"{name} = {size} does not split over the {devices} devices; use "
          f"a multiple of {devices} (e.g. {-(-size // devices) * devices}).")


@gin.configurable("experiment", denylist=["accumulate_steps"])
def make_experiment(
    dataset: Callable[..., dataset.Dataset] = gin.REQUIRED,
    batch_size: int = 64, seed: int = 0,
    schedule: Callable[..., progressive.Schedule] | None = None,
    accumulate_steps: int = 1) -> Experiment:
  """Builds the experiment.

  Args:
    dataset: a data set factory from `datasets.*`, called with the seed.
    batch_size: examples per D update (and per G update).
    seed: seeds initialization, data order and every random draw.
    schedule: `@progressive.schedule` to grow G and D level by level.
    accumulate_steps: micro-batches per update (`train.accumulate_steps`,
      which the training loop passes).

  Returns:
    The experiment.
  """
  if batch_size < 1:
    raise ValueError(f"experiment.batch_size must be >= 1, got {batch_size}.")
  if batch_size % accumulate_steps:
    raise ValueError(
        f"train.accumulate_steps = {accumulate_steps} does not divide "
        f"experiment.batch_size = {batch_size}; use a divisor of it.")
  data = dataset(seed=seed)
  check_batch(data.batch(0, 1, seed), data.spec)
  gan = gan_lib.make_gan(data.spec)
  if schedule is not None:
    schedule = schedule(resolution=data.spec.shape[0], batch_size=batch_size,
                        disc_iters=gan.disc_iters)
    progressive.at_level(gan, 0, 1.0)  # Fails now for a model that cannot.
  return Experiment(data=data, gan=gan, batch_size=batch_size, seed=seed,
                    schedule=schedule, accumulate_steps=accumulate_steps)
