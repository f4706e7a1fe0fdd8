"""Imports every gin-registered component, so that configs can name them.

Families and their gin namespaces: `losses.*`, `penalties.*`,
`models.<architecture>.{Generator,Discriminator}`, `datasets.*`, `metrics.*`
(evaluation metrics and the Inception's weights and resize), Flax's weight
initializers as `initializers.*` (e.g. `@initializers.orthogonal()`), and optax's
optimizers and learning-rate schedules as `optax.*` (bind G's and D's in the `generator/` and
`discriminator/` scopes). The run's settings are `GAN.*`, `experiment.*`,
`train.*`, `evaluation.*` and the divergence guard's `guard.*`.
"""

import flax.linen as nn
import gin
import optax

# pylint: disable=unused-import
from ganjax import evaluation
from ganjax import experiment
from ganjax import guard
from ganjax import losses
from ganjax import normalizers
from ganjax import penalties
from ganjax import train
from ganjax.data import catalog
from ganjax.data import digits
from ganjax.data import image_folder
from ganjax.data import mixtures
from ganjax.metrics import suite
from ganjax.models import dcgan
from ganjax.models import infogan
from ganjax.models import mlp
from ganjax.models import resnet30
from ganjax.models import resnet5
from ganjax.models import resnet_biggan
from ganjax.models import resnet_biggan_deep
from ganjax.models import resnet_cifar
from ganjax.models import resnet_stl
from ganjax.models import sndcgan
# pylint: enable=unused-import

for _fn in (optax.adam, optax.adamw, optax.sgd, optax.rmsprop,
            optax.cosine_decay_schedule, optax.linear_schedule,
            optax.constant_schedule):
  gin.external_configurable(_fn, module="optax")

for _fn in (nn.initializers.normal, nn.initializers.truncated_normal,
            nn.initializers.orthogonal, nn.initializers.he_normal,
            nn.initializers.lecun_normal, nn.initializers.glorot_uniform):
  gin.external_configurable(_fn, module="initializers")
