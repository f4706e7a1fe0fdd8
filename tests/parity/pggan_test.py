"""Parity of the progressive GAN's D with the paper code (networks.py
`D_paper`, loss.py `D_wgangp_acgan`) in PyTorch: the D at 16×16 mid-fade
(fade 0.37: both its newest block and the previous level's fromRGB count),
fused conv-downscaling, minibatch stddev over the reals and over the fakes
separately (`GAN.separate_d_calls`), WGAN-GP (λ 10) with the drift term
(0.001), Adam(0, 0.99); five steps from ganjax's initial variables, with a
small DCGAN as G. Tolerances: `harness`.
"""

import functools

import numpy as np
import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.core import penalties
from ganjax.models import dcgan
from ganjax.models import pggan
from tests.parity import harness
from tests.parity import torch_reference as ref

_SHAPE = (16, 16, 3)
_FADE = 0.37
_ADAM = {"learning_rate": 1e-3, "b1": 0.0, "b2": 0.99}


@pytest.fixture(scope="module", params=[1e-4, 0.0],
                ids=["compare_gan_penalty", "paper_penalty"])
def ganjax_run(request):
  """Five ganjax steps and their batches, with the WGAN-GP norm's ε of
  Compare GAN (1e-4, `penalties.wgan_gp`'s default) or of the paper code
  (none: `models/pggan.gin`)."""
  gan = harness.make_gan(
      generator=dcgan.Generator(output_shape=_SHAPE, width=4),
      discriminator=pggan.Discriminator(fade=_FADE, fmap_base=32,
                                        fmap_max=8),
      optimizer=_ADAM, loss=functools.partial(losses.wasserstein,
                                              drift=0.001),
      penalty=functools.partial(penalties.wgan_gp, epsilon=request.param),
      penalty_weight=10.0, z_dim=8,
      separate_d_calls=True)
  batches = harness.image_batches(_SHAPE)
  return (harness.run(gan, batches, example_shape=_SHAPE), batches,
          request.param)


def test_pggan_d_mid_fade_trains_as_the_paper_code(ganjax_run):
  """The paper code's D and losses, with the WGAN-GP norm's ε of either
  code (the reference takes the same)."""
  run, batches, epsilon = ganjax_run
  g = ref.DCGANGenerator(*harness.torch_variables(run.states[0], "g"),
                         output_shape=_SHAPE, width=4)
  d = ref.PGGANDiscriminator(*harness.torch_variables(run.states[0], "d"),
                             fade=_FADE)
  records = harness.train_reference(
      run, batches, g, d, penalty_name="wgan_gp",
      loss=functools.partial(ref.wasserstein, drift=0.001),
      penalty=functools.partial(ref.wgan_gp, epsilon=epsilon),
      penalty_weight=10.0, separate_d_calls=True,
      adam=harness.torch_adam(_ADAM))
  # D's output bias gets the drift term alone (the Wasserstein terms cancel,
  # −1 + 1 per example), ~2e-5 of D's gradient, which float32 resolves to
  # ~1e-3; Adam (β1 = 0) carries that into its updates and so into G's loss
  # (−0.03, its own terms cancelling too). PyTorch in float32 deviates from
  # the float64 reference as much: at step 4, parameters by 1.5e-3 of their
  # update's scale and G's loss by 3.5e-6 (ganjax: 6.4e-4 and 3e-6).
  harness.check_training(run, records, _ADAM["learning_rate"],
                         param_rtol=3e-3, loss_atol=1e-5)


def test_the_fakes_minibatch_stddev_ignores_the_reals(ganjax_run):
  """Same state, latents and fakes, other reals: D's outputs on the fakes
  (their mean, the step's d_fake) do not change."""
  run, batches, _ = ganjax_run
  other = {"x": np.random.default_rng(1).uniform(
      -1, 1, batches[0]["x"].shape).astype(np.float32)}
  d_fake = [float(run.train_step(run.states[0], batch)[1]["d_fake"])
            for batch in (batches[0], other)]
  assert d_fake[0] == d_fake[1]
  assert d_fake[0] == run.metrics[0]["d_fake"]
