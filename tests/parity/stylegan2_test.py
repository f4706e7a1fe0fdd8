"""StyleGAN2's G, D, R1 and path-length term against the PyTorch networks
of `torch_stylegan2` with copied weights: outputs, and gradients of every
parameter, at a tiny size (float32 ganjax, float64 PyTorch); and five
training steps of G and D (`harness`' tolerances).

G's noise inputs are the same numbers in both: ganjax's `noise_input` is
replaced by one that hands out the test's noise in layer order.
"""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from ganjax.core import losses
from ganjax.core import path_length
from ganjax.core import penalties
from ganjax.core import terms
from ganjax.models import stylegan2
from ganjax.models import stylegan2_layers
from tests.core import term_outputs
from tests.parity import harness
from tests.parity import torch_reference
from tests.parity import torch_stylegan2

_N, _Z, _SIDE, _CLASSES = 4, 8, 16, 3
_CLAMP = 1.0  # Low enough that some activations are clamped.


def _randomized(variables, seed):
  """Variables with random biases and noise strengths (they start at 0)."""
  rng = np.random.default_rng(seed)
  flat = flax.traverse_util.flatten_dict(variables["params"])
  flat = {k: (rng.normal(0, 0.3, np.shape(v)).astype(np.float32)
              if k[-1] in ("bias", "noise_strength") else v)
          for k, v in flat.items()}
  return {**variables, "params": flax.traverse_util.unflatten_dict(flat)}


def _nchw(x):
  return torch_reference.tensor(harness.nchw(np.asarray(x)))


def _grads_to_ganjax(network):
  """The reference's gradients in ganjax's layouts; 0 where a parameter got
  none (the biases of the toRGBs do not change the path length)."""
  grads = {k: np.zeros(v.shape) if v.grad is None else v.grad.numpy()
           for k, v in network.params.items()}
  return {k: harness.to_ganjax_layout(g) for k, g in grads.items()}


@pytest.fixture
def noises(monkeypatch):
  """The noise inputs of G's layers, in order: ganjax draws them from this
  list (call `reset` before each use), PyTorch takes it as NCHW."""
  rng = np.random.default_rng(7)
  sides = [4] + [s for s in (8, 16) for _ in range(2)]
  values = [rng.normal(size=(_N, s, s, 1)).astype(np.float32) for s in sides]
  handed = []

  def noise_input(module, shape, dtype):
    del module
    value = values[len(handed) % len(values)]
    handed.append(shape)
    assert value.shape == tuple(shape), (value.shape, shape)
    return jnp.asarray(value, dtype)

  monkeypatch.setattr(stylegan2_layers, "noise_input", noise_input)
  return values


def _generator(conditional):
  return stylegan2.Generator(
      output_shape=(_SIDE, _SIDE, 3), num_classes=_CLASSES * conditional,
      w_dim=_Z, mapping_layers=2, channel_base=64, channel_max=8,
      conv_clamp=_CLAMP)


def _g_setup(conditional):
  g = _generator(conditional)
  y = (jax.nn.one_hot(jnp.arange(_N) % _CLASSES, _CLASSES)
       if conditional else None)
  variables = _randomized(g.init(jax.random.key(0), jnp.zeros((_N, _Z)),
                                 *([] if y is None else [y]), train=False), 1)
  z = jax.random.normal(jax.random.key(2), (_N, _Z))
  reference = torch_stylegan2.Generator(
      harness.torch_params(variables["params"]),
      mapping_layers=2, side=_SIDE, conv_clamp=_CLAMP)
  return g, variables, z, y, reference


def _apply_g(g, variables, method=None):
  def apply(params, x, y):
    return g.apply({**variables, "params": params}, x,
                   *([] if y is None else [y]), train=False,
                   rngs={"noise": jax.random.key(0)}, method=method)
  return apply


@pytest.mark.parametrize("conditional", [False, True])
def test_generator_output_and_gradients(conditional, noises):
  g, variables, z, y, reference = _g_setup(conditional)
  weights = np.random.default_rng(3).normal(size=(_N, _SIDE, _SIDE, 3))
  loss = lambda p: jnp.sum(_apply_g(g, variables)(p, z, y) * weights)
  images = _apply_g(g, variables)(variables["params"], z, y)
  grads = harness.flatten(jax.grad(loss)(variables["params"]))

  y_ref = None if y is None else torch_reference.tensor(y)
  ref_images = reference.generate(torch_reference.tensor(z), y_ref,
                                  [_nchw(n) for n in noises])
  (ref_images * _nchw(weights)).sum().backward()
  np.testing.assert_allclose(np.asarray(images).transpose(0, 3, 1, 2),
                             ref_images.detach().numpy(), rtol=1e-4,
                             atol=1e-5)
  harness.check_gradients(grads, _grads_to_ganjax(reference),
                          f"G gradients (conditional={conditional})")


@pytest.mark.parametrize("architecture,conditional", [("resnet", False),
                                                      ("orig", True)])
def test_discriminator_output_r1_and_gradients(architecture, conditional):
  d = stylegan2.Discriminator(
      num_classes=_CLASSES * conditional, architecture=architecture,
      channel_base=64, channel_max=8, mbstd_group_size=2,
      conv_clamp=_CLAMP, mapping_layers=2)
  y = (jax.nn.one_hot(jnp.arange(_N) % _CLASSES, _CLASSES)
       if conditional else None)
  ys = [] if y is None else [y]
  x = jax.random.uniform(jax.random.key(4), (_N, _SIDE, _SIDE, 3),
                         minval=-1, maxval=1)
  variables = _randomized(d.init(jax.random.key(5), x, *ys, train=False), 6)
  apply = lambda p, x: d.apply({"params": p}, x, *ys, train=False)

  def loss(p):  # D's logits and R1: ½ mean ‖∇ₓ D(x)‖², weighted.
    grads = jax.grad(lambda x: jnp.sum(apply(p, x)))(x)
    r1 = 0.5 * jnp.mean(jnp.sum(jnp.square(grads), axis=(1, 2, 3)))
    return jnp.sum(apply(p, x) * jnp.arange(1.0, _N + 1)[:, None]) + 3 * r1

  reference = torch_stylegan2.Discriminator(
      harness.torch_params(variables["params"]),
      architecture=architecture, mbstd_group_size=2, mapping_layers=2,
      conv_clamp=_CLAMP)
  x_ref = _nchw(x).requires_grad_(True)
  y_ref = None if y is None else torch_reference.tensor(y)
  logits = reference(x_ref, y_ref)
  (grad_x,) = torch.autograd.grad(logits.sum(), x_ref, create_graph=True)
  r1 = 0.5 * grad_x.square().sum(dim=[1, 2, 3]).mean()
  ref_loss = (logits * torch_reference.tensor(
      np.arange(1.0, _N + 1)[:, None])).sum() + 3 * r1
  ref_loss.backward()

  np.testing.assert_allclose(apply(variables["params"], x),
                             logits.detach().numpy(), rtol=1e-4, atol=1e-5)
  harness.assert_loss_close(float(loss(variables["params"])),
                            ref_loss.item(), "D loss with R1")
  harness.check_gradients(
      harness.flatten(jax.grad(loss)(variables["params"])),
      _grads_to_ganjax(reference), f"D gradients ({architecture})")


def test_path_length_penalty_and_gradients(noises):
  g, variables, _, _, reference = _g_setup(conditional=False)
  # The half batch of the term; its noise inputs are the first 2 of each.
  half = [n[:_N // 2] for n in noises]
  noises[:] = half
  term = path_length.PathLength(weight=2.0, every=4, batch_shrink=2,
                                decay=0.05)
  mean = 0.4

  def loss(params):
    generate = lambda x, y, method=None: _apply_g(g, variables, method)(
        params, x, y)
    out = term_outputs.outputs(
        z=jnp.zeros((_N, _Z)), generator=generate,
        term_states={term.name: jnp.float32(mean)})
    return term.g_regularizer(out)[0]

  value, grads = jax.value_and_grad(loss)(variables["params"])
  # The term's draws: z and the projection y ~ N(0, I)/√(H·W).
  probe = term_outputs.outputs(z=jnp.zeros((_N, _Z)))
  z_key, noise_key = jax.random.split(terms.term_key(probe, term))
  z = np.asarray(jax.random.normal(z_key, (_N // 2, _Z)))
  projection = np.asarray(jax.random.normal(
      noise_key, (_N // 2, _SIDE, _SIDE, 3))) / _SIDE

  ws = reference.ws(torch_reference.tensor(z))
  images = reference.synthesis(ws, [_nchw(n) for n in half])
  (pl_grads,) = torch.autograd.grad((images * _nchw(projection)).sum(), ws,
                                    create_graph=True)
  lengths = pl_grads.square().sum(2).mean(1).sqrt()
  new_mean = mean + 0.05 * (lengths.mean() - mean)
  ref_loss = 2.0 * 4 * (lengths - new_mean).square().mean()
  ref_loss.backward()

  harness.assert_loss_close(float(value), ref_loss.item(),
                            "path-length penalty")
  harness.check_gradients(harness.flatten(grads),
                          _grads_to_ganjax(reference),
                          "G gradients of the path-length penalty")


def _train_against_the_reference(adam, **lazy):
  """Five steps of StyleGAN2 G and D (no noise inputs), the non-saturating
  loss, R1 (γ 0.5), reals and fakes in separate D calls, Adam `adam`, from
  ganjax's initial variables, in ganjax and in the reference loop (`lazy`:
  penalty_every and lazy_reg_updates, for both); the ganjax run."""
  shape = (8, 8, 3)
  gan = harness.make_gan(
      generator=stylegan2.Generator(
          output_shape=shape, w_dim=_Z, mapping_layers=2, channel_base=32,
          channel_max=8, use_noise=False, conv_clamp=_CLAMP),
      discriminator=stylegan2.Discriminator(
          channel_base=32, channel_max=8, mbstd_group_size=4,
          conv_clamp=_CLAMP),
      optimizer=adam, loss=losses.non_saturating, penalty=penalties.r1,
      penalty_weight=0.5, z_dim=_Z, separate_d_calls=True, **lazy)
  batches = harness.image_batches(shape)
  run = harness.run(gan, batches, example_shape=shape)
  g = torch_stylegan2.Generator(
      harness.torch_variables(run.states[0], "g")[0], mapping_layers=2,
      side=8, conv_clamp=_CLAMP)
  d = torch_stylegan2.Discriminator(
      harness.torch_variables(run.states[0], "d")[0], mbstd_group_size=4,
      conv_clamp=_CLAMP)
  records = harness.train_reference(
      run, batches, g, d, loss=torch_reference.non_saturating,
      penalty=torch_reference.r1, penalty_weight=0.5, separate_d_calls=True,
      adam=harness.torch_adam(adam), **lazy)
  harness.check_training(run, records, adam["learning_rate"])
  return run


def test_stylegan2_trains_as_the_reference():
  """R1 in every D update, joined to its loss; Adam(0.0025, 0, 0.99)."""
  _train_against_the_reference(
      {"learning_rate": 0.0025, "b1": 0.0, "b2": 0.99})


def test_stylegan2_lazy_r1_steps_as_the_reference():
  """R1 lazy, every 2nd D update, as an Adam step of its own
  (GAN.lazy_reg_updates; the reference's Dmain and Dreg phases), Adam's
  learning rate times k/(k + 1) = 2/3 and betas to that power (the
  reference's mb_ratio), computed here from the reference's formula."""
  ratio = 2 / 3
  run = _train_against_the_reference(
      {"learning_rate": 0.0025 * ratio, "b1": 0.0, "b2": 0.99 ** ratio},
      penalty_every=2, lazy_reg_updates=True)
  # The penalty was computed in the due updates only (steps 0, 2, 4).
  assert [m["penalty"] > 0 for m in run.metrics] == [
      True, False, True, False, True]
