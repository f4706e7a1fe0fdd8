"""Tests of ganjax.models.resample against NumPy loops written from
stylegan2-ada-pytorch's definition of upfirdn2d (upsample with zeros, pad,
convolve with the 2-D filter, subsample)."""

import numpy as np
import pytest

from ganjax.models import resample


def upfirdn2d_numpy(x, taps, up, down, padding, gain):
  """upfirdn2d by its definition, one output pixel at a time (float64;
  taps unnormalized, the 2-D filter their normalized outer product)."""
  n, h, w, c = x.shape
  up_x = np.zeros((n, h * up, w * up, c))
  up_x[:, ::up, ::up] = x
  x0, x1, y0, y1 = padding
  padded = np.pad(up_x, ((0, 0), (max(y0, 0), max(y1, 0)),
                         (max(x0, 0), max(x1, 0)), (0, 0)))
  padded = padded[:, max(-y0, 0):padded.shape[1] - max(-y1, 0),
                  max(-x0, 0):padded.shape[2] - max(-x1, 0)]
  f = np.outer(taps, taps) / np.sum(taps) ** 2 * gain
  k = len(taps)
  out_h, out_w = padded.shape[1] - k + 1, padded.shape[2] - k + 1
  out = np.zeros((n, out_h, out_w, c))
  for i in range(out_h):
    for j in range(out_w):
      window = padded[:, i:i + k, j:j + k]
      # Convolution: the filter flipped against the window.
      out[:, i, j] = np.einsum("nabc,ab->nc", window, f[::-1, ::-1])
  return out[:, ::down, ::down]


_CASES = [  # taps, up, down, padding (x0, x1, y0, y1), gain
    ((1, 3, 3, 1), 2, 1, (2, 1, 2, 1), 4.0),
    ((1, 3, 3, 1), 1, 2, (1, 1, 1, 1), 1.0),
    ((1, 2, 4), 1, 1, (1, 1, 0, 2), 1.0),
    ((1, 3, 3, 1), 2, 1, (3, 2, 3, 2), 4.0),
    ((1, 3, 3, 1), 1, 1, (-1, 2, 0, -1), 1.0),
    ((1, 2, 3, 4), 3, 2, (1, 2, 2, 1), 1.0),  # An asymmetric filter.
]


@pytest.mark.parametrize("taps,up,down,padding,gain", _CASES)
def test_upfirdn2d_matches_the_definition(taps, up, down, padding, gain):
  x = np.random.default_rng(len(taps) + up).normal(
      size=(2, 5, 6, 3)).astype(np.float32)
  got = resample.upfirdn2d(x, resample.setup_filter(taps), up, down, padding,
                           gain)
  want = upfirdn2d_numpy(x, np.asarray(taps, np.float64), up, down, padding,
                          gain)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_resampling_keeps_sizes_and_constants():
  f = resample.setup_filter()
  ones = np.ones((1, 8, 8, 2), np.float32)
  identity = np.eye(2, dtype=np.float32)[None, None]  # A 1×1 kernel.
  up = resample.upsample2d(ones, f)
  down = resample.conv2d_resample(ones, identity, f, down=2)
  assert up.shape == (1, 16, 16, 2) and down.shape == (1, 4, 4, 2)
  # Away from the zero padding a constant stays that constant.
  np.testing.assert_allclose(up[:, 2:-2, 2:-2], 1.0, rtol=1e-6)
  np.testing.assert_allclose(down[:, 1:-1, 1:-1], 1.0, rtol=1e-6)


def conv_numpy(x, kernel, pad):
  """The correlation of NHWC x, zero-padded by `pad`, with an HWIO kernel,
  one output pixel at a time."""
  k = kernel.shape[0]
  padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  out_h, out_w = padded.shape[1] - k + 1, padded.shape[2] - k + 1
  return np.stack([np.stack([
      np.einsum("nabi,abio->no", padded[:, i:i + k, j:j + k], kernel)
      for j in range(out_w)], 1) for i in range(out_h)], 1)


def _strided(x, stride):
  return x[:, ::stride, ::stride]


# (kernel size, up, down) of StyleGAN2's convolutions.
@pytest.mark.parametrize("k,up,down", [(3, 1, 1), (3, 2, 1), (3, 1, 2),
                                       (1, 1, 1), (1, 1, 2)])
def test_conv2d_resample_pads_once_then_filters_and_convolves(k, up, down):
  """As the reference's conv2d_resample: all the padding first; then up: the
  FIR-upsampled image convolved with the flipped kernel; down: the
  FIR-filtered image convolved and subsampled."""
  rng = np.random.default_rng(k * 10 + up + down)
  x = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
  kernel = rng.normal(size=(k, k, 3, 4)).astype(np.float32)
  taps = np.array(resample.FILTER, float)
  got = resample.conv2d_resample(x, kernel, resample.setup_filter(), up=up,
                                 down=down, flip_kernel=up > 1)
  p = k // 2
  if up > 1:
    want = conv_numpy(upfirdn2d_numpy(x, taps, 2, 1, (p + 2, p + 1) * 2,
                                        4.0), kernel[::-1, ::-1], 0)
  elif down > 1:
    filtered = upfirdn2d_numpy(x, taps, 1, 1, (p + 1, p + 1) * 2, 1.0)
    want = _strided(conv_numpy(filtered, kernel, 0), 2)
  else:
    want = conv_numpy(x, kernel, p)
  assert got.shape == (2, 8 * up // down, 8 * up // down, 4)
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_filters_are_checked():
  with pytest.raises(ValueError, match="taps"):
    resample.setup_filter([])
  with pytest.raises(ValueError, match="needs at least 4 pixels"):
    resample.upfirdn2d(np.ones((1, 2, 2, 1), np.float32),
                       resample.setup_filter())
