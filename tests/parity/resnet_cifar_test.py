"""Training-step parity of the conditional resnet_cifar GAN with a PyTorch
reference: G with conditional batch norm, D with the projection term (its
first block without a pre-activation), hinge loss, five steps from ganjax's
initial variables on the same batches, labels, fake labels and latents.
Tolerances: `harness`.
"""

from typing import Any, Callable

import flax.linen as nn
import numpy as np
import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.models import resnet_cifar
from tests.parity import harness
from tests.parity import torch_reference as ref

_SHAPE = (32, 32, 3)
# He-normal kernels: at width 4, N(0, 0.02²) kernels shrink the activations
# layer by layer until one Adam step kills every ReLU of D's last block.
INIT = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
CLASSES = 3
_ADAM = {"learning_rate": 2e-4, "b1": 0.0, "b2": 0.9}


def check_with_conditional_g(discriminator: nn.Module,
                             reference_d: type[ref.Network],
                             loss: Callable[..., Any],
                             reference_loss: Callable[..., Any],
                             adam: dict[str, float]) -> None:
  """Trains the conditional resnet_cifar G against `discriminator` for five
  steps, and the references (`reference_d` for D) from the same variables on
  the same data and draws, and compares them (`harness.check_training`)."""
  gan = harness.make_gan(
      generator=resnet_cifar.Generator(output_shape=_SHAPE, ch=4,
                                       num_classes=CLASSES,
                                       kernel_init=INIT),
      discriminator=discriminator, optimizer=adam, loss=loss, z_dim=8,
      num_classes=CLASSES)
  rng = np.random.default_rng(0)
  batches = [{"x": rng.uniform(-1, 1, (8, *_SHAPE)).astype(np.float32),
              "label": rng.integers(0, CLASSES, 8)} for _ in range(5)]
  run = harness.run(gan, batches, example_shape=_SHAPE)

  g = ref.ResNetCifarGenerator(*harness.torch_variables(run.states[0], "g"),
                               ch=4)
  d = reference_d(*harness.torch_variables(run.states[0], "d"))
  records = harness.train_reference(run, batches, g, d,
                                    num_classes=CLASSES, loss=reference_loss,
                                    adam=harness.torch_adam(adam))
  harness.check_training(run, records, adam["learning_rate"])


def test_conditional_resnet_cifar_trains_as_the_reference():
  check_with_conditional_g(
      resnet_cifar.Discriminator(ch=4, num_classes=CLASSES,
                                 kernel_init=INIT),
      ref.ResNetCifarDiscriminator, losses.hinge, ref.hinge, _ADAM)
