"""Layers shared by the architectures.

`Conv` is flax's `nn.Conv` with `ops.conv.conv_general_dilated`: im2col on
CPU unless switched off (`ops/conv.py`), XLA's convolution elsewhere.

`ConvTranspose` is TensorFlow's `conv2d_transpose`: the adjoint of a strided
convolution, with the output size given explicitly (so 4 → 7 → 14 → 28 works
as in Compare GAN's DCGAN). It is the linear transpose of the convolution
of `Conv`, so on CPU it too is matmuls, pads and slices, and its gradients
are. `ConvTransposeTo` fixes the output size, so that a weight normalizer
can wrap it.

Also here: PacGAN packing, the hidden activations and the label checks.
"""

import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from ganjax.ops import conv

Initializer = Callable[..., jax.Array]


class Conv(nn.Conv):
  """`nn.Conv` computed by `ops.conv.conv_general_dilated`."""
  conv_general_dilated: Any = conv.conv_general_dilated


def conv_transpose(x: jax.Array, kernel: jax.Array,
                   output_hw: tuple[int, int], strides: tuple[int, int],
                   padding: str) -> jax.Array:
  """Sᵀx, where S is the strided convolution with `kernel` (HW, out, in).

  Args:
    x: [N, H, W, C_in].
    kernel: [KH, KW, C_out, C_in], TensorFlow's conv2d_transpose layout.
    output_hw: (H', W') with S mapping H' to H.
    strides: the strides of S.
    padding: the padding of S, "SAME" or "VALID".

  Returns:
    [N, H', W', C_out].
  """
  out = jax.ShapeDtypeStruct((x.shape[0], *output_hw, kernel.shape[2]),
                             x.dtype)
  adjoint = jax.linear_transpose(
      lambda y: conv.conv_general_dilated(y, kernel, strides, padding,
                                          dimension_numbers=conv.DIMENSIONS),
      out)
  return adjoint(x)[0]


class ConvTranspose(nn.Module):
  """Transposed convolution with an explicit output size (TF semantics).

  Attributes:
    features: output channels.
    kernel_size: (KH, KW).
    strides: upsampling factors.
    padding: padding of the convolution this layer is the adjoint of.
    kernel_init: initializer of the [KH, KW, features, C_in] kernel.
    use_bias: whether to add a bias.
  """
  features: int
  kernel_size: Sequence[int] = (5, 5)
  strides: Sequence[int] = (2, 2)
  padding: str = "SAME"
  kernel_init: Initializer = nn.initializers.normal(0.02)
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: jax.Array, output_hw: Sequence[int]) -> jax.Array:
    kernel = self.param("kernel", self.kernel_init,
                        (*self.kernel_size, self.features, x.shape[-1]))
    y = conv_transpose(x, kernel.astype(x.dtype), tuple(output_hw),
                       tuple(self.strides), self.padding)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros, (self.features,))
    return y


class ConvTransposeTo(ConvTranspose):
  """`ConvTranspose` to a fixed output size, callable as layer(x).

  A weight normalizer calls its layer with the input only, so the output size
  is a field here.

  Attributes:
    output_hw: (H', W') of the output.
  """
  output_hw: Sequence[int] = ()

  # pylint: disable-next=arguments-differ
  def __call__(self, x: jax.Array) -> jax.Array:
    return super().__call__(x, self.output_hw)


def pack(x: jax.Array, num_packed: int) -> jax.Array:
  """PacGAN packing (Lin et al. 2018): m consecutive examples become one.

  Vectors [N, D] become [N/m, m·D]; images [N, H, W, C] are concatenated along
  channels into [N/m, H, W, m·C].
  """
  if num_packed == 1:
    return x
  if x.shape[0] % num_packed:
    raise ValueError(f"PacGAN packing of {num_packed} needs a batch divisible "
                     f"by {num_packed}, got {x.shape[0]} examples.")
  grouped = x.reshape(x.shape[0] // num_packed, num_packed, *x.shape[1:])
  return jnp.moveaxis(grouped, 1, -2).reshape(
      grouped.shape[0], *x.shape[1:-1], num_packed * x.shape[-1])


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
  """The hidden activation named `name`: relu, leaky_relu (0.2) or tanh."""
  activations: dict[str, Any] = {
      "relu": nn.relu,
      "leaky_relu": functools.partial(nn.leaky_relu, negative_slope=0.2),
      "tanh": jnp.tanh,
  }
  if name not in activations:
    raise ValueError(f"Unknown activation {name!r}; choose one of "
                     f"{sorted(activations)} (or 'maxout' where supported).")
  return activations[name]


def check_labels(num_classes: int, y: jax.Array | None) -> None:
  """Raises unless labels come exactly when the model is conditional."""
  if num_classes and y is None:
    raise ValueError(f"This model is class-conditional ({num_classes} "
                     "classes) and needs one-hot labels y.")
  if not num_classes and y is not None:
    raise ValueError("This model is unconditional (num_classes = 0) but got "
                     "labels.")
  if y is not None and y.shape[-1] != num_classes:
    raise ValueError(f"Labels of width {y.shape[-1]} for a model of "
                     f"{num_classes} classes.")
