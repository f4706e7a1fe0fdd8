"""The GAN specification: which networks, loss, penalty and optimizers.

`GAN` is static configuration closed over by the jitted steps; everything that
changes during training lives in `state.GANState`, and so do λ and the
optimizers' numbers (`state.hyperparams`), which the step reads from there so
that runs differing only in them can share it. It is built from gin by
`make_gan` (gin name `GAN`):

  GAN.generator = @models.dcgan.Generator
  GAN.discriminator = @models.dcgan.Discriminator
  GAN.loss = @losses.hinge
  GAN.g_optimizer = @generator/optax.adam()
"""

import dataclasses
from typing import Any, Callable, Sequence

import flax
import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import optax

from ganjax.core import losses
from ganjax.core import penalties
from ganjax.core import terms as terms_lib
from ganjax.data import dataset
from ganjax.ops import sharding

Collections = dict[str, Any]

_PRIORS = ("normal", "uniform")
_COMPUTE_DTYPES = ("float32", "bfloat16")
_MATMUL_PRECISIONS = ("default", "bfloat16", "tensorfloat32", "float32")
_LABEL_DISTRIBUTIONS = ("uniform", "data")


@dataclasses.dataclass(frozen=True)
class GAN:
  """Static description of a GAN; see `make_gan` for the fields."""
  generator: nn.Module
  discriminator: nn.Module
  loss: Callable[..., losses.GANLoss]
  penalty: Callable[..., jax.Array]
  penalty_weight: float
  g_optimizer: optax.GradientTransformation
  d_optimizer: optax.GradientTransformation
  z_dim: int
  prior: str
  disc_iters: int
  ema_decay: float | None
  ema_start_step: int
  ema_half_life_images: float | None = None
  ema_rampup: float | None = None
  num_classes: int = 0
  label_distribution: str = "uniform"
  terms: tuple[terms_lib.Term, ...] = ()
  adversarial_weight: float = 1.0
  penalty_every: int = 1
  lazy_reg_updates: bool = False
  separate_d_calls: bool = False
  compute_dtype: str = "float32"
  matmul_precision: str = "default"

  def call(self, model: nn.Module, params: Any, collections: Collections,
           x: jax.Array, y: jax.Array | None = None, *, train: bool,
           sown: dict[str, Any] | None = None,
           rng: jax.Array | None = None,
           method: str | None = None) -> tuple[jax.Array, Collections]:
    """`apply_model` with this GAN's precision settings."""
    return apply_model(model, params, collections, x, y, train=train,
                       sown=sown, rng=rng, method=method,
                       compute_dtype=self.compute_dtype,
                       matmul_precision=self.matmul_precision)

  @property
  def keeps_ema(self) -> bool:
    """Whether the train state holds an EMA of G's weights."""
    return self.ema_decay is not None or self.ema_half_life_images is not None

  @property
  def conditional(self) -> bool:
    return self.num_classes > 0

  @property
  def objective(self) -> tuple[terms_lib.Term, ...]:
    """The terms of D's and G's objectives: the adversarial one (the loss
    and the penalty), then `terms`."""
    return (terms_lib.Adversarial(self.loss, self.penalty,
                                  self.adversarial_weight,
                                  self.penalty_every), *self.terms)

  @property
  def d_heads(self) -> dict[str, str]:
    """{sown output: D field} of the heads D sows for the terms."""
    return {name: field for term in self.terms
            for name, field in term.d_heads.items()}

  def sample_z(self, rng: jax.Array, num: int,
               truncation: float | None = None) -> jax.Array:
    """Latents from the prior: N(0, I) or U[-1, 1].

    With `truncation` (the truncation trick of BigGAN, for sampling only)
    normal latents are drawn from N(0, I) truncated to [-t, t] per coordinate.
    """
    shape = (num, self.z_dim)
    if truncation is not None:
      if self.prior != "normal":
        raise ValueError("The truncation trick needs GAN.prior = 'normal'.")
      return jax.random.truncated_normal(rng, -truncation, truncation, shape)
    if self.prior == "normal":
      return jax.random.normal(rng, shape)
    return jax.random.uniform(rng, shape, minval=-1.0, maxval=1.0)

  def sample_labels(self, rng: jax.Array, num: int,
                    real_labels: jax.Array | None = None) -> jax.Array | None:
    """Labels of generated examples: uniform, or the real batch's labels.

    Returns None for an unconditional GAN. With `label_distribution="data"`
    (Compare GAN's `fit_label_distribution`) the fakes take the labels of the
    real batch, so they follow the data's class frequencies.
    """
    if not self.conditional:
      return None
    if self.label_distribution == "data" and real_labels is not None:
      return real_labels
    return jax.random.randint(rng, (num,), 0, self.num_classes)

  def one_hot(self, labels: jax.Array | None) -> jax.Array | None:
    """The models' label input: one-hot rows, or None when unconditional."""
    if labels is None:
      return None
    return jax.nn.one_hot(labels, self.num_classes)


def _cast(tree: Any, dtype: jnp.dtype) -> Any:
  """The floating-point leaves of `tree` cast to `dtype`."""
  return jax.tree.map(
      lambda v: v.astype(dtype) if jnp.issubdtype(v.dtype, jnp.floating)
      else v, tree)


def noise_key(rng: jax.Array) -> jax.Array:
  """The key of a G call's own randomness (StyleGAN2's noise inputs and
  style mixing), apart from the other keys folded from `rng`, so that GANs
  whose G draws nothing draw what they drew before it."""
  return jax.random.fold_in(rng, 0x4e6f6973)


def apply_model(model: nn.Module, params: Any, collections: Collections,
                x: jax.Array, y: jax.Array | None = None, *, train: bool,
                sown: dict[str, Any] | None = None,
                rng: jax.Array | None = None,
                method: str | None = None,
                compute_dtype: str = "float32",
                matmul_precision: str = "default") -> tuple[jax.Array,
                                                            Collections]:
  """Runs a model on x (z or images) and, if conditional, one-hot labels y.

  Collections are the model's non-parameter variables (batch-norm statistics,
  spectral-norm vectors); in training mode they are returned updated, in
  inference mode as given. If `sown` is a dict, the values the model sowed
  into "intermediates" (e.g. D's class logits) are put into it.

  Mixed precision: with `compute_dtype="bfloat16"` the parameters and inputs
  are cast to bfloat16 for the call, so activations and matmuls are
  bfloat16, while the parameters themselves, their gradients, the optimizer
  states and the collections stay float32; batch-norm statistics and the
  spectral norm's power iteration are computed in float32 (`normalizers`),
  and outputs come back as float32 for the losses. `rng`, if given, is the
  model's "noise" key stream (StyleGAN2's G draws its noise inputs and style
  mixing from it; other models ignore it). `method` names the model's
  method to run instead of `__call__` (StyleGAN2's G: "mapping",
  "synthesis"). `matmul_precision` is
  `jax.default_matmul_precision` for the call (e.g. "bfloat16": one-pass
  bfloat16 products of float32 operands; "default": the backend's).
  """
  params, (x, y) = sharding.constrain_call(params, (x, y))
  if compute_dtype != "float32":
    params, x, y = _cast((params, x, y), jnp.dtype(compute_dtype))
  variables = {"params": params, **collections}
  inputs = (x,) if y is None else (x, y)
  rngs = None if rng is None else {"noise": rng}
  mutable = list(collections) if train else []
  if sown is not None:
    mutable.append("intermediates")
  precision = None if matmul_precision == "default" else matmul_precision
  with jax.default_matmul_precision(precision):
    if not mutable:
      out = model.apply(variables, *inputs, train=train, rngs=rngs,
                        method=method)
      return _cast(out, jnp.float32), collections
    out, updated = model.apply(variables, *inputs, train=train,
                               mutable=mutable, rngs=rngs, method=method)
  if sown is not None:
    sown.update(_cast(updated.pop("intermediates", {}), jnp.float32))
  return _cast(out, jnp.float32), {**collections, **updated}


def sown_head(sown: dict[str, Any], name: str, fix: str) -> jax.Array:
  """The one value named `name` that a model sowed into `sown` (see
  `apply_model`), or an error that says how to get it (`fix`)."""
  found = [v for path, v in flax.traverse_util.flatten_dict(sown).items()
           if path[-1] == name]
  if len(found) != 1:
    raise ValueError(f"This needs a discriminator that sows one {name!r} "
                     f"output; {fix}.")
  return found[0][0]


def _build(model_class: type[nn.Module], num_classes: int,
           heads: dict[str, bool] | None = None, **fields) -> nn.Module:
  """Instantiates a model, conditional when `num_classes` > 0, with the D
  heads (e.g. {"rotation_head": True}) the GAN's terms need."""
  if num_classes:
    fields["num_classes"] = num_classes
  heads = heads or {}
  try:
    return model_class(**fields, **heads)
  except TypeError as e:
    if num_classes and "num_classes" in str(e):
      raise ValueError(
          f"{model_class.__name__} has no class-conditional version (no "
          f"num_classes field); pick a conditional architecture or set "
          f"GAN.conditional = False.") from e
    raise ValueError(
        f"{model_class.__name__} cannot have the heads {sorted(heads)} this "
        f"GAN's terms need; pick a D built on models.base.Discriminator "
        f"(e.g. models.resnet_cifar.Discriminator).") from e


@gin.configurable("GAN", denylist=["data_spec"])
def make_gan(data_spec: dataset.DataSpec,
             generator: type[nn.Module] = gin.REQUIRED,
             discriminator: type[nn.Module] = gin.REQUIRED,
             loss: Callable[..., losses.GANLoss] = losses.non_saturating,
             penalty: Callable[..., jax.Array] = penalties.none,
             penalty_weight: float = 1.0,
             g_optimizer: optax.GradientTransformation = gin.REQUIRED,
             d_optimizer: optax.GradientTransformation = gin.REQUIRED,
             z_dim: int = 128,
             prior: str = "normal",
             disc_iters: int = 1,
             penalty_every: int = 1,
             lazy_reg_updates: bool = False,
             ema_decay: float | None = 0.9999,
             ema_start_step: int = 40_000,
             ema_half_life_images: float | None = None,
             ema_rampup: float | None = None,
             conditional: bool = False,
             label_distribution: str = "uniform",
             terms: Sequence[terms_lib.Term] = (),
             adversarial_weight: float = 1.0,
             separate_d_calls: bool = False,
             compute_dtype: str = "float32",
             matmul_precision: str = "default") -> GAN:
  """Builds the GAN for data described by `data_spec`.

  Longer than most functions for its argument list: it documents every
  `GAN.*` option, and the README's table of them is generated from it.

  Args:
    data_spec: the data; G is constructed with output_shape=data_spec.shape.
    generator: a generator class (a Flax module with an `output_shape` field).
    discriminator: a discriminator class, returning one logit per input.
    loss: one of `losses.*`.
    penalty: one of `penalties.*`, added to D's loss times `penalty_weight`.
    penalty_weight: λ.
    g_optimizer: optax optimizer of G (bind it in the `generator/` scope).
    d_optimizer: optax optimizer of D (bind it in the `discriminator/` scope).
    z_dim: latent dimension.
    prior: "normal" (N(0, I)) or "uniform" (U[-1, 1], Compare GAN's default).
    disc_iters: D updates per G update (k in Goodfellow et al. 2014).
    penalty_every: lazy regularization (Karras et al. 2020): the penalty in
      every k-th D update only, times k (StyleGAN2's R1: 16); 1: every one.
    lazy_reg_updates: run the regularizers (the penalty, the path length)
      as optimizer steps of their own, after the update's main step and
      only where due, as StyleGAN2's phases (pair it with
      `optimizers.lazy_regularized_adam`); False: add them to the update's
      loss.
    ema_decay: decay of the EMA of G's weights, or None to keep no EMA.
    ema_start_step: G step from which the EMA averages; before it the EMA
      copies G's weights (Compare GAN: 0.9999 from step 40k).
    ema_half_life_images: in place of ema_decay and ema_start_step, the
      EMA's half-life in images (stylegan2-ada-pytorch's ema_kimg · 1000):
      each G update of a batch of B decays it by 0.5^(B / half-life).
    ema_rampup: with ema_half_life_images, the half-life is at most the
      images seen so far times this (stylegan2-ada's ema_rampup, 0.05 in
      its `cifar` config); None: no ramp-up.
    conditional: feed class labels to G and D (the data must be labeled).
    label_distribution: labels of fakes in training, "uniform" or "data"
      (the real batch's labels; Compare GAN's fit_label_distribution).
    terms: the objective's other terms (`terms.*`: SSGAN's rotation,
      S3GAN's label predictor, AC-GAN's classifier, BigGAN's orthogonal
      regularization, consistency and LeCam regularization), each added to
      D's and/or G's loss, and D's input augmentations (DiffAugment, ADA).
    adversarial_weight: weight of the GAN loss and the penalty; 0 trains
      the other terms alone (S²GAN's rotation-only first stage, Compare
      GAN's `self_supervision = "rotation_only"`).
    separate_d_calls: call D on the real and on the fake half of its batch
      separately (the progressive GAN's code; Compare GAN's
      `deprecated_split_disc_calls`), so that statistics over examples (the
      minibatch standard deviation, batch norm) see one kind of image;
      False: one call on concat(real, fake), Compare GAN's default.
    compute_dtype: "float32", or "bfloat16" for mixed precision: bfloat16
      activations and matmuls, float32 parameters, optimizer states,
      normalizer statistics, spectral norms and losses (`apply_model`).
    matmul_precision: `jax.default_matmul_precision` of G and D: "default"
      (the backend's: one bfloat16 pass on TPU, TF32 on recent GPUs),
      "bfloat16", "tensorfloat32" or "float32".

  Returns:
    The GAN.
  """
  for name, value, choices in (
      ("prior", prior, _PRIORS),
      ("label_distribution", label_distribution, _LABEL_DISTRIBUTIONS),
      ("compute_dtype", compute_dtype, _COMPUTE_DTYPES),
      ("matmul_precision", matmul_precision, _MATMUL_PRECISIONS)):
    if value not in choices:
      raise ValueError(f"GAN.{name} must be one of {choices}, got "
                       f"{value!r}.")
  if disc_iters < 1:
    raise ValueError(f"GAN.disc_iters must be >= 1, got {disc_iters}.")
  if penalty_every < 1:
    raise ValueError(f"GAN.penalty_every must be >= 1, got {penalty_every}.")
  if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
    raise ValueError(f"GAN.ema_decay must be in [0, 1) or None, got "
                     f"{ema_decay}.")
  if ema_half_life_images is not None and ema_half_life_images <= 0:
    raise ValueError(f"GAN.ema_half_life_images must be > 0 or None, got "
                     f"{ema_half_life_images}.")
  if ema_rampup is not None and (ema_half_life_images is None
                                 or ema_rampup <= 0):
    raise ValueError("GAN.ema_rampup needs GAN.ema_half_life_images and "
                     f"must be > 0, got {ema_rampup}.")
  num_classes = 0
  if conditional:
    if not data_spec.num_classes:
      raise ValueError("GAN.conditional = True needs a labeled data set; "
                       "this one has no labels.")
    num_classes = data_spec.num_classes
  terms = _checked_terms(terms, data_spec, num_classes)
  _check_withheld_labels(data_spec, conditional, label_distribution, terms)
  heads = {field: True for term in terms for field in term.d_heads.values()}
  return GAN(generator=_build(generator, num_classes,
                              output_shape=tuple(data_spec.shape)),
             discriminator=_build(discriminator, num_classes, heads),
             loss=loss, penalty=penalty, penalty_weight=penalty_weight,
             g_optimizer=g_optimizer, d_optimizer=d_optimizer, z_dim=z_dim,
             prior=prior, disc_iters=disc_iters, ema_decay=ema_decay,
             ema_start_step=ema_start_step,
             ema_half_life_images=ema_half_life_images,
             ema_rampup=ema_rampup, num_classes=num_classes,
             label_distribution=label_distribution, terms=terms,
             adversarial_weight=adversarial_weight,
             penalty_every=penalty_every, lazy_reg_updates=lazy_reg_updates,
             separate_d_calls=separate_d_calls,
             compute_dtype=compute_dtype, matmul_precision=matmul_precision)


def _checked_terms(terms: Sequence[terms_lib.Term],
                   data_spec: dataset.DataSpec,
                   num_classes: int) -> tuple[terms_lib.Term, ...]:
  """`GAN.terms` as a tuple, each term checked against the data. At most one
  term may change D's inputs (`d_inputs`): one that adds examples reads them
  as the last entries of each half."""
  terms = tuple(terms)
  for term in terms:
    if not isinstance(term, terms_lib.Term):
      raise ValueError(f"GAN.terms holds {term!r}, which is not a term: "
                       "write each one with parentheses, e.g. "
                       "@terms.Rotation().")
    term.check(data_spec, num_classes)
  kinds = [type(term).__name__ for term in terms]
  repeated = sorted({k for k in kinds if kinds.count(k) > 1})
  if repeated:
    raise ValueError(f"GAN.terms lists terms.{repeated[0]} more than once.")
  adding = [type(t).__name__ for t in terms
            if type(t).d_inputs is not terms_lib.Term.d_inputs]
  if len(adding) > 1:
    raise ValueError(f"GAN.terms has {adding}, which all change D's inputs "
                     "(d_inputs); keep one.")
  return terms


def _check_withheld_labels(data_spec: dataset.DataSpec, conditional: bool,
                           label_distribution: str,
                           terms: tuple[terms_lib.Term, ...]) -> None:
  """Withheld labels (−1) reach only a term that fills them (S3GAN's label
  predictor): any other use of them as classes would silently train on a
  wrong label."""
  if not (data_spec.partially_labeled and conditional):
    return
  if not any(term.fills_withheld_labels for term in terms):
    raise ValueError(
        "The data withholds labels (labeled_fraction / labels_per_class): a "
        "conditional GAN needs GAN.terms to include @terms.LabelPredictor() "
        "(S3GAN) to label the rest, or train unconditionally.")
  if label_distribution == "data":
    raise ValueError("GAN.label_distribution = 'data' gives fakes the real "
                     "batch's labels, but the data withholds some; use "
                     "'uniform'.")
