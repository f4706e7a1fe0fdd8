"""Imports every gin-registered component, so that configs can name them.

Families and their gin namespaces: `losses.*`, `penalties.*`,
`models.<architecture>.{Generator,Discriminator}`, `datasets.*`, and optax's
optimizers and learning-rate schedules as `optax.*` (bind G's and D's in the `generator/` and
`discriminator/` scopes). The run's settings are `GAN.*`, `experiment.*` and
`train.*`.
"""

import gin
import optax

# pylint: disable=unused-import
from ganjax import experiment
from ganjax import losses
from ganjax import penalties
from ganjax import train
from ganjax.data import digits
from ganjax.data import mixtures
from ganjax.models import dcgan
from ganjax.models import mlp
# pylint: enable=unused-import

for _fn in (optax.adam, optax.adamw, optax.sgd, optax.rmsprop,
            optax.cosine_decay_schedule, optax.linear_schedule,
            optax.constant_schedule):
  gin.external_configurable(_fn, module="optax")
