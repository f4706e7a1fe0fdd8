"""Imports every gin-registered component, so that configs can name them.

Families and their gin namespaces: `losses.*`, `penalties.*`, `terms.*`,
`models.<architecture>.{Generator,Discriminator}`, `datasets.*`, `metrics.*`
(evaluation metrics and the Inception's weights and resize), Flax's weight
initializers as `initializers.*` (e.g. `@initializers.orthogonal()`), and
optax's optimizers and learning-rate schedules as `optax.*` and StyleGAN2's
`optimizers.lazy_regularized_adam` (bind G's and D's in the `generator/` and
`discriminator/` scopes). The run's settings are
`GAN.*`, `experiment.*`, `progressive.schedule.*` (progressive growing),
`train.*`, `evaluation.*` and the divergence guard's `guard.*`.
"""

import inspect

import flax.linen as nn
import gin
import jax.numpy as jnp
import optax

# pylint: disable=unused-import
from ganjax.core import augment_terms
from ganjax.core import losses
from ganjax.core import path_length
from ganjax.core import penalties
from ganjax.core import progressive
from ganjax.core import regularizers
from ganjax.core import terms
from ganjax.data import catalog
from ganjax.data import digits
from ganjax.data import image_folder
from ganjax.data import mixtures
from ganjax.metrics import suite
from ganjax.models import dcgan
from ganjax.models import infogan
from ganjax.models import mlp
from ganjax.models import normalizers
from ganjax.models import pggan
from ganjax.models import resnet30
from ganjax.models import resnet5
from ganjax.models import resnet_biggan
from ganjax.models import resnet_biggan_deep
from ganjax.models import resnet_cifar
from ganjax.models import resnet_stl
from ganjax.models import sndcgan
from ganjax.models import stylegan2
from ganjax.run import evaluation
from ganjax.run import experiment
from ganjax.run import guard
from ganjax.run import train
# pylint: enable=unused-import


def _injected(optimizer, static_args: tuple[str, ...]):
  """`optimizer` keeping its numeric arguments (learning rate, betas, …) in
  its state (optax.inject_hyperparams), so that runs differing only in them
  can share one compiled step (`train.train(..., bindings=...)`). Its own
  signature is kept, so that gin's operative config lists its defaults."""
  injected = optax.inject_hyperparams(optimizer, static_args=static_args,
                                      hyperparam_dtype=jnp.float32)
  injected.__signature__ = inspect.signature(optimizer)
  return injected


for _fn, _static in ((optax.adam, ()), (optax.adamw, ("mask",)),
                     (optax.sgd, ()), (optax.rmsprop, ())):
  gin.external_configurable(_injected(_fn, _static), name=_fn.__name__,
                            module="optax")


@gin.configurable("optimizers.lazy_regularized_adam")
def lazy_regularized_adam(learning_rate: float, b1: float = 0.9,
                          b2: float = 0.999, eps: float = 1e-8,
                          reg_interval: int = 1
                          ) -> optax.GradientTransformation:
  """Adam for a network regularized in its own steps every `reg_interval`
  = k updates (`GAN.lazy_reg_updates`): k + 1 optimizer steps then do the
  work of k, so the learning rate is scaled by k/(k + 1) and the betas are
  raised to k/(k + 1), as stylegan2-ada-pytorch's training loop does
  (`mb_ratio`). The state holds the corrected numbers."""
  if reg_interval < 1:
    raise ValueError("optimizers.lazy_regularized_adam.reg_interval must be "
                     f">= 1, got {reg_interval}.")
  ratio = reg_interval / (reg_interval + 1)
  return _injected(optax.adam, ())(learning_rate=learning_rate * ratio,
                                   b1=b1 ** ratio, b2=b2 ** ratio, eps=eps)


for _fn in (optax.cosine_decay_schedule, optax.linear_schedule,
            optax.constant_schedule):
  gin.external_configurable(_fn, module="optax")

for _fn in (nn.initializers.normal, nn.initializers.truncated_normal,
            nn.initializers.orthogonal, nn.initializers.he_normal,
            nn.initializers.lecun_normal, nn.initializers.glorot_uniform):
  gin.external_configurable(_fn, module="initializers")
