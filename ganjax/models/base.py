"""What the architectures share: their layers, fields and D's output heads.

`Layers` is the one place that builds a network's dense, conv and transposed
conv layers: each with the network's kernel initializer and through its
weight normalizer (spectral norm, weight norm or none). The progressive GAN
(`pggan.py`) is not built on it: its equalized-learning-rate layers and
per-layer gains are its own. `Generator` and `Discriminator` add the fields every G and every D
has; D's `logits` turns its last features into the logit and the heads the
objective terms read (rotation, auxiliary classifier, projection).

The base fields are keyword-only, so an architecture's own fields (some
without defaults) follow them; one that changes a base field's default
redeclares it keyword-only too. gin binds them all by name.
"""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.models import layers
from ganjax.models import normalizers

# Compare GAN's kernel initializer, N(0, 0.02), for every kernel but those
# an architecture gives another.
INIT = nn.initializers.normal(0.02)


class Layers(nn.Module, kw_only=True):
  """A module whose layers share a weight normalizer and a kernel init.

  Attributes:
    weight_norm: weight normalizer of every layer, or None.
    kernel_init: initializer of every kernel (biases start at 0).
  """
  weight_norm: type[nn.Module] | None = None
  kernel_init: layers.Initializer = INIT

  @property
  def layer_args(self) -> dict[str, Any]:
    """These two fields, for the blocks a network builds from `Layers`."""
    return {"weight_norm": self.weight_norm, "kernel_init": self.kernel_init}

  def weighted(self, layer: nn.Module, x: jax.Array, *,
               train: bool) -> jax.Array:
    """`layer(x)` through the weight normalizer."""
    return normalizers.wrap(self.weight_norm, layer, x, train=train)

  def dense(self, x: jax.Array, features: int, *, name: str | None,
            train: bool, **kwargs: Any) -> jax.Array:
    """A dense layer to `features` (kwargs: nn.Dense's others)."""
    return self.weighted(nn.Dense(features, name=name, **{
        "kernel_init": self.kernel_init, **kwargs}), x, train=train)

  def conv(self, x: jax.Array, features: int, kernel: int, stride: int = 1,
           *, name: str, train: bool, **kwargs: Any) -> jax.Array:
    """A kernel×kernel convolution ("SAME" unless kwargs say otherwise)."""
    return self.weighted(layers.Conv(
        features, (kernel, kernel), (stride, stride), name=name,
        **{"kernel_init": self.kernel_init, **kwargs}), x, train=train)

  def conv_transpose(self, x: jax.Array, features: int, kernel: int,
                     stride: int, output_hw: Sequence[int], *, name: str,
                     train: bool) -> jax.Array:
    """A TensorFlow-style transposed convolution to `output_hw`."""
    return self.weighted(layers.ConvTransposeTo(
        features, (kernel, kernel), (stride, stride),
        kernel_init=self.kernel_init, output_hw=output_hw, name=name),
                         x, train=train)


class ClassHeads(Layers):
  """The label-dependent part of a conditional D's logit.

  The projection term ⟨embed(y), h⟩ of Miyato & Koyama 2018 (embedding
  Glorot-normal, no bias, as in Compare GAN), and an auxiliary classifier
  (flax's default LeCun-normal init) whose logits are sown as "class_logits"
  for the train step's class losses (AC-GAN, Odena et al. 2017; S3GAN's
  label predictor, Lucic et al. 2019). Returns 0 for an unconditional D.

  Rows of y that are all zero are examples whose label was withheld
  (`jax.nn.one_hot(-1)`, semi-supervised data): with the classifier, the
  projection takes its predicted class for them, as a constant (S3GAN);
  without it they get no projection term.

  Attributes:
    num_classes: number of classes.
    project: add the projection term.
    aux: compute and sow the auxiliary classifier's logits.
  """
  num_classes: int
  project: bool = True
  aux: bool = False

  @nn.compact
  def __call__(self, h: jax.Array, y: jax.Array | None, *,
               train: bool) -> jax.Array | float:
    if y is None:
      return 0.0
    if self.aux:
      class_logits = self.dense(h, self.num_classes, name="classifier",
                                train=train,
                                kernel_init=nn.linear.default_kernel_init)
      self.sow("intermediates", "class_logits", class_logits)
      predicted = jax.nn.one_hot(jnp.argmax(class_logits, -1),
                                 self.num_classes, dtype=y.dtype)
      withheld = jnp.sum(y, axis=-1, keepdims=True) == 0
      y = jnp.where(withheld, jax.lax.stop_gradient(predicted), y)
    out = jnp.zeros((h.shape[0], 1), h.dtype)
    if self.project:
      embed = self.dense(y, h.shape[-1], name="embed", train=train,
                         use_bias=False,
                         kernel_init=nn.initializers.glorot_normal())
      out += jnp.sum(embed * h, axis=-1, keepdims=True)
    return out


class Generator(Layers, kw_only=True):
  """The fields of every generator.

  Attributes:
    output_shape: (H, W, C) of one image; set from the data set.
    num_classes: number of classes of a conditional G (0: unconditional).
  """
  output_shape: Sequence[int]
  num_classes: int = 0


class Discriminator(Layers, kw_only=True):
  """The fields of every discriminator, and its output heads.

  Attributes:
    num_classes: number of classes of a conditional D (0: unconditional).
    project_y: add the projection term (conditional D only).
    aux_classifier: sow an auxiliary classifier's logits (conditional only).
    rotation_head: sow the logits of a 4-way rotation classifier (SSGAN).
  """
  num_classes: int = 0
  project_y: bool = True
  aux_classifier: bool = False
  rotation_head: bool = False

  def logits(self, h: jax.Array, y: jax.Array | None, *, train: bool,
             fc_name: str | None = "final_fc") -> jax.Array:
    """D's output from its penultimate features h: FC → 1, plus class heads.

    Called inside the D's compact `__call__` (the layers are the D's own):
    sows h as "features", and with `rotation_head` the logits of the 4
    rotations (SSGAN, Chen et al. 2019) as "rotation_logits"; adds the
    projection / classifier heads of a conditional D.
    """
    self.sow("intermediates", "features", h)
    if self.rotation_head:
      self.sow("intermediates", "rotation_logits",
               self.dense(h, 4, name="rotation_head", train=train))
    return self.dense(h, 1, name=fc_name, train=train) + ClassHeads(
        self.num_classes, self.project_y, self.aux_classifier,
        weight_norm=self.weight_norm)(h, y, train=train)
