"""Tests of ganjax.core.sampling's StyleGAN2 tools: truncation (ψ = 0 draws
the image of G's mean w whatever z), walks in W, style-mixing grids; Gs
without a W space are refused."""

import functools

import jax
import numpy as np
import optax
import pytest

from ganjax.core import gan as gan_lib
from ganjax.core import sampling
from ganjax.core import state as state_lib
from ganjax.data import dataset
from ganjax.models import dcgan
from ganjax.models import stylegan2


def _gan(generator, discriminator):
  return gan_lib.make_gan(
      dataset.DataSpec((8, 8, 1), None, True), generator=generator,
      discriminator=discriminator, g_optimizer=optax.sgd(0.1),
      d_optimizer=optax.sgd(0.1), z_dim=4, ema_decay=None)


def _stylegan2(use_noise=False):
  """A tiny StyleGAN2 and its state; with noise inputs of strength 0.5."""
  gan = _gan(functools.partial(stylegan2.Generator, w_dim=4,
                               mapping_layers=1, channel_base=16,
                               channel_max=4, use_noise=use_noise),
             functools.partial(stylegan2.Discriminator, channel_base=16,
                               channel_max=4))
  state = state_lib.create_state(gan, jax.random.key(0), (8, 8, 1), 4)
  strengthen = lambda path, x: x + 0.5 if "noise_strength" in str(path) else x
  return gan, state.replace(g_params=jax.tree_util.tree_map_with_path(
      strengthen, state.g_params))


def _synthesis(gan, state, ws, noise_seed):
  """G's images of ws, one call each: the noise of a batch of one is the
  noise of any batch with shared noise."""
  return np.concatenate([sampling.generate(
      gan, state, np.asarray(w)[None], False,
      rng=gan_lib.noise_key(jax.random.key(noise_seed)), method="synthesis")
                         for w in ws])


def _mapping(gan, state, seeds):
  z = np.concatenate([gan.sample_z(jax.random.key(s), 1) for s in seeds])
  return np.asarray(sampling.generate(gan, state, z, False,
                                      method="mapping"))


def test_truncation_psi_zero_draws_the_mean_ws_image():
  gan, state = _stylegan2()
  w_avg = np.linspace(-1, 1, 4).astype(np.float32)
  state = state.replace(g_collections={"w_avg": {"mapping": {
      "w_avg": w_avg}}})
  truncated = sampling.with_truncation_psi(gan, 0.0)
  images = sampling.draw(truncated, state, jax.random.key(1), 4, False)
  plain = sampling.draw(gan, state, jax.random.key(1), 4, False)
  np.testing.assert_allclose(images, images[:1].repeat(4, 0), atol=1e-6)
  assert not np.allclose(plain, plain[:1].repeat(4, 0), atol=1e-3)
  ws = np.broadcast_to(w_avg, (1, 4, 4))  # num_ws = 2·log2(8) − 2.
  want = gan.generator.apply({"params": state.g_params}, ws,
                             method=stylegan2.Generator.synthesis)
  np.testing.assert_allclose(images[:1], want, rtol=1e-5, atol=1e-6)
  assert sampling.with_truncation_psi(gan, None) is gan


def test_truncation_psi_needs_a_mean_w():
  gan = _gan(functools.partial(dcgan.Generator, width=4),
             functools.partial(dcgan.Discriminator, width=4))
  with pytest.raises(ValueError, match="--truncation truncates z"):
    sampling.with_truncation_psi(gan, 0.7)


def test_walks_in_w_and_z_share_their_ends_and_noise():
  gan, state = _stylegan2(use_noise=True)
  in_z = sampling.interpolations(gan, state, [(0, 1)], 5, False, False)
  in_w = sampling.interpolations(gan, state, [(0, 1)], 5, False, False,
                                 space="w")
  assert in_w.shape == (1, 5, 8, 8, 1)
  # The ends are the seeds' own samples, with the path's one noise draw.
  ws = _mapping(gan, state, [0, 1])
  np.testing.assert_allclose(in_w[0, [0, -1]], _synthesis(gan, state, ws, 0),
                             atol=1e-5)
  np.testing.assert_allclose(in_z[0, [0, -1]], in_w[0, [0, -1]], atol=1e-5)
  # Between them the W walk is G of the interpolated ws; the Z walk's
  # middle differs from it (the mapping is not linear).
  middle = 0.5 * ws[0] + 0.5 * ws[1]
  np.testing.assert_allclose(in_w[0, 2], _synthesis(gan, state, middle[None],
                                                    0)[0], atol=1e-5)
  assert np.abs(in_z[0, 2] - in_w[0, 2]).max() > 1e-3
  # The noise is the same along the path: a path between equal seeds is
  # constant, though each frame alone would draw other noise.
  still = sampling.interpolations(gan, state, [(3, 3)], 3, False, False,
                                  space="w")
  np.testing.assert_allclose(still[0], still[0, :1].repeat(3, 0), atol=1e-6)


def test_style_mixing_grid():
  gan, state = _stylegan2(use_noise=True)
  rows, cols = [0, 1, 2], [3, 4]
  grid = sampling.style_mixing(gan, state, rows, cols, [0, 1], False,
                               batch_size=4)
  assert grid.shape == (4, 3, 8, 8, 1)
  np.testing.assert_array_equal(grid[0, 0], -1.0)
  ws = dict(zip(rows + cols, _mapping(gan, state, rows + cols)))
  # Headers: the seeds' own images, all with the grid's one noise draw.
  np.testing.assert_allclose(
      grid[1:, 0], _synthesis(gan, state, [ws[r] for r in rows], 0),
      atol=1e-5)
  np.testing.assert_allclose(
      grid[0, 1:], _synthesis(gan, state, [ws[c] for c in cols], 0),
      atol=1e-5)
  # Cell (row 2, column 4): row seed 2's ws with layers 0 and 1 of seed 4's
  # (num_ws = 4 at 8×8).
  mixed = np.concatenate([ws[4][:2], ws[2][2:]])
  np.testing.assert_allclose(grid[3, 2], _synthesis(gan, state, mixed[None],
                                                    0)[0], atol=1e-5)
  with pytest.raises(ValueError, match=r"layers in \[0, 4\)"):
    sampling.style_mixing(gan, state, rows, cols, [0, 4], False)


def test_parse_styles():
  assert sampling.parse_styles("0-6") == list(range(7))
  assert sampling.parse_styles("0,2,4-5") == [0, 2, 4, 5]
  for bad in ("", "a-b", "1-", "0,"):
    with pytest.raises(ValueError, match="like 0-6"):
      sampling.parse_styles(bad)
  with pytest.raises(ValueError, match="runs backwards"):
    sampling.parse_styles("6-0")


def test_w_space_tools_need_a_w_space():
  gan = _gan(functools.partial(dcgan.Generator, width=4),
             functools.partial(dcgan.Discriminator, width=4))
  state = state_lib.create_state(gan, jax.random.key(0), (8, 8, 1), 4)
  with pytest.raises(ValueError, match="needs a G with a W space"):
    sampling.interpolations(gan, state, [(0, 1)], 3, False, False,
                            space="w")
  with pytest.raises(ValueError, match="needs a G with a W space"):
    sampling.style_mixing(gan, state, [0], [1], [0], False)
  stylegan, state = _stylegan2()
  with pytest.raises(ValueError, match="drop --spherical"):
    sampling.interpolations(stylegan, state, [(0, 1)], 3, True, False,
                            space="w")
