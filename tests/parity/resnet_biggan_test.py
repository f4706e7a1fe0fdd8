"""Training-step parity of BigGAN's D in BigGAN-PyTorch's layout
(`models.resnet_biggan.Discriminator.layout = "biggan_pytorch"`, the D of the
DiffAugment and StudioGAN BigGAN configs) with a PyTorch reference written
from BigGAN-PyTorch's `D_arch[32]`: the projection D against resnet_cifar's
G, non-saturating loss, five steps from ganjax's initial variables on the
same batches, labels, fake labels and latents. Spectral norm is off on both
sides (its parity is the SN-DCGAN test's). Tolerances: `harness`.
"""

import flax.linen as nn
import numpy as np
import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.models import resnet_biggan
from ganjax.models import resnet_cifar
from tests.parity import harness
from tests.parity import torch_reference as ref

_SHAPE = (32, 32, 3)
_INIT = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
_CLASSES = 3
_ADAM = {"learning_rate": 2e-4, "b1": 0.5, "b2": 0.999}


def test_biggan_pytorch_layout_discriminator_trains_as_the_reference():
  gan = harness.make_gan(
      generator=resnet_cifar.Generator(output_shape=_SHAPE, ch=4,
                                       num_classes=_CLASSES,
                                       kernel_init=_INIT),
      discriminator=resnet_biggan.Discriminator(
          ch=1, num_classes=_CLASSES, layout="biggan_pytorch",
          blocks_with_attention="", weight_norm=None, kernel_init=_INIT),
      optimizer=_ADAM, loss=losses.non_saturating, z_dim=8,
      num_classes=_CLASSES)
  rng = np.random.default_rng(0)
  batches = [{"x": rng.uniform(-1, 1, (8, *_SHAPE)).astype(np.float32),
              "label": rng.integers(0, _CLASSES, 8)} for _ in range(5)]
  run = harness.run(gan, batches, example_shape=_SHAPE)

  g = ref.ResNetCifarGenerator(*harness.torch_variables(run.states[0], "g"),
                               ch=4)
  d = ref.BigGANPyTorchDiscriminator(
      *harness.torch_variables(run.states[0], "d"))
  records = harness.train_reference(run, batches, g, d,
                                    num_classes=_CLASSES,
                                    loss=ref.non_saturating,
                                    adam=harness.torch_adam(_ADAM))
  harness.check_training(run, records, _ADAM["learning_rate"])
