"""The terms whose sums are D's and G's objectives.

At each update the step computes G's fakes and D's outputs once
(`Outputs`); every term of the GAN then adds its weighted loss and reports
its metrics. The first term is the adversarial one (`GAN.loss` and λ ·
`GAN.penalty`, weighted by `GAN.adversarial_weight`); gin lists the others:

  GAN.terms = [@terms.Rotation(), @terms.LabelPredictor()]   # S3GAN
  terms.Rotation.weight_d = 1.0

A term is a small frozen object with pure methods, in the spirit of optax's
transformations: `d_loss` and `g_loss` map the step's `Outputs` to (weighted
loss, metrics). A regularizer that is computed only in some updates (lazy
regularization: StyleGAN2's R1 and path length) reports through
`d_regularizer` / `g_regularizer` and says when it is due (`reg_due`): the
step adds it to that update's loss, or with `GAN.lazy_reg_updates` takes an
optimizer step of its own for it, as StyleGAN2 does. A term declares what
it needs from D instead of the step asking: the heads D must sow
(`d_heads`: sown name → the D field that adds the head) and the examples
it adds to each half of D's batch (`d_inputs`, e.g. rotated copies), so a
new term plugs in without touching the step.

A term may also keep state in the train state (`init_state`, e.g. ADA's
probability p, LeCam's anchors or the mean path length), updated after each
D update from what that update computed (`d_update`) and after each G
update from the metrics its G loss reported (`g_update`), and may transform
every image D sees (`augment`: DiffAugment, ADA), reals and fakes, in D's
and G's updates and in the penalties' D calls.
"""

import dataclasses
import zlib
from typing import Any, Callable, ClassVar, NamedTuple

import gin
import jax
import jax.numpy as jnp
import optax

from ganjax.core import losses
from ganjax.core import penalties
from ganjax.core import rotation
from ganjax.data import dataset

Metrics = dict[str, jax.Array]


class Outputs(NamedTuple):
  """What one D or G update computed, as the terms see it.

  Attributes:
    d_real, d_fake: D's GAN logits of the batch's reals and fakes.
    heads_real, heads_fake: the heads D sowed (`Term.d_heads`) over the real
      and the fake half of its batch, examples added by `d_inputs` included
      (after the batch's own).
    real, fake: the batch's real and generated examples, before
      `d_inputs`.
    real_labels, fake_labels: their integer labels (real ones −1 where
      withheld); None for an unconditional GAN.
    d_params, g_params: the networks' parameters (the differentiated ones
      are the update's own).
    discriminator: (x, one-hot y = the real labels) ↦ D's logits in training
      mode, x first augmented as all D's inputs are (`Term.augment`, a new
      draw per call); for penalties and consistency terms.
    penalty_weight: λ, read from the train state.
    rng: the key of the update's penalty; terms fold their own keys from it
      (`term_key`).
    d_updates: D updates done before this one (this update's index; in G's
      update, those of the whole run so far).
    g_updates: G updates done before this one (the step).
    term_states: {term name: state} of the terms that keep one, as the
      update started.
    z: the latents of the fakes.
    y_real, y_fake: one-hot labels of reals and fakes (None when
      unconditional).
    generator: (z, one-hot y, method=None) ↦ G's output in training mode,
      with the update's G parameters, a new draw of G's noise per call (for
      latent consistency); `method` runs one of G's methods instead (e.g.
      StyleGAN2's "mapping" and "synthesis", for the path length).
  """
  d_real: jax.Array
  d_fake: jax.Array
  heads_real: dict[str, jax.Array]
  heads_fake: dict[str, jax.Array]
  real: jax.Array
  fake: jax.Array
  real_labels: jax.Array | None
  fake_labels: jax.Array | None
  d_params: Any
  g_params: Any
  discriminator: Callable[..., jax.Array]
  penalty_weight: jax.Array
  rng: jax.Array
  d_updates: jax.Array
  g_updates: jax.Array
  term_states: dict[str, Any]
  z: jax.Array
  y_real: jax.Array | None
  y_fake: jax.Array | None
  generator: Callable[..., jax.Array]


@dataclasses.dataclass(frozen=True)
class Term:
  """A summand of D's and/or G's objective; the base adds nothing.

  Attributes:
    d_heads: {sown output: D field that makes D sow it}, e.g.
      {"class_logits": "aux_classifier"}.
    fills_withheld_labels: whether the term labels the examples whose label
      the data withholds (−1), which a conditional GAN then needs.
  """
  d_heads: ClassVar[dict[str, str]] = {}
  fills_withheld_labels: ClassVar[bool] = False

  @property
  def name(self) -> str:
    """The key of the term's state and key (a GAN lists a term once)."""
    return type(self).__name__

  def check(self, data_spec: dataset.DataSpec, num_classes: int) -> None:
    """Raises ValueError if the term cannot train on this data."""

  def init_state(self) -> Any:
    """The term's state at step 0 (a pytree of arrays), or None: none."""
    return None

  def augment(self, x: jax.Array, rng: jax.Array, state: Any) -> jax.Array:
    """`x` as D sees it: every image D judges passes through this."""
    del rng, state
    return x

  def d_update(self, state: Any, out: "Outputs") -> Any:
    """The term's state after a D update that computed `out` (arrays of
    `out` are constants here)."""
    del out
    return state

  def g_update(self, state: Any, metrics: Metrics) -> Any:
    """The term's state after a G update whose g_loss (of every term)
    reported `metrics` (constants here)."""
    del metrics
    return state

  def d_inputs(self, real: jax.Array, fake: jax.Array,
               y_real: jax.Array | None, y_fake: jax.Array | None
               ) -> tuple[jax.Array, jax.Array, Any, Any]:
    """D's real and fake halves (and one-hot labels), with any examples this
    term adds after each half's own (a GAN has at most one such term, so
    they stay the last entries of each half)."""
    return real, fake, y_real, y_fake

  def d_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    """This term's weighted part of D's loss, and its metrics."""
    del out
    return jnp.zeros([]), {}

  def g_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    """This term's weighted part of G's loss, and its metrics."""
    del out
    return jnp.zeros([]), {}

  def d_regularizer(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    """This term's weighted regularizer of D (0 in updates where it is not
    due), and its metrics."""
    del out
    return jnp.zeros([]), {}

  def g_regularizer(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    """This term's weighted regularizer of G, as `d_regularizer`."""
    del out
    return jnp.zeros([]), {}

  def reg_due(self, net: str, out: Outputs) -> jax.Array | bool:
    """Whether this term's regularizer of `net` ("d" or "g") is computed in
    the update of `out`."""
    del net, out
    return False


def term_key(out: Outputs, term: Term) -> jax.Array:
  """A key of `term`'s own in the update of `out`."""
  return jax.random.fold_in(out.rng, zlib.crc32(term.name.encode()))


def own_state(out: Outputs, term: Term) -> Any:
  """`term`'s state as the update of `out` started."""
  return out.term_states[term.name]


def total(terms: tuple[Term, ...], losses_of: Callable[[Term], Any]
          ) -> tuple[jax.Array, Metrics]:
  """The sum of the terms' losses (`losses_of(term)`, e.g. `term.d_loss(out)`)
  and all their metrics."""
  summed, metrics = jnp.zeros([]), {}
  for term in terms:
    loss, term_metrics = losses_of(term)
    summed += loss
    metrics.update(term_metrics)
  return summed, metrics


@dataclasses.dataclass(frozen=True)
class Adversarial(Term):
  """The GAN loss, plus λ · the penalty for D, times `weight` (0: the other
  terms train alone, as Compare GAN's `rotation_only`, which still computes
  and reports both).

  The penalty is D's regularizer (`d_regularizer`). With `penalty_every` =
  k > 1 (lazy regularization, Karras et al. 2020, StyleGAN2's R1 at k = 16)
  it is computed only in every k-th D update and counts k times there; the
  choice is traced (`lax.cond`), so the step stays one program. The
  `penalty` metric is 0 in the updates that skip it.
  """
  loss: Callable[..., losses.GANLoss] = losses.non_saturating
  penalty: Callable[..., jax.Array] = penalties.none
  weight: float = 1.0
  penalty_every: int = 1

  def reg_due(self, net: str, out: Outputs) -> jax.Array | bool:
    if net != "d" or self.penalty is penalties.none:
      return False
    return out.d_updates % self.penalty_every == 0

  def d_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    loss = self.loss(out.d_real, out.d_fake)
    return self.weight * loss.d_loss, {
        "d_loss": loss.d_loss, "d_loss_real": loss.d_loss_real,
        "d_loss_fake": loss.d_loss_fake,
        "d_real": jnp.mean(out.d_real), "d_fake": jnp.mean(out.d_fake)}

  def d_regularizer(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    compute = lambda: self.penalty(
        discriminator=out.discriminator, d_params=out.d_params,
        real=out.real, fake=out.fake, rng=out.rng).astype(jnp.float32)
    if self.penalty_every == 1:
      penalty = compute()
    else:
      penalty = jax.lax.cond(self.reg_due("d", out), compute,
                             lambda: jnp.zeros([], jnp.float32))
    weighted = out.penalty_weight * self.penalty_every * penalty
    return self.weight * weighted, {"penalty": penalty}

  def g_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    g_loss = self.loss(out.d_real, out.d_fake).g_loss
    return self.weight * g_loss, {"g_loss": g_loss}


def _needs_classes(term: str, num_classes: int) -> None:
  if not num_classes:
    raise ValueError(f"terms.{term} needs GAN.conditional = True.")


def _class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      class_logits, labels))


def labeled_class_loss(class_logits: jax.Array,
                       labels: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Cross-entropy and accuracy over the labeled examples only (labels ≥ 0;
  withheld ones are −1); both 0 for a batch without labels."""
  labeled = labels >= 0
  count = jnp.maximum(jnp.sum(labeled), 1)
  per_example = optax.softmax_cross_entropy_with_integer_labels(
      class_logits, jnp.where(labeled, labels, 0))
  correct = jnp.argmax(class_logits, -1) == labels
  return (jnp.sum(jnp.where(labeled, per_example, 0.0)) / count,
          jnp.sum(labeled & correct) / count)


@gin.configurable("terms.AuxClassifier")
@dataclasses.dataclass(frozen=True)
class AuxClassifier(Term):
  """AC-GAN's losses (Odena et al. 2017), times `weight`: D's class head is
  trained on the real and the fake labels, G on the fake labels."""
  weight: float = 1.0
  d_heads: ClassVar[dict[str, str]] = {"class_logits": "aux_classifier"}

  def check(self, data_spec: dataset.DataSpec, num_classes: int) -> None:
    _needs_classes("AuxClassifier", num_classes)
    if data_spec.partially_labeled:
      raise ValueError("AC-GAN losses (terms.AuxClassifier) need every "
                       "label; the data withholds some.")

  def d_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    batch = out.real.shape[0]
    loss = (_class_loss(out.heads_real["class_logits"][:batch],
                        out.real_labels) +
            _class_loss(out.heads_fake["class_logits"][:batch],
                        out.fake_labels))
    return self.weight * loss, {"d_class_loss": loss}

  def g_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    loss = _class_loss(out.heads_fake["class_logits"][:out.fake.shape[0]],
                       out.fake_labels)
    return self.weight * loss, {"g_class_loss": loss}


@gin.configurable("terms.LabelPredictor")
@dataclasses.dataclass(frozen=True)
class LabelPredictor(Term):
  """S3GAN's label predictor (Lucic et al. 2019), times `weight`: D's class
  head is trained on the labeled real examples only, and labels the rest
  (withheld, −1) for D's projection. G is not trained by it."""
  weight: float = 1.0
  d_heads: ClassVar[dict[str, str]] = {"class_logits": "aux_classifier"}
  fills_withheld_labels: ClassVar[bool] = True

  def check(self, data_spec: dataset.DataSpec, num_classes: int) -> None:
    _needs_classes("LabelPredictor", num_classes)

  def d_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    loss, accuracy = labeled_class_loss(
        out.heads_real["class_logits"][:out.real.shape[0]], out.real_labels)
    return self.weight * loss, {"d_class_loss": loss,
                                "d_class_accuracy": accuracy}


@gin.configurable("terms.Rotation")
@dataclasses.dataclass(frozen=True)
class Rotation(Term):
  """SSGAN's rotation task (Chen et al. 2019, `rotation.py`): D gets a 4-way
  rotation head on its penultimate features, trained (× `weight_d`) on
  rotated real images; G (× `weight_g`) is rewarded when D recognizes the
  rotations of its fakes.

  Attributes:
    weight_d: weight of D's rotation loss (SSGAN: 1.0).
    weight_g: weight of G's rotation loss (SSGAN: 0.2).
    rotated_batch_size: entries of the task per half of a D batch: its last
      rotated_batch_size / 4 images, each at 0, 90, 180 and 270° (Compare
      GAN's meaning); None: the D batch size. A rotated image keeps its
      label (Compare GAN's SSGAN paired rotated fakes with real labels).
  """
  weight_d: float = 1.0
  weight_g: float = 0.2
  rotated_batch_size: int | None = None
  d_heads: ClassVar[dict[str, str]] = {"rotation_logits": "rotation_head"}

  def num_rotated(self, batch_size: int) -> int:
    """Images of each half of a D batch of `batch_size` that are rotated."""
    rotated = self.rotated_batch_size or batch_size
    if rotated % 4 or not 0 < rotated <= 4 * batch_size:
      raise ValueError(
          f"terms.Rotation.rotated_batch_size = {rotated} for D batches of "
          f"{batch_size}: it must be a multiple of 4, at most 4 x the batch "
          "size.")
    return rotated // 4

  def d_inputs(self, real, fake, y_real, y_fake):
    num = self.num_rotated(real.shape[0])
    return (rotation.with_rotations(real, num),
            rotation.with_rotations(fake, num),
            rotation.with_rotated_labels(y_real, num),
            rotation.with_rotated_labels(y_fake, num))

  def d_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    num = self.num_rotated(out.real.shape[0])
    logits = out.heads_real["rotation_logits"]
    loss = rotation.loss(logits, num)
    return self.weight_d * loss, {
        "d_rotation_loss": loss,
        "d_rotation_accuracy": rotation.accuracy(logits, num)}

  def g_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    loss = rotation.loss(out.heads_fake["rotation_logits"],
                         self.num_rotated(out.fake.shape[0]))
    return self.weight_g * loss, {"g_rotation_loss": loss}


@gin.configurable("terms.Orthogonal")
@dataclasses.dataclass(frozen=True)
class Orthogonal(Term):
  """BigGAN's orthogonal regularization of G's kernels (Brock et al. 2019),
  β/2 ‖WᵀW ⊙ (1 − I)‖² without the shared class embedding
  (`penalties.orthogonal`): BigGAN-PyTorch's update at its β, `weight`
  (Brock et al.: 1e-4)."""
  weight: float = 1e-4

  def g_loss(self, out: Outputs) -> tuple[jax.Array, Metrics]:
    ortho = penalties.orthogonal(out.g_params)
    return self.weight * ortho, {"g_orthogonal": ortho}
