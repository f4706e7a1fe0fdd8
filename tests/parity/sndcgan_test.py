"""Training-step parity of SNDCGAN (spectral norm in D, hinge loss) with a
PyTorch reference: five steps from ganjax's initial variables on the same
batches and latents, D's spectral-norm vectors updated by every training
call (G's pass through D too). Tolerances: `harness`.
"""

import functools

import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.models import normalizers
from ganjax.models import sndcgan
from tests.parity import harness
from tests.parity import torch_reference as ref

_SHAPE = (16, 16, 3)
_ADAM = {"learning_rate": 2e-4, "b1": 0.0, "b2": 0.9}


@pytest.fixture(scope="module", params=["left", "right"])
def ganjax_run(request):
  """Five ganjax steps and their batches, with u in each kernel's input
  space (Compare GAN's default) or output space (SN-GAN's code)."""
  gan = harness.make_gan(
      generator=sndcgan.Generator(output_shape=_SHAPE, ch=4),
      discriminator=sndcgan.Discriminator(
          ch=4, weight_norm=functools.partial(
              normalizers.SpectralNorm, singular_value=request.param)),
      optimizer=_ADAM, loss=losses.hinge, z_dim=8)
  batches = harness.image_batches(_SHAPE)
  return (harness.run(gan, batches, example_shape=_SHAPE), batches,
          request.param)


def test_sndcgan_with_spectral_norm_trains_as_the_reference(ganjax_run):
  run, batches, singular_value = ganjax_run
  g = ref.SNDCGANGenerator(*harness.torch_variables(run.states[0], "g"),
                           output_shape=_SHAPE, ch=4)
  d = ref.SNDCGANDiscriminator(*harness.torch_variables(run.states[0], "d"),
                               spectral_norm=singular_value)
  records = harness.train_reference(run, batches, g, d, loss=ref.hinge,
                                    adam=harness.torch_adam(_ADAM))
  harness.check_training(run, records, _ADAM["learning_rate"])
