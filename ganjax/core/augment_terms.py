"""Terms that augment every image D sees: DiffAugment and ADA.

Listed in `GAN.terms` like any other term, they change no loss: their
`augment` transforms reals and fakes before D, in D's and G's updates and in
the penalties' D calls (so R1's gradient is taken through the augmentation,
as in stylegan2-ada-pytorch), differentiably, so G learns through D's
augmented view. ADA keeps its probability p in the train state:

  GAN.terms = [@terms.ADA()]
  terms.ADA.target = 0.6
"""

import dataclasses
from typing import Any

import gin
import jax
import jax.numpy as jnp

from ganjax.core import ada
from ganjax.core import augment as augment_lib
from ganjax.core import terms

Metrics = dict[str, jax.Array]


@gin.configurable("terms.DiffAugment")
@dataclasses.dataclass(frozen=True)
class DiffAugment(terms.Term):
  """DiffAugment (Zhao et al. 2020): `policy`'s transforms (of "color",
  "translation", "cutout", comma-separated) on every image D sees, drawn
  anew per image (`core/augment.py`)."""
  policy: str = "color,translation,cutout"

  def __post_init__(self):
    augment_lib.parse_policy(self.policy)

  def augment(self, x: jax.Array, rng: jax.Array, state: Any) -> jax.Array:
    del state
    return augment_lib.diff_augment(x, rng, self.policy)


@gin.configurable("terms.ADA")
@dataclasses.dataclass(frozen=True)
class ADA(terms.Term):
  """Adaptive discriminator augmentation (Karras et al. 2020,
  `core/ada.py`), each transform of `pipeline` applied with probability p.

  p starts at `initial_p` and, with a `target`, follows the overfitting
  heuristic of stylegan2-ada-pytorch: every `interval` D updates,
  r_t = mean sign(D(augmented reals)) over the images since the last
  adjustment, and p += sign(r_t − target) · images / (`kimg` · 1000),
  floored at 0 (so p can go from 0 to 1 in `kimg` thousand images). With
  `target` None p stays `initial_p` (a fixed-p run). p, the running sums
  and the update count live in the train state: checkpointed, restored,
  logged (`ada_p`, and `ada_rt`: the update's mean sign(D(augmented reals))).

  Attributes:
    pipeline: "bgc" (the paper's default: blit, geometric, colour), "bg",
      "blit", "geom" or "color".
    target: the r_t target (0.6), or None for a fixed p.
    initial_p: p at step 0.
    interval: D updates between adjustments (the reference's 4 minibatches).
    kimg: thousands of real images for p to move by 1 (500).
  """
  pipeline: str = "bgc"
  target: float | None = 0.6
  initial_p: float = 0.0
  interval: int = 4
  kimg: float = 500.0

  def __post_init__(self):
    ada.transforms(self.pipeline)
    if self.interval < 1 or self.kimg <= 0 or self.initial_p < 0:
      raise ValueError("terms.ADA needs interval >= 1, kimg > 0 and "
                       f"initial_p >= 0; got {self.interval}, {self.kimg}, "
                       f"{self.initial_p}.")

  def init_state(self) -> dict[str, jax.Array]:
    return {"p": jnp.float32(self.initial_p), "signs": jnp.float32(0),
            "images": jnp.float32(0), "updates": jnp.int32(0)}

  def augment(self, x: jax.Array, rng: jax.Array,
              state: dict[str, jax.Array]) -> jax.Array:
    return ada.augment(x, rng, state["p"], ada.transforms(self.pipeline))

  def d_loss(self, out: terms.Outputs) -> tuple[jax.Array, Metrics]:
    return jnp.zeros([]), {
        "ada_p": terms.own_state(out, self)["p"],
        "ada_rt": jnp.mean(jnp.sign(jax.lax.stop_gradient(out.d_real)))}

  def d_update(self, state: dict[str, jax.Array],
               out: terms.Outputs) -> dict[str, jax.Array]:
    if self.target is None:
      return state
    signs = state["signs"] + jnp.sum(jnp.sign(out.d_real))
    images = state["images"] + out.d_real.shape[0]
    updates = state["updates"] + 1
    due = updates % self.interval == 0
    r_t = signs / images
    adjusted = jnp.maximum(
        state["p"] + jnp.sign(r_t - self.target) * images /
        (self.kimg * 1000), 0.0)
    return {"p": jnp.where(due, adjusted, state["p"]).astype(jnp.float32),
            "signs": jnp.where(due, 0.0, signs),
            "images": jnp.where(due, 0.0, images), "updates": updates}
