"""FIR resampling: upfirdn2d and the resampling convolutions of StyleGAN2.

`upfirdn2d` is the operation of stylegan2-ada-pytorch's
`torch_utils/ops/upfirdn2d.py`, on NHWC images: insert up − 1 zeros after
every pixel, pad (negative: crop), convolve each channel with the FIR filter
f, keep every down-th pixel. The ×2 upsampling and downsampling of StyleGAN2
are this with the [1, 3, 3, 1] filter (normalized to sum 1; upsampling gains
4, so a constant image stays constant). A separable (1-D) filter runs as a
few shifted slices per axis: plain adds and multiplies that XLA fuses on
every backend.

`conv2d_resample` is that file's neighbour `conv2d_resample.py`: a
convolution with FIR upsampling before it or FIR downsampling after it, and
one padding for all. Its fast paths (transposed and strided convolutions)
compute the same linear maps as the direct order used here, except that the
upsampling path applies the kernel flipped; `flip_kernel` says which a layer
uses, as the reference's `flip_weight` does.
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ganjax.ops import conv

# StyleGAN2's resampling filter (Karras et al. 2020, §B).
FILTER = (1, 3, 3, 1)


def setup_filter(taps: Sequence[float] = FILTER) -> np.ndarray:
  """The 1-D filter of `taps`, normalized to sum 1 (a separable 2-D FIR
  filter is its outer product with itself)."""
  f = np.asarray(taps, np.float32)
  if f.ndim != 1 or not f.size:
    raise ValueError(f"A FIR filter is a non-empty list of taps, got {taps}.")
  return f / f.sum()


def _upsample_zeros(x: jax.Array, up: int, axis: int) -> jax.Array:
  """`up` − 1 zeros after every entry along `axis`."""
  if up == 1:
    return x
  config = [(0, 0, 0)] * x.ndim
  config[axis] = (0, up - 1, up - 1)
  return lax.pad(x, jnp.zeros((), x.dtype), config)


def _fir_1d(x: jax.Array, f: np.ndarray, axis: int) -> jax.Array:
  """Valid convolution of `x` with the 1-D filter f along `axis`."""
  taps = f[::-1]  # Convolution, not correlation, as the reference's default.
  length = x.shape[axis] - len(taps) + 1
  if length < 1:
    raise ValueError(f"A {len(taps)}-tap filter needs at least {len(taps)} "
                     f"pixels along axis {axis}, got {x.shape[axis]}.")
  out = None
  for k, tap in enumerate(taps):
    # A Python float keeps x's dtype (bfloat16 blocks stay bfloat16).
    term = lax.slice_in_dim(x, k, k + length, axis=axis) * float(tap)
    out = term if out is None else out + term
  return out


def upfirdn2d(x: jax.Array, f: np.ndarray, up: int = 1, down: int = 1,
              padding: Sequence[int] = (0, 0, 0, 0),
              gain: float = 1.0) -> jax.Array:
  """Upsample, pad, FIR-filter and downsample NHWC images.

  Args:
    x: [N, H, W, C].
    f: the 1-D filter of a separable 2-D one (`setup_filter`).
    up: upsampling factor (zeros inserted).
    down: downsampling factor.
    padding: (x0, x1, y0, y1) pixels added to the upsampled image: left,
      right, top, bottom; negative values crop.
    gain: the filter's overall gain (the 2-D filter is scaled by it).

  Returns:
    [N, H', W', C] with H' = (H·up + y0 + y1 − len(f) + down) // down.
  """
  x0, x1, y0, y1 = padding
  x = _upsample_zeros(_upsample_zeros(x, up, 1), up, 2)
  x = lax.pad(x, jnp.zeros((), x.dtype),
              ((0, 0, 0), (y0, y1, 0), (x0, x1, 0), (0, 0, 0)))
  f = np.asarray(f, np.float32) * np.sqrt(gain)
  x = _fir_1d(_fir_1d(x, f, 1), f, 2)
  return x[:, ::down, ::down] if down > 1 else x


def _up_padding(taps: int, up: int, extra: int = 0) -> tuple[int, ...]:
  """(x0, x1, y0, y1) that make ×up FIR upsampling keep up·H (and `extra`
  more pixels each side, for a convolution after it)."""
  p0, p1 = extra + (taps + up - 1) // 2, extra + (taps - up) // 2
  return p0, p1, p0, p1


def upsample2d(x: jax.Array, f: np.ndarray, up: int = 2) -> jax.Array:
  """×up FIR upsampling to exactly up·H × up·W (gain up²)."""
  return upfirdn2d(x, f, up=up, padding=_up_padding(len(f), up),
                   gain=up ** 2)


def conv2d_resample(x: jax.Array, kernel: jax.Array, f: np.ndarray | None,
                    up: int = 1, down: int = 1, flip_kernel: bool = False,
                    groups: int = 1) -> jax.Array:
  """A "same"-size convolution, with FIR upsampling before it or
  downsampling after it, at one padding.

  Args:
    x: [N, H, W, C_in].
    kernel: [K, K, C_in, C_out] (HWIO), K odd; applied as a correlation
      (`lax.conv`'s and torch's conv2d), or flipped with `flip_kernel`.
    f: the resampling filter (`setup_filter`); unused when up = down = 1.
    up, down: resampling factors (one of them 1).
    flip_kernel: convolve with the kernel instead of correlating.
    groups: feature groups (`lax.conv_general_dilated`'s
      feature_group_count; the kernel is then [K, K, C_in/groups, C_out]).

  Returns:
    [N, H·up/down, W·up/down, C_out].
  """
  if up > 1 and down > 1:
    raise ValueError("conv2d_resample resamples up or down, not both.")
  if flip_kernel:
    kernel = kernel[::-1, ::-1]
  k = kernel.shape[0]
  pad = k // 2

  def convolve(x, strides, padding):
    return conv.conv_general_dilated(x, kernel, strides, padding,
                                     dimension_numbers=conv.DIMENSIONS,
                                     feature_group_count=groups)
  if up > 1:
    x = upfirdn2d(x, f, up=up, padding=_up_padding(len(f), up, pad),
                  gain=up ** 2)
    return convolve(x, (1, 1), "VALID")
  if down > 1:
    p0, p1 = pad + (len(f) - down + 1) // 2, pad + (len(f) - down) // 2
    if k == 1:  # Filter and subsample first: the same map, 4× fewer MACs.
      return convolve(upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1)),
                      (1, 1), "VALID")
    return convolve(upfirdn2d(x, f, padding=(p0, p1, p0, p1)), (down, down),
                    "VALID")
  return convolve(x, (1, 1), ((pad, pad), (pad, pad)))
