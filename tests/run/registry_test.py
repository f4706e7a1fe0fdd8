"""Tests of ganjax.run.registry's own optimizer: StyleGAN2's Adam for
lazily regularized networks."""

import gin
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.run import config
from ganjax.run import registry


@pytest.mark.usefixtures("clean_gin")
def test_lazy_regularized_adam_corrects_the_rate_and_betas():
  config.parse([], [
      "optimizers.lazy_regularized_adam.learning_rate = 0.0025",
      "optimizers.lazy_regularized_adam.b1 = 0.0",
      "optimizers.lazy_regularized_adam.b2 = 0.99",
      "optimizers.lazy_regularized_adam.reg_interval = 16"])
  optimizer = gin.get_configurable("optimizers.lazy_regularized_adam")()
  hyperparams = optimizer.init({"w": jnp.zeros(3)}).hyperparams
  # stylegan2-ada-pytorch's mb_ratio = 16 / 17.
  np.testing.assert_allclose(hyperparams["learning_rate"], 0.0025 * 16 / 17,
                             rtol=1e-6)
  np.testing.assert_allclose(hyperparams["b2"], 0.99 ** (16 / 17), rtol=1e-6)
  assert float(hyperparams["b1"]) == 0.0
  with pytest.raises(ValueError, match="reg_interval must be >= 1"):
    registry.lazy_regularized_adam(0.1, reg_interval=0)
