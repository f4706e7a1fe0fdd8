"""Training-step parity of an MLP GAN with a PyTorch reference: each D
penalty (WGAN-GP, DRAGAN, R1, R2) with the Wasserstein, non-saturating and
least-squares losses, and disc_iters = 5 with the EMA of G. Five steps each
from ganjax's initial variables on the same batches, latents and penalty
noise. Tolerances: `harness`.
"""

import flax.linen as nn
import numpy as np
import pytest

pytest.importorskip("torch")

# pylint: disable=g-import-not-at-top,wrong-import-position
from ganjax.core import losses
from ganjax.core import penalties
from ganjax.models import mlp
from tests.parity import harness
from tests.parity import torch_reference as ref

_ADAM = {"learning_rate": 1e-3, "b1": 0.5, "b2": 0.999}
_HIDDEN = (8, 8)
_PIECES = 2
_BN_DECAY = 0.99  # mlp.Generator's default bn_momentum.
# He-normal kernels keep D's input gradients, which the penalties act on,
# away from 0 at this width.
_INIT = nn.initializers.variance_scaling(2.0, "fan_in", "normal")


def _train(disc_iters=1, ema_decay=None, *, penalty, penalty_weight, loss,
           ref_penalty, ref_loss) -> harness.Run:
  """Five ganjax steps on 2-D data, checked against the reference's."""
  gan = harness.make_gan(
      generator=mlp.Generator(output_shape=(2,), hidden_dims=_HIDDEN,
                              kernel_init=_INIT),
      discriminator=mlp.Discriminator(hidden_dims=_HIDDEN,
                                      maxout_pieces=_PIECES,
                                      kernel_init=_INIT),
      optimizer=_ADAM, loss=loss, penalty=penalty,
      penalty_weight=penalty_weight, z_dim=4, disc_iters=disc_iters,
      ema_decay=ema_decay, ema_start_step=2)
  rng = np.random.default_rng(0)
  batches = [{"x": rng.normal(size=(disc_iters * 8, 2)).astype(np.float32)}
             for _ in range(5)]
  run = harness.run(gan, batches, example_shape=(2,))

  g = ref.MLPGenerator(*harness.torch_variables(run.states[0], "g"),
                       num_hidden=len(_HIDDEN), bn_decay=_BN_DECAY)
  d = ref.MLPDiscriminator(*harness.torch_variables(run.states[0], "d"),
                           num_hidden=len(_HIDDEN), pieces=_PIECES)
  records = harness.train_reference(
      run, batches, g, d, penalty_name=penalty.__name__, loss=ref_loss,
      penalty=ref_penalty, penalty_weight=penalty_weight,
      disc_iters=disc_iters, adam=harness.torch_adam(_ADAM),
      ema_decay=ema_decay, ema_start_step=2)
  harness.check_training(run, records, _ADAM["learning_rate"])
  return run


@pytest.mark.parametrize("penalty,weight,loss,ref_penalty,ref_loss", [
    (penalties.dragan, 10.0, losses.non_saturating, ref.dragan,
     ref.non_saturating),
    (penalties.r1, 10.0, losses.least_squares, ref.r1, ref.least_squares),
    (penalties.r2, 1.0, losses.non_saturating, ref.r2, ref.non_saturating),
], ids=["dragan", "r1", "r2"])
def test_penalties_train_as_the_reference(penalty, weight, loss, ref_penalty,
                                          ref_loss):
  """DRAGAN, R1 and R2 (WGAN-GP: the next test)."""
  run = _train(penalty=penalty, penalty_weight=weight, loss=loss,
               ref_penalty=ref_penalty, ref_loss=ref_loss)
  assert run.metrics[0]["penalty"] > 1e-3  # The penalty matters.


def test_wgan_gp_with_five_d_updates_per_step_and_the_ema_of_g():
  """WGAN-GP with the Wasserstein loss and 5 D updates per step, each with
  its own α: D update i gets examples i, i + 5, …; G the last D update's
  reals; the EMA copies G before step 2 and averages from then on."""
  run = _train(disc_iters=5, ema_decay=0.9, penalty=penalties.wgan_gp,
               penalty_weight=10.0, loss=losses.wasserstein,
               ref_penalty=ref.wgan_gp, ref_loss=ref.wasserstein)
  assert run.metrics[0]["penalty"] > 1e-3
  ema, g_params = (harness.flatten(v) for v in (run.states[2].ema_params,
                                                run.states[2].g_params))
  assert all(np.array_equal(ema[k], g_params[k]) for k in ema)
