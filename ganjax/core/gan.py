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
from typing import Any, Callable

import flax
import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import optax

from ganjax.core import losses
from ganjax.core import penalties
from ganjax.data import dataset
from ganjax.ops import sharding

Collections = dict[str, Any]

_PRIORS = ("normal", "uniform")
_COMPUTE_DTYPES = ("float32", "bfloat16")
_MATMUL_PRECISIONS = ("default", "bfloat16", "tensorfloat32", "float32")
_LABEL_DISTRIBUTIONS = ("uniform", "data")
_SELF_SUPERVISION = ("none", "rotation", "rotation_only")


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
  num_classes: int = 0
  label_distribution: str = "uniform"
  aux_classifier_weight: float = 0.0
  label_predictor_weight: float = 0.0
  self_supervision: str = "none"
  rotation_weight_d: float = 1.0
  rotation_weight_g: float = 0.2
  rotated_batch_size: int | None = None
  g_orthogonal_weight: float = 0.0
  separate_d_calls: bool = False
  compute_dtype: str = "float32"
  matmul_precision: str = "default"

  def call(self, model: nn.Module, params: Any, collections: Collections,
           x: jax.Array, y: jax.Array | None = None, *, train: bool,
           sown: dict[str, Any] | None = None) -> tuple[jax.Array,
                                                       Collections]:
    """`apply_model` with this GAN's precision settings."""
    return apply_model(model, params, collections, x, y, train=train,
                       sown=sown, compute_dtype=self.compute_dtype,
                       matmul_precision=self.matmul_precision)

  @property
  def conditional(self) -> bool:
    return self.num_classes > 0

  @property
  def classifier(self) -> bool:
    """Whether D has a class head (AC-GAN or S3GAN's label predictor)."""
    return bool(self.aux_classifier_weight or self.label_predictor_weight)

  def num_rotated(self, batch_size: int) -> int:
    """Images of each half (real, fake) of a D batch of `batch_size` that
    are rotated by all four angles for the rotation task; 0 without it."""
    if self.self_supervision == "none":
      return 0
    rotated = self.rotated_batch_size or batch_size
    if rotated % 4 or not 0 < rotated <= 4 * batch_size:
      raise ValueError(
          f"GAN.rotated_batch_size = {rotated} for D batches of {batch_size}"
          f": it must be a multiple of 4, at most 4 x the batch size.")
    return rotated // 4

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


def apply_model(model: nn.Module, params: Any, collections: Collections,
                x: jax.Array, y: jax.Array | None = None, *, train: bool,
                sown: dict[str, Any] | None = None,
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
  and outputs come back as float32 for the losses. `matmul_precision` is
  `jax.default_matmul_precision` for the call (e.g. "bfloat16": one-pass
  bfloat16 products of float32 operands; "default": the backend's).
  """
  params, (x, y) = sharding.constrain_call(params, (x, y))
  if compute_dtype != "float32":
    params, x, y = _cast((params, x, y), jnp.dtype(compute_dtype))
  variables = {"params": params, **collections}
  inputs = (x,) if y is None else (x, y)
  mutable = list(collections) if train else []
  if sown is not None:
    mutable.append("intermediates")
  precision = None if matmul_precision == "default" else matmul_precision
  with jax.default_matmul_precision(precision):
    if not mutable:
      out = model.apply(variables, *inputs, train=train)
      return _cast(out, jnp.float32), collections
    out, updated = model.apply(variables, *inputs, train=train,
                               mutable=mutable)
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
  heads (e.g. {"rotation_head": True}) the GAN's losses need."""
  if num_classes:
    fields["num_classes"] = num_classes
  heads = {k: v for k, v in (heads or {}).items() if v}
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
        f"GAN's losses need; pick a D built on layers.discriminator_logits "
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
             ema_decay: float | None = 0.9999,
             ema_start_step: int = 40_000,
             conditional: bool = False,
             label_distribution: str = "uniform",
             aux_classifier_weight: float = 0.0,
             label_predictor_weight: float = 0.0,
             self_supervision: str = "none",
             rotation_weight_d: float = 1.0,
             rotation_weight_g: float = 0.2,
             rotated_batch_size: int | None = None,
             g_orthogonal_weight: float = 0.0,
             separate_d_calls: bool = False,
             compute_dtype: str = "float32",
             matmul_precision: str = "default") -> GAN:
  """Builds the GAN for data described by `data_spec`.

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
    ema_decay: decay of the EMA of G's weights, or None to keep no EMA.
    ema_start_step: G step from which the EMA averages; before it the EMA
      copies G's weights (Compare GAN: 0.9999 from step 40k).
    conditional: feed class labels to G and D (the data must be labeled).
    label_distribution: labels of fakes in training, "uniform" or "data"
      (the real batch's labels; Compare GAN's fit_label_distribution).
    aux_classifier_weight: weight of the AC-GAN losses (Odena et al. 2017):
      D's class head (sown as "class_logits") is trained on real and fake
      labels and G on fake labels (its D gets aux_classifier = True).
    label_predictor_weight: weight of S3GAN's label predictor (Lucic et al.
      2019): D's class head is trained on the labeled real examples only,
      and labels the rest (withheld, −1) for the projection term. Needs a
      conditional GAN; required when the data withholds labels.
    self_supervision: "none"; "rotation" (SSGAN, Chen et al. 2019): D gets a
      4-way rotation head on its penultimate features, trained on rotated
      real images, and G is rewarded when D recognizes the rotations of its
      fakes; "rotation_only": the rotation losses alone, no GAN loss or
      penalty, as in Compare GAN (a self-supervised representation,
      S²GAN's first stage).
    rotation_weight_d: weight of D's rotation loss (SSGAN: 1.0).
    rotation_weight_g: weight of G's rotation loss (SSGAN: 0.2).
    rotated_batch_size: entries of the rotation task per half of a D batch:
      its last rotated_batch_size / 4 images, each at 0, 90, 180 and 270°
      (Compare GAN's meaning); None: the D batch size.
    g_orthogonal_weight: β of BigGAN's orthogonal regularization of G's
      kernels, (β/2)‖WᵀW ⊙ (1 − I)‖² without the shared class embedding:
      BigGAN-PyTorch's update at its β (Brock et al. 2019: 1e-4).
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
  if prior not in _PRIORS:
    raise ValueError(f"GAN.prior must be one of {_PRIORS}, got {prior!r}.")
  if disc_iters < 1:
    raise ValueError(f"GAN.disc_iters must be >= 1, got {disc_iters}.")
  if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
    raise ValueError(f"GAN.ema_decay must be in [0, 1) or None, got "
                     f"{ema_decay}.")
  if label_distribution not in _LABEL_DISTRIBUTIONS:
    raise ValueError(f"GAN.label_distribution must be one of "
                     f"{_LABEL_DISTRIBUTIONS}, got {label_distribution!r}.")
  if compute_dtype not in _COMPUTE_DTYPES:
    raise ValueError(f"GAN.compute_dtype must be one of {_COMPUTE_DTYPES}, "
                     f"got {compute_dtype!r}.")
  if matmul_precision not in _MATMUL_PRECISIONS:
    raise ValueError(f"GAN.matmul_precision must be one of "
                     f"{_MATMUL_PRECISIONS}, got {matmul_precision!r}.")
  num_classes = 0
  if conditional:
    if not data_spec.num_classes:
      raise ValueError("GAN.conditional = True needs a labeled data set; "
                       "this one has no labels.")
    num_classes = data_spec.num_classes
  elif aux_classifier_weight or label_predictor_weight:
    raise ValueError("GAN.aux_classifier_weight and "
                     "GAN.label_predictor_weight need GAN.conditional = "
                     "True.")
  if self_supervision not in _SELF_SUPERVISION:
    raise ValueError(f"GAN.self_supervision must be one of "
                     f"{_SELF_SUPERVISION}, got {self_supervision!r}.")
  _check_withheld_labels(data_spec, conditional, label_distribution,
                         aux_classifier_weight, label_predictor_weight)
  heads = {"aux_classifier": bool(aux_classifier_weight or
                                  label_predictor_weight),
           "rotation_head": self_supervision != "none"}
  return GAN(generator=_build(generator, num_classes,
                              output_shape=tuple(data_spec.shape)),
             discriminator=_build(discriminator, num_classes, heads),
             loss=loss, penalty=penalty, penalty_weight=penalty_weight,
             g_optimizer=g_optimizer, d_optimizer=d_optimizer, z_dim=z_dim,
             prior=prior, disc_iters=disc_iters, ema_decay=ema_decay,
             ema_start_step=ema_start_step, num_classes=num_classes,
             label_distribution=label_distribution,
             aux_classifier_weight=aux_classifier_weight,
             label_predictor_weight=label_predictor_weight,
             self_supervision=self_supervision,
             rotation_weight_d=rotation_weight_d,
             rotation_weight_g=rotation_weight_g,
             rotated_batch_size=rotated_batch_size,
             g_orthogonal_weight=g_orthogonal_weight,
             separate_d_calls=separate_d_calls,
             compute_dtype=compute_dtype, matmul_precision=matmul_precision)


def _check_withheld_labels(data_spec: dataset.DataSpec, conditional: bool,
                           label_distribution: str,
                           aux_classifier_weight: float,
                           label_predictor_weight: float) -> None:
  """Withheld labels (−1) reach only S3GAN's label predictor: any other use
  of them as classes would silently train on a wrong label."""
  if not (data_spec.partially_labeled and conditional):
    return
  if not label_predictor_weight:
    raise ValueError(
        "The data withholds labels (labeled_fraction / labels_per_class): a "
        "conditional GAN needs GAN.label_predictor_weight > 0 (S3GAN) to "
        "label the rest, or train unconditionally.")
  if aux_classifier_weight:
    raise ValueError("AC-GAN losses (GAN.aux_classifier_weight) need every "
                     "label; the data withholds some.")
  if label_distribution == "data":
    raise ValueError("GAN.label_distribution = 'data' gives fakes the real "
                     "batch's labels, but the data withholds some; use "
                     "'uniform'.")
