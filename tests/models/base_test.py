"""Tests of ganjax.models.base: the shared layers and D's class heads."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ganjax.models import base
from ganjax.models import normalizers


def test_class_heads_fill_withheld_labels_with_the_prediction():
  """All-zero label rows (withheld, one_hot(−1)) take the classifier's
  predicted class in the projection, and no gradient reaches the classifier
  through it (S3GAN)."""
  heads = base.ClassHeads(num_classes=3, project=True, aux=True)
  h = jnp.asarray(np.random.default_rng(0).normal(size=(4, 5)), jnp.float32)
  labels = jnp.array([0, -1, 2, -1])
  y = jax.nn.one_hot(labels, 3)
  params = heads.init(jax.random.key(0), h, y, train=False)["params"]
  out, sown = heads.apply({"params": params}, h, y, train=False,
                          mutable=["intermediates"])
  predicted = jnp.argmax(sown["intermediates"]["class_logits"][0], -1)
  filled = jnp.where(labels >= 0, labels, predicted)
  want = jnp.sum((jax.nn.one_hot(filled, 3) @ params["embed"]["kernel"]) * h,
                 axis=-1, keepdims=True)
  np.testing.assert_allclose(out, want, rtol=1e-6)
  grads = jax.grad(lambda p: jnp.sum(heads.apply(
      {"params": p}, h, y, train=False)))(params)
  np.testing.assert_array_equal(grads["classifier"]["kernel"], 0.0)
  # Without the classifier, withheld rows get no projection term.
  plain = base.ClassHeads(num_classes=3, project=True)
  out = plain.apply({"params": {"embed": params["embed"]}}, h, y,
                    train=False)
  np.testing.assert_array_equal(out[1], 0.0)


class _Net(base.Layers):
  """One layer of each kind that `base.Layers` builds."""

  @nn.compact
  def __call__(self, x, *, train):
    h = self.conv(x, 4, 3, name="conv", train=train)
    h = self.conv_transpose(h, 2, 4, 2, (8, 8), name="up", train=train)
    return self.dense(h.reshape(h.shape[0], -1), 1, name="fc", train=train)


def test_layers_take_the_weight_normalizer_and_the_kernel_init():
  x = jnp.ones((2, 4, 4, 3))
  plain = _Net().init(jax.random.key(0), x, train=False)
  normalized = _Net(weight_norm=normalizers.SpectralNorm).init(
      jax.random.key(0), x, train=False)
  # The same parameters, and one power-iteration vector per layer.
  assert (jax.tree.map(jnp.shape, normalized["params"])
          == jax.tree.map(jnp.shape, plain["params"]))
  assert set(plain) == {"params"}
  assert len(jax.tree.leaves(normalized["spectral_norm"])) == 3
  ones = _Net(kernel_init=nn.initializers.ones).init(jax.random.key(0), x,
                                                     train=False)
  for name in ("conv", "up", "fc"):
    np.testing.assert_array_equal(ones["params"][name]["kernel"], 1.0)
    assert float(jnp.std(plain["params"][name]["kernel"])) < 0.05
