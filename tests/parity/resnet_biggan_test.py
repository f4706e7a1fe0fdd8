"""Training-step parity of BigGAN's D in BigGAN-PyTorch's layout
(`models.resnet_biggan.Discriminator.layout = "biggan_pytorch"`, the D of the
DiffAugment and StudioGAN BigGAN configs) with a PyTorch reference written
from BigGAN-PyTorch's `D_arch[32]`: the projection D against resnet_cifar's
conditional G, non-saturating loss, five steps from ganjax's initial
variables on the same batches, labels, fake labels and latents. Spectral
norm is off on both sides (its parity is the SN-DCGAN test's). Tolerances:
`harness`.
"""

import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.models import resnet_biggan
from tests.parity import resnet_cifar_test
from tests.parity import torch_reference as ref


def test_biggan_pytorch_layout_discriminator_trains_as_the_reference():
  resnet_cifar_test.check_with_conditional_g(
      resnet_biggan.Discriminator(
          ch=1, num_classes=resnet_cifar_test.CLASSES,
          layout="biggan_pytorch", blocks_with_attention="",
          weight_norm=None, kernel_init=resnet_cifar_test.INIT),
      ref.BigGANPyTorchDiscriminator, losses.non_saturating,
      ref.non_saturating, {"learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
