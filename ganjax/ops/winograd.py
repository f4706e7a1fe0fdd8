"""3×3 stride-1 convolutions by Winograd's minimal filtering, F(2×2, 3×3).

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016):
each 2×2 output tile is computed from a 4×4 input tile with 16 products per
channel pair instead of 36, i.e. 16 matmuls over all tiles in place of one
im2col matmul 2.25× larger. On XLA:CPU, where a convolution is a matmul over
patches (`conv.py`), this makes the FID Inception's 3×3 convolutions about
twice as fast; the transforms only add and subtract, so float32 results stay
within about 1e-6 (relative) of the direct convolution.
"""

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

# Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for a 4×4 input tile d and a 3×3 kernel g.
_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
               np.float32)
_G = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]], np.float32)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)


def _sandwich(t: np.ndarray, blocks: list[list[Any]]) -> list[list[Any]]:
  """t · blocks · tᵀ for a matrix of arrays, skipping zero coefficients."""
  rows, cols = range(t.shape[1]), range(t.shape[1])
  return [[sum(float(t[i, a] * t[j, b]) * blocks[a][b]
               for a in rows for b in cols if t[i, a] * t[j, b])
           for j in range(t.shape[0])] for i in range(t.shape[0])]


def conv3x3(x: jax.Array, kernel: jax.Array,
            pads: Sequence[tuple[int, int]], precision: Any = None
            ) -> jax.Array:
  """The stride-1 convolution of NHWC `x` with a [3, 3, C_in, C_out] kernel.

  Args:
    x: [N, H, W, C_in].
    kernel: [3, 3, C_in, C_out] (HWIO).
    pads: ((top, bottom), (left, right)) zero padding, as for `lax.conv`.
    precision: passed to the matmuls.

  Returns:
    [N, H + top + bottom − 2, W + left + right − 2, C_out].
  """
  n, h, w, _ = x.shape
  ho, wo = h + sum(pads[0]) - 2, w + sum(pads[1]) - 2
  th, tw = -(-ho // 2), -(-wo // 2)  # Output tiles; the last may overhang.
  x = jnp.pad(x, ((0, 0), (pads[0][0], 2 * th + 2 - h - pads[0][0]),
                  (pads[1][0], 2 * tw + 2 - w - pads[1][0]), (0, 0)))
  # Element (a, b) of every input tile, as one [N, TH, TW, C_in] array.
  tiles = [[x[:, a:a + 2 * th:2, b:b + 2 * tw:2] for b in range(4)]
           for a in range(4)]
  inputs = _sandwich(_BT, tiles)
  filters = jnp.einsum("ia,abck,jb->ijck", _G, kernel, _G,
                       precision=lax.Precision.HIGHEST)
  products = [[jnp.dot(inputs[i][j], filters[i, j], precision=precision)
               for j in range(4)] for i in range(4)]
  out = _sandwich(_AT, products)
  y = jnp.stack([jnp.stack(row, axis=3) for row in out], axis=2)
  return y.reshape(n, 2 * th, 2 * tw, -1)[:, :ho, :wo]
