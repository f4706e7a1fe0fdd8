"""Convolutions lowered by hand on CPU: im2col, and Winograd for 3×3 kernels.

XLA:CPU takes slow paths for strided convolutions' input gradients, for
kernels larger than their input and for lhs-dilated convolutions
(jax-ml/jax#23783). `conv_general_dilated` sidesteps them on CPU: a 2-D
convolution runs as strided slices of the padded input and one matmul
(im2col), or, when asked (`winograd=True`, the Inception), as Winograd
F(2×2, 3×3). Other backends keep `lax.conv_general_dilated`; the choice is
made per platform when a function is compiled, so one model serves all
backends. The lowering is a switch (`set_cpu_lowering`, environment variable
GANJAX_CPU_CONV=xla|im2col). Its default, im2col, is the faster on every
network measured (`benchmarks/step_throughput.py --cpu_conv=im2col,xla`,
recorded in benchmarks/README.md, 2026-12-07: 1.4× to 13.6× XLA's
convolutions on a 2-core AVX2 EPYC, 1.14× to 14× on a 2-core AVX-512 one);
it can go once XLA:CPU's own convolutions are as fast (jax-ml/jax#23783).
"""

import functools
import os
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax import lax

from ganjax.ops import winograd as winograd_lib

DIMENSIONS = ("NHWC", "HWIO", "NHWC")
_LOWERINGS = ("im2col", "xla")
_lowering = os.environ.get("GANJAX_CPU_CONV", "im2col")


def set_cpu_lowering(lowering: str) -> None:
  """Chooses how functions traced from now on convolve on CPU: "im2col"
  (with Winograd where asked) or "xla" (`lax.conv_general_dilated`)."""
  global _lowering
  if lowering not in _LOWERINGS:
    raise ValueError(f"CPU convolution lowering {lowering!r} is not one of "
                     f"{_LOWERINGS}.")
  _lowering = lowering


def cpu_lowering() -> str:
  """The CPU convolution lowering in use ("im2col" or "xla")."""
  if _lowering not in _LOWERINGS:
    raise ValueError(f"GANJAX_CPU_CONV={_lowering!r} is not one of "
                     f"{_LOWERINGS}.")
  return _lowering


def lowered(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
            dimension_numbers: Any = None, lhs_dilation: Any = None,
            rhs_dilation: Any = None, feature_group_count: int = 1) -> bool:
  """Whether a convolution takes the CPU lowering when it runs on CPU: the
  lowering is on and the convolution is what the lowering covers (2-D NHWC
  inputs, HWIO kernels, no dilation, no feature groups)."""
  return (cpu_lowering() == "im2col" and len(lhs_shape) == 4
          and feature_group_count == 1
          and all(d == 1 for d in (lhs_dilation or (1, 1)))
          and all(d == 1 for d in (rhs_dilation or (1, 1)))
          and lax.conv_dimension_numbers(lhs_shape, rhs_shape,
                                         dimension_numbers)
          == lax.conv_dimension_numbers(lhs_shape, rhs_shape, DIMENSIONS))


def _conv_as_matmul(x: jax.Array, kernel: jax.Array,
                    strides: Sequence[int],
                    pads: Sequence[tuple[int, int]],
                    precision: Any = None) -> jax.Array:
  """An NHWC × HWIO convolution as im2col: strided slices and one matmul."""
  kh, kw, c_in, c_out = kernel.shape
  x = lax.pad(x, jnp.zeros((), x.dtype),
              ((0, 0, 0), (*pads[0], 0), (*pads[1], 0), (0, 0, 0)))
  n, h, w, _ = x.shape
  ho, wo = (h - kh) // strides[0] + 1, (w - kw) // strides[1] + 1
  patches = jnp.concatenate([
      lax.slice(x, (0, i, j, 0),
                (n, i + (ho - 1) * strides[0] + 1,
                 j + (wo - 1) * strides[1] + 1, c_in),
                (1, *strides, 1))
      for i in range(kh) for j in range(kw)], axis=-1)
  return lax.dot_general(patches, kernel.reshape(kh * kw * c_in, c_out),
                         (((3,), (0,)), ((), ())), precision=precision)


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array,
                         window_strides: Sequence[int],
                         padding: str | Sequence[tuple[int, int]],
                         lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers: Any = None,
                         feature_group_count: int = 1,
                         precision: Any = None,
                         winograd: bool = False) -> jax.Array:
  """`lax.conv_general_dilated`, computed as im2col on CPU where `lowered`.

  Anything else, and every non-CPU backend, goes to
  `lax.conv_general_dilated` unchanged. With `winograd`, 3×3 stride-1
  kernels on CPU take `winograd.conv3x3` instead (2.25× fewer products,
  float32 results within about 1e-6).
  """
  def native(x, k):
    return lax.conv_general_dilated(
        x, k, window_strides, padding, lhs_dilation, rhs_dilation,
        dimension_numbers, feature_group_count, precision=precision)

  if not lowered(lhs.shape, rhs.shape, dimension_numbers, lhs_dilation,
                 rhs_dilation, feature_group_count):
    return native(lhs, rhs)
  pads = (lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], window_strides,
                              padding)
          if isinstance(padding, str) else padding)
  if winograd and rhs.shape[:2] == (3, 3) and tuple(window_strides) == (1, 1):
    cpu = functools.partial(winograd_lib.conv3x3, pads=pads,
                            precision=precision)
  else:
    cpu = functools.partial(_conv_as_matmul, strides=window_strides,
                            pads=pads, precision=precision)
  return lax.platform_dependent(lhs, rhs, default=native, cpu=cpu)
