"""Tests of ganjax.core.sampling's StyleGAN2 truncation: ψ = 0 draws the
image of G's mean w whatever z, and a G without one is refused."""

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


def test_truncation_psi_zero_draws_the_mean_ws_image():
  gan = _gan(functools.partial(stylegan2.Generator, w_dim=4,
                               mapping_layers=1, channel_base=16,
                               channel_max=4, use_noise=False),
             functools.partial(stylegan2.Discriminator, channel_base=16,
                               channel_max=4))
  state = state_lib.create_state(gan, jax.random.key(0), (8, 8, 1), 4)
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
