"""The original GAN's multilayer perceptrons (Goodfellow et al. 2014).

With the defaults below and `hidden_activation="maxout"` for D, these are the
networks of PacGAN's 2-D mixture experiments (Lin et al. 2018): G is
2 → 400×4 (batch norm, ReLU) → 2 and D is 3 × maxout(200 units, 5 pieces) → 1,
weights N(0, 0.02²). D packs `num_packed` examples into one input (PacGAN).
Built with `num_classes` > 0 they are conditioned by concatenation, as in
Mirza & Osindero (2014) (whose nets first map z and y through separate
layers): G reads [z, one-hot y] and D reads [x, one-hot y], each example
with its own label, so packing still works (a packed input holds m examples
and their labels).

Every layer takes `base.Layers`' weight normalizer and kernel init (N(0,
0.02²) by default). G has `base.Generator`'s output_shape and num_classes; D
has its own head (one dense layer, no class heads), so it is a
`base.Layers` with num_classes.
"""

from typing import Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.models import base
from ganjax.models import layers
from ganjax.models import normalizers


class Maxout(base.Layers):
  """A maxout unit layer (Goodfellow et al. 2013): max over `pieces` linears."""
  features: int
  pieces: int
  bias_init: layers.Initializer = nn.initializers.zeros

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    h = self.dense(x, self.features * self.pieces, name=None, train=train,
                   bias_init=self.bias_init)
    return jnp.max(h.reshape(*h.shape[:-1], self.features, self.pieces), -1)


class _HiddenLayers(base.Layers):
  """Dense layers, each optionally batch-normalized, then an activation."""
  widths: Sequence[int]
  hidden_activation: str
  maxout_pieces: int
  batch_norm: bool
  bn_momentum: float
  bias_init: layers.Initializer

  @nn.compact
  def __call__(self, h: jax.Array, train: bool) -> jax.Array:
    for width in self.widths:
      if self.hidden_activation == "maxout":
        h = Maxout(width, self.maxout_pieces, bias_init=self.bias_init,
                   **self.layer_args)(h, train=train)
      else:
        # A bias before batch norm would be cancelled by its offset.
        h = self.dense(h, width, name=None, train=train,
                       use_bias=not self.batch_norm, bias_init=self.bias_init)
      if self.batch_norm:
        h = normalizers.BatchNorm(momentum=self.bn_momentum)(h, train=train)
      if self.hidden_activation != "maxout":
        h = layers.activation(self.hidden_activation)(h)
    return h


def _with_labels(h: jax.Array, y: jax.Array | None,
                 num_classes: int) -> jax.Array:
  """[h, y] for a conditional net (one-hot y appended to each row), else h."""
  layers.check_labels(num_classes, y)
  return h if y is None else jnp.concatenate([h, y.astype(h.dtype)], -1)


@gin.configurable(module="models.mlp")
class Generator(base.Generator):
  """z → hidden layers → an example of `output_shape` (linear output).

  Attributes:
    hidden_dims: widths of the hidden layers.
    hidden_activation: relu, leaky_relu, tanh or maxout.
    maxout_pieces: pieces per maxout unit.
    batch_norm: batch-normalize every hidden layer (before the activation).
    bn_momentum: decay of the batch-norm moving averages.
    output_activation: None for real-valued data, "tanh" for data in [-1, 1].
    bias_init: initializer of the hidden layers' biases (none with batch
      norm); zeros by default. With zero biases every first-layer ReLU kink
      passes through the origin and a ReLU G is positively homogeneous
      (G(c·z) = c·G(z): samples on rays); random biases (e.g.
      `@initializers.normal()` with stddev near the input's scale) spread
      the kinks over the input space.
  """
  hidden_dims: Sequence[int] = (400, 400, 400, 400)
  hidden_activation: str = "relu"
  maxout_pieces: int = 5
  batch_norm: bool = True
  bn_momentum: float = 0.99
  output_activation: str | None = None
  bias_init: layers.Initializer = nn.initializers.zeros

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    h = _with_labels(z, y, self.num_classes)
    h = _HiddenLayers(self.hidden_dims, self.hidden_activation,
                      self.maxout_pieces, self.batch_norm, self.bn_momentum,
                      self.bias_init, **self.layer_args)(h, train)
    out = self.dense(h, int(np.prod(self.output_shape)), name=None,
                     train=train)
    if self.output_activation == "tanh":
      out = jnp.tanh(out)
    elif self.output_activation is not None:
      raise ValueError(f"Unknown output_activation {self.output_activation!r};"
                       " use None or 'tanh'.")
    return out.reshape(z.shape[0], *self.output_shape)


@gin.configurable(module="models.mlp")
class Discriminator(base.Layers):
  """An example (flattened) → hidden layers → one logit per packed input.

  Attributes:
    hidden_dims: widths of the hidden layers.
    hidden_activation: relu, leaky_relu, tanh or maxout.
    maxout_pieces: pieces per maxout unit.
    batch_norm: batch-normalize every hidden layer.
    bn_momentum: decay of the batch-norm moving averages.
    num_packed: PacGAN's m; D sees m examples at once and returns N/m logits.
    bias_init: initializer of the hidden layers' biases; zeros by default
      (see `Generator.bias_init`: random biases place the first layer's
      kinks all over the data's range instead of through the origin).
    num_classes: number of classes of a conditional D (0: unconditional).
  """
  hidden_dims: Sequence[int] = (200, 200, 200)
  hidden_activation: str = "maxout"
  maxout_pieces: int = 5
  batch_norm: bool = False
  bn_momentum: float = 0.99
  num_packed: int = 1
  bias_init: layers.Initializer = nn.initializers.zeros
  num_classes: int = 0

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    h = _with_labels(x.reshape(x.shape[0], -1), y, self.num_classes)
    h = layers.pack(h, self.num_packed)
    h = _HiddenLayers(self.hidden_dims, self.hidden_activation,
                      self.maxout_pieces, self.batch_norm, self.bn_momentum,
                      self.bias_init, **self.layer_args)(h, train)
    return self.dense(h, 1, name=None, train=train)
