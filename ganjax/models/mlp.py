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
"""

from typing import Any, Sequence

import flax.linen as nn
import gin
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.models import layers
from ganjax.models import normalizers


class Maxout(nn.Module):
  """A maxout unit layer (Goodfellow et al. 2013): max over `pieces` linears."""
  features: int
  pieces: int
  kernel_init: layers.Initializer = nn.initializers.normal(0.02)
  weight_norm: Any = None
  bias_init: layers.Initializer = nn.initializers.zeros

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    h = normalizers.wrap(
        self.weight_norm,
        nn.Dense(self.features * self.pieces, kernel_init=self.kernel_init,
                 bias_init=self.bias_init),
        x, train=train)
    return jnp.max(h.reshape(*h.shape[:-1], self.features, self.pieces), -1)


class _HiddenLayers(nn.Module):
  """Dense layers, each optionally batch-normalized, then an activation."""
  widths: Sequence[int]
  hidden_activation: str
  maxout_pieces: int
  batch_norm: bool
  bn_momentum: float
  kernel_init: layers.Initializer
  weight_norm: Any
  bias_init: layers.Initializer

  @nn.compact
  def __call__(self, h: jax.Array, train: bool) -> jax.Array:
    init = self.kernel_init
    for width in self.widths:
      if self.hidden_activation == "maxout":
        h = Maxout(width, self.maxout_pieces, kernel_init=init,
                   weight_norm=self.weight_norm,
                   bias_init=self.bias_init)(h, train=train)
      else:
        # A bias before batch norm would be cancelled by its offset.
        h = normalizers.wrap(
            self.weight_norm,
            nn.Dense(width, use_bias=not self.batch_norm, kernel_init=init,
                     bias_init=self.bias_init),
            h, train=train)
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
class Generator(nn.Module):
  """z → hidden layers → an example of `output_shape` (linear output).

  Attributes:
    output_shape: shape of one example; set from the data set.
    hidden_dims: widths of the hidden layers.
    hidden_activation: relu, leaky_relu, tanh or maxout.
    maxout_pieces: pieces per maxout unit.
    batch_norm: batch-normalize every hidden layer (before the activation).
    bn_momentum: decay of the batch-norm moving averages.
    output_activation: None for real-valued data, "tanh" for data in [-1, 1].
    kernel_init: initializer of every kernel.
    weight_norm: a weight normalizer of every layer (`normalizers.*`), or
      None.
    bias_init: initializer of the hidden layers' biases (none with batch
      norm); zeros by default. With zero biases every first-layer ReLU kink
      passes through the origin and a ReLU G is positively homogeneous
      (G(c·z) = c·G(z): samples on rays); random biases (e.g.
      `@initializers.normal()` with stddev near the input's scale) spread
      the kinks over the input space.
    num_classes: number of classes of a conditional G (0: unconditional).
  """
  output_shape: Sequence[int]
  hidden_dims: Sequence[int] = (400, 400, 400, 400)
  hidden_activation: str = "relu"
  maxout_pieces: int = 5
  batch_norm: bool = True
  bn_momentum: float = 0.99
  output_activation: str | None = None
  kernel_init: layers.Initializer = nn.initializers.normal(0.02)
  weight_norm: Any = None
  bias_init: layers.Initializer = nn.initializers.zeros
  num_classes: int = 0

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    h = _with_labels(z, y, self.num_classes)
    h = _HiddenLayers(self.hidden_dims, self.hidden_activation,
                      self.maxout_pieces, self.batch_norm,
                      self.bn_momentum, self.kernel_init,
                      self.weight_norm, self.bias_init)(h, train)
    out = normalizers.wrap(
        self.weight_norm,
        nn.Dense(int(np.prod(self.output_shape)),
                 kernel_init=self.kernel_init), h, train=train)
    if self.output_activation == "tanh":
      out = jnp.tanh(out)
    elif self.output_activation is not None:
      raise ValueError(f"Unknown output_activation {self.output_activation!r};"
                       " use None or 'tanh'.")
    return out.reshape(z.shape[0], *self.output_shape)


@gin.configurable(module="models.mlp")
class Discriminator(nn.Module):
  """An example (flattened) → hidden layers → one logit per packed input.

  Attributes:
    hidden_dims: widths of the hidden layers.
    hidden_activation: relu, leaky_relu, tanh or maxout.
    maxout_pieces: pieces per maxout unit.
    batch_norm: batch-normalize every hidden layer.
    bn_momentum: decay of the batch-norm moving averages.
    num_packed: PacGAN's m; D sees m examples at once and returns N/m logits.
    kernel_init: initializer of every kernel.
    weight_norm: a weight normalizer of every layer (e.g.
      `normalizers.spectral_norm`), or None.
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
  kernel_init: layers.Initializer = nn.initializers.normal(0.02)
  weight_norm: Any = None
  bias_init: layers.Initializer = nn.initializers.zeros
  num_classes: int = 0

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None, *,
               train: bool) -> jax.Array:
    h = _with_labels(x.reshape(x.shape[0], -1), y, self.num_classes)
    h = layers.pack(h, self.num_packed)
    h = _HiddenLayers(self.hidden_dims, self.hidden_activation,
                      self.maxout_pieces, self.batch_norm,
                      self.bn_momentum, self.kernel_init,
                      self.weight_norm, self.bias_init)(h, train)
    return normalizers.wrap(
        self.weight_norm, nn.Dense(1, kernel_init=self.kernel_init), h,
        train=train)
