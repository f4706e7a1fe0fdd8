"""StyleGAN2's layers (Karras et al. 2020), as stylegan2-ada-pytorch builds
them (`training/networks.py`, `torch_utils/ops/bias_act.py`).

Every weight has an equalized learning rate: stored as N(0, 1) (dense
weights as N(0, 1/lr_multiplier²)) and scaled at run time by
lr_multiplier/√fan_in; dense biases are scaled by lr_multiplier too. The
activation is followed by its gain (√2 for the leaky ReLU of slope 0.2, 1 for
linear) and an optional clamp (`conv_clamp`, ±256 in the reference configs).

The modulated convolution scales the kernel's input channels by per-sample
styles and, with demodulation, each output channel by the inverse norm of its
scaled kernel. It runs either by scaling the activations before and after one
shared convolution ("activations": the reference's training path,
`fused_modconv=False`) or with per-sample kernels as one grouped convolution
("grouped": its inference path). Both compute the same function.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from ganjax.models import resample

ACT_GAINS = {"linear": 1.0, "lrelu": math.sqrt(2.0)}
MODCONV = ("activations", "grouped")
_SLOPE = 0.2


def normalize_2nd_moment(x: jax.Array, eps: float = 1e-8) -> jax.Array:
  """x / RMS(x) over the last axis (z and the label embedding)."""
  return x * lax.rsqrt(jnp.mean(jnp.square(x), -1, keepdims=True) + eps)


def bias_act(x: jax.Array, bias: jax.Array | None, act: str = "linear",
             gain: float = 1.0, clamp: float | None = None) -> jax.Array:
  """act(x + bias) · ACT_GAINS[act] · gain, clamped to ±clamp · gain."""
  if act not in ACT_GAINS:
    raise ValueError(f"Unknown activation {act!r}; choose one of "
                     f"{sorted(ACT_GAINS)}.")
  if bias is not None:
    x = x + bias.astype(x.dtype)
  if act == "lrelu":
    x = nn.leaky_relu(x, _SLOPE)
  x = x * (ACT_GAINS[act] * gain)
  if clamp is not None:
    x = jnp.clip(x, -clamp * gain, clamp * gain)
  return x


class Dense(nn.Module):
  """A fully connected layer with an equalized learning rate.

  Attributes:
    features: output features.
    activation: "linear" or "lrelu".
    lr_multiplier: the learning-rate multiplier (0.01 in the mapping net).
    bias_init: the bias's initial value (1 for the styles' affine layers).
  """
  features: int
  activation: str = "linear"
  lr_multiplier: float = 1.0
  bias_init: float = 0.0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", nn.initializers.normal(
        1.0 / self.lr_multiplier), (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.constant(self.bias_init),
                      (self.features,))
    gain = self.lr_multiplier / math.sqrt(x.shape[-1])
    return bias_act(x @ (kernel.astype(x.dtype) * gain),
                    bias * self.lr_multiplier, self.activation)


class Conv(nn.Module):
  """A convolution with an equalized learning rate and FIR downsampling.

  Attributes:
    features: output channels.
    kernel_size: K of the K×K kernel.
    activation: "linear" or "lrelu".
    down: downsampling factor (2: FIR downsampling, `resample`).
    use_bias: whether to add a bias.
    conv_clamp: clamp of the output, or None.
  """
  features: int
  kernel_size: int
  activation: str = "linear"
  down: int = 1
  use_bias: bool = True
  conv_clamp: float | None = None

  @nn.compact
  def __call__(self, x: jax.Array, gain: float = 1.0) -> jax.Array:
    k, c_in = self.kernel_size, x.shape[-1]
    kernel = self.param("kernel", nn.initializers.normal(1.0),
                        (k, k, c_in, self.features))
    bias = (self.param("bias", nn.initializers.zeros, (self.features,))
            if self.use_bias else None)
    kernel = kernel.astype(x.dtype) / math.sqrt(c_in * k * k)
    x = resample.conv2d_resample(x, kernel, resample.setup_filter(),
                                 down=self.down)
    return bias_act(x, bias, self.activation, gain, self.conv_clamp)


def modulated_conv2d(x: jax.Array, kernel: jax.Array, styles: jax.Array,
                     demodulate: bool = True, up: int = 1,
                     implementation: str = "activations") -> jax.Array:
  """The modulated (and demodulated) convolution of StyleGAN2.

  Args:
    x: [N, H, W, C_in].
    kernel: [K, K, C_in, C_out], shared by the batch; the demodulation is
      computed in its dtype, the convolution in x's.
    styles: [N, C_in], the per-sample scales of the input channels.
    demodulate: divide each output channel by the norm of its scaled kernel
      (+1e-8 under the root, as the reference).
    up: 1, or 2 for FIR upsampling before the convolution (whose kernel is
      then applied flipped, as the reference's).
    implementation: "activations" or "grouped" (module docstring).

  Returns:
    [N, H·up, W·up, C_out].
  """
  if implementation not in MODCONV:
    raise ValueError(f"Unknown modulated convolution {implementation!r}; "
                     f"choose one of {MODCONV}.")
  n, c_in = styles.shape
  dcoefs = None
  if demodulate:  # Σ over K, K, C_in of (kernel · style)², per sample.
    dcoefs = lax.rsqrt(jnp.square(styles) @ jnp.sum(jnp.square(kernel),
                                                     (0, 1)) + 1e-8)
  f = resample.setup_filter()
  if implementation == "activations":
    x = x * styles[:, None, None, :].astype(x.dtype)
    x = resample.conv2d_resample(x, kernel.astype(x.dtype), f, up=up,
                                 flip_kernel=up > 1)
    return x if dcoefs is None else x * dcoefs[:, None, None, :].astype(
        x.dtype)
  weights = kernel[None] * styles[:, None, None, :, None]
  if dcoefs is not None:
    weights = weights * dcoefs[:, None, None, None, :]
  k, c_out = kernel.shape[0], kernel.shape[-1]
  # [K, K, C_in, N·C_out]: group i maps sample i's channels to its outputs.
  weights = jnp.moveaxis(weights, 0, 3).reshape(k, k, c_in, n * c_out)
  grouped = jnp.moveaxis(x, 0, 2).reshape(1, *x.shape[1:3], n * c_in)
  out = resample.conv2d_resample(grouped, weights.astype(x.dtype), f, up=up,
                                 flip_kernel=up > 1, groups=n)
  return jnp.moveaxis(out.reshape(*out.shape[1:3], n, c_out), 2, 0)


def noise_input(module: nn.Module, shape: tuple[int, ...],
                dtype: jnp.dtype) -> jax.Array:
  """Fresh N(0, 1) noise of `shape` from the module's "noise" key stream.

  Raises a clear error when the caller passed no such key (the train step,
  `sampling` and the metrics do); while initializing, zeros.
  """
  if not module.has_rng("noise"):
    if module.is_initializing():
      return jnp.zeros(shape, dtype)
    raise ValueError("StyleGAN2's generator draws per-layer noise: apply it "
                     "with rngs={'noise': key}, or build it with "
                     "use_noise = False.")
  return jax.random.normal(module.make_rng("noise"), shape, dtype)

