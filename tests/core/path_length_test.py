"""Tests of ganjax.core.path_length: the penalty, its gradient, the running
mean and the lazy schedule against formulas written out here, on a linear
G whose synthesis is x = θ · A·ws."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import path_length
from ganjax.core import terms
from tests.core import term_outputs

_N, _WS, _F, _SIDE = 4, 3, 5, 2  # Batch, ws per image, w features, H = W.
_A = np.random.default_rng(0).normal(size=(_SIDE * _SIDE, _WS * _F))


def _generator(theta):
  """mapping: z ↦ z as ws; synthesis: ws ↦ θ·A·ws as [N, 2, 2, 1] images."""
  def generate(x, y, method=None):
    del y
    if method == "mapping":
      return x.reshape(x.shape[0], _WS, _F)
    assert method == "synthesis"
    images = theta * x.reshape(x.shape[0], -1) @ jnp.asarray(_A.T)
    return images.reshape(x.shape[0], _SIDE, _SIDE, 1)
  return generate


def _outputs(term, theta, mean, g_updates=0):
  return term_outputs.outputs(
      z=jnp.zeros((_N, _WS * _F)), generator=_generator(theta),
      term_states={term.name: jnp.float32(mean)},
      g_updates=jnp.int32(g_updates))


def _lengths_per_theta(term):
  """c_i = ‖Aᵀy_i‖ per ws (squares summed over features, averaged over ws,
  rooted), with the term's own draw of y: the lengths are |θ|·c_i."""
  probe = _outputs(term, 1.0, 0.0)
  _, noise_key = jax.random.split(terms.term_key(probe, term))
  num = _N // term.batch_shrink
  y = np.asarray(jax.random.normal(noise_key, (num, _SIDE, _SIDE, 1)))
  y = y.reshape(num, -1) / _SIDE
  grads = (y @ _A).reshape(num, _WS, _F)
  return np.sqrt(np.mean(np.sum(grads ** 2, -1), -1))


def test_penalty_gradient_and_running_mean():
  term = path_length.PathLength(weight=2.0, every=4, batch_shrink=2,
                                decay=0.1)
  c = _lengths_per_theta(term)
  theta, mean, d = 1.5, 0.3, 0.1
  new_mean = mean + d * (theta * np.mean(c) - mean)
  # With the new mean's gradient: L(θ) = mean((θ(c_i − d·c̄) − (1 − d)m)²).
  residual = theta * (c - d * np.mean(c)) - (1 - d) * mean
  want = np.mean(residual ** 2)
  want_grad = np.mean(2 * residual * (c - d * np.mean(c)))

  loss = lambda t: term.g_regularizer(_outputs(term, t, mean))[0]
  np.testing.assert_allclose(loss(theta), 2.0 * 4 * want, rtol=1e-5)
  np.testing.assert_allclose(jax.grad(loss)(theta), 2.0 * 4 * want_grad,
                             rtol=1e-4)
  _, metrics = term.g_regularizer(_outputs(term, theta, mean))
  np.testing.assert_allclose(metrics["g_path_length"], theta * np.mean(c),
                             rtol=1e-5)
  np.testing.assert_allclose(term.g_update(jnp.float32(mean), metrics),
                             new_mean, rtol=1e-5)
  assert float(term.init_state()) == 0.0


def test_lazy_in_every_kth_g_update_from_the_first():
  term = path_length.PathLength(every=4)
  for g_updates, computed in ((0, True), (1, False), (3, False), (4, True)):
    loss, metrics = term.g_regularizer(_outputs(term, 1.0, 0.5, g_updates))
    assert (float(loss) > 0) == computed
    assert bool(term.reg_due("g", _outputs(term, 1.0, 0.5, g_updates))) == (
        computed)
    if not computed:  # Nothing computed: the mean stays.
      assert float(metrics["g_path_length_mean"]) == 0.5


def test_needs_a_mapping_and_a_synthesis():
  def plain_g(x, y, method=None):
    if method is not None:
      raise AttributeError(f"no method {method}")
    return x
  out = term_outputs.outputs(generator=plain_g,
                             term_states={"PathLength": jnp.float32(0)})
  with pytest.raises(ValueError, match="mapping and synthesis"):
    path_length.PathLength().g_regularizer(out)
