"""Training-step parity of DCGAN with a PyTorch reference.

Batch norm in G and D (D on concat(real, fake), one batch), the
non-saturating loss, Adam; five steps from ganjax's initial variables on the
same batches and latents. Tolerances: `harness`.
"""

import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.models import dcgan
from tests.parity import harness
from tests.parity import torch_reference as ref

_SHAPE = (16, 16, 3)
_ADAM = {"learning_rate": 2e-4, "b1": 0.5, "b2": 0.999}


def test_dcgan_with_batch_norm_trains_as_the_reference():
  gan = harness.make_gan(
      generator=dcgan.Generator(output_shape=_SHAPE, width=4),
      discriminator=dcgan.Discriminator(width=4), optimizer=_ADAM,
      loss=losses.non_saturating, z_dim=8)
  batches = harness.image_batches(_SHAPE)
  run = harness.run(gan, batches, example_shape=_SHAPE)

  g = ref.DCGANGenerator(*harness.torch_variables(run.states[0], "g"),
                         output_shape=_SHAPE, width=4)
  d = ref.DCGANDiscriminator(*harness.torch_variables(run.states[0], "d"))
  records = harness.train_reference(run, batches, g, d,
                                    loss=ref.non_saturating,
                                    adam=harness.torch_adam(_ADAM))
  harness.check_training(run, records, _ADAM["learning_rate"])
