"""Tests of ganjax.core.gan: building GANs, labels of conditional GANs,
truncation."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import linear_model

from ganjax.core import gan as gan_lib
from ganjax.core import inferred_labels
from ganjax.core import sampling
from ganjax.core import state as state_lib
from ganjax.core import steps
from ganjax.core import terms
from ganjax.data import dataset
from ganjax.data import digits
from ganjax.models import dcgan
from ganjax.models import mlp
from tests import xla_settings

_LABELED = dataset.DataSpec((16, 16, 1), 10, True)
_UNLABELED = dataset.DataSpec((16, 16, 1), None, True)


def _make(spec=_LABELED, generator=dcgan.Generator,
          discriminator=dcgan.Discriminator, **kwargs):
  defaults = dict(generator=generator, discriminator=discriminator,
                  g_optimizer=optax.adam(2e-4, b1=0.5),
                  d_optimizer=optax.adam(2e-4, b1=0.5), z_dim=16,
                  conditional=True)
  return gan_lib.make_gan(spec, **{**defaults, **kwargs})


def test_conditional_gan_takes_the_data_classes():
  gan = _make()
  assert gan.conditional and gan.num_classes == 10
  assert gan.generator.num_classes == 10
  assert gan.discriminator.num_classes == 10
  assert not _make(conditional=False).conditional


class _UnconditionalGenerator(nn.Module):
  """A user's G without a class-conditional version (no num_classes)."""
  output_shape: tuple[int, ...]

  @nn.compact
  def __call__(self, z, *, train):
    del train
    return nn.Dense(int(np.prod(self.output_shape)))(z)


def test_conditional_needs_labels_and_a_conditional_architecture():
  with pytest.raises(ValueError, match="needs a labeled data set"):
    _make(spec=_UNLABELED)
  with pytest.raises(ValueError, match="no class-conditional version"):
    _make(spec=dataset.DataSpec((2,), 10, False),
          generator=_UnconditionalGenerator, discriminator=mlp.Discriminator)
  with pytest.raises(ValueError, match="AuxClassifier needs GAN.conditional"):
    _make(conditional=False, terms=[terms.AuxClassifier()])


def test_label_distributions():
  real = jnp.array([3, 3, 3, 7] * 250)
  uniform = _make().sample_labels(jax.random.key(0), 1000, real)
  counts = np.bincount(np.asarray(uniform), minlength=10)
  assert counts.min() > 60 and counts.max() < 140  # ~100 each.
  fitted = _make(label_distribution="data").sample_labels(
      jax.random.key(0), 1000, real)
  np.testing.assert_array_equal(fitted, real)
  assert _make(conditional=False).sample_labels(jax.random.key(0), 4) is None


def test_truncation_bounds_the_latents():
  gan = _make()
  z = gan.sample_z(jax.random.key(0), 1000, truncation=0.5)
  assert float(jnp.abs(z).max()) <= 0.5
  assert float(jnp.abs(gan.sample_z(jax.random.key(0), 1000)).max()) > 2.0
  with pytest.raises(ValueError, match="truncation"):
    _make(prior="uniform").sample_z(jax.random.key(0), 4, truncation=1.0)


def _train(gan, data, num_steps, batch_size=32):
  exp_state = jax.jit(functools.partial(
      state_lib.create_state, gan, jax.random.key(0), data.spec.shape,
      batch_size))()
  step = jax.jit(functools.partial(steps.train_step, gan), donate_argnums=0,
                 compiler_options=xla_settings.OPTIMIZED)
  metrics = []
  for i in range(num_steps):
    exp_state, m = step(exp_state, data.batch(i, batch_size, 0),
                        jax.random.key(1))
    metrics.append(jax.device_get(m))
  return exp_state, metrics


def test_conditional_samples_follow_the_requested_label():
  """A conditional DCGAN (conditional BN in G, projection D) on the digits.

  After a short run, a logistic-regression classifier fitted on the real
  digits must recognize the requested class in most samples (chance: 10 %;
  measured 0.97 after these 400 steps at 1e-3, 0.92 after 500 at 5e-4).
  """
  data = digits.digits(seed=0, size=16)
  gan = _make(generator=functools.partial(dcgan.Generator, width=16),
              discriminator=functools.partial(dcgan.Discriminator, width=16),
              ema_decay=None, g_optimizer=optax.adam(1e-3, b1=0.5),
              d_optimizer=optax.adam(1e-3, b1=0.5))
  state, _ = _train(gan, data, 400)
  classifier = linear_model.LogisticRegression(max_iter=2000).fit(
      data.examples.reshape(len(data), -1), data.labels)
  labels = np.arange(500) % 10
  images = sampling.draw(gan, state, jax.random.key(5), 500, use_ema=False,
                         labels=labels)
  accuracy = np.mean(classifier.predict(images.reshape(500, -1)) == labels)
  assert accuracy > 0.8, accuracy


def test_aux_classifier_losses_train_the_class_head():
  data = digits.digits(seed=0, size=16)
  gan = _make(generator=functools.partial(dcgan.Generator, width=8),
              discriminator=functools.partial(
                  dcgan.Discriminator, width=8, aux_classifier=True,
                  project_y=False),
              terms=[terms.AuxClassifier()], ema_decay=None,
              d_optimizer=optax.adam(1e-3, b1=0.5))
  _, metrics = _train(gan, data, 60)
  first = np.mean([m["d_class_loss"] for m in metrics[:5]])
  last = np.mean([m["d_class_loss"] for m in metrics[-5:]])
  # Two cross-entropies (real and fake labels) start near 2·ln(10) ≈ 4.6.
  assert 4.0 < first < 5.2
  assert last < first - 1.0
  assert "g_class_loss" in metrics[-1]


_PARTIAL = dataset.DataSpec((16, 16, 1), 10, True, partially_labeled=True)


def test_terms_give_d_its_heads():
  gan = _make(spec=_PARTIAL,
              terms=[terms.Rotation(), terms.LabelPredictor()])
  assert gan.discriminator.rotation_head and gan.discriminator.aux_classifier
  assert gan.d_heads == {"rotation_logits": "rotation_head",
                         "class_logits": "aux_classifier"}
  assert terms.Rotation().num_rotated(32) == 8
  assert terms.Rotation(rotated_batch_size=16).num_rotated(32) == 4
  assert not _make().discriminator.rotation_head
  assert not _make().d_heads


@pytest.mark.parametrize("kwargs, match", [
    (dict(spec=_PARTIAL), "terms.LabelPredictor"),
    (dict(spec=_PARTIAL,
          terms=[terms.LabelPredictor(), terms.AuxClassifier()]), "AC-GAN"),
    (dict(spec=_PARTIAL, terms=[terms.LabelPredictor()],
          label_distribution="data"), "'uniform'"),
    (dict(conditional=False, terms=[terms.LabelPredictor()]),
     "needs GAN.conditional = True"),
    (dict(spec=dataset.DataSpec((2,), None, False), conditional=False,
          generator=mlp.Generator, discriminator=mlp.Discriminator,
          terms=[terms.Rotation()]), "cannot have the heads"),
])
def test_terms_validation(kwargs, match):
  with pytest.raises(ValueError, match=match):
    _make(**kwargs)


def test_rotated_batch_size_must_fit_the_batch():
  with pytest.raises(ValueError, match="multiple of 4"):
    terms.Rotation(rotated_batch_size=6).num_rotated(32)


def test_s3gan_labels_withheld_digits_and_learns_rotations():
  """S3GAN (label predictor + rotation) on digits with 20 % of the labels.

  D's class head, trained on the ~360 labeled digits only, must label the
  ~1,440 withheld ones far above chance (10 %), and D must learn the
  rotation task (chance 25 %). Measured after these 100 steps: accuracy of
  the inferred labels 0.93, rotation accuracy (last 10 steps) 0.69.
  """
  data = digits.digits(seed=0, size=16, labeled_fraction=0.2)
  truth = digits.digits(seed=0, size=16).labels
  gan = _make(spec=data.spec,
              generator=functools.partial(dcgan.Generator, width=8),
              discriminator=functools.partial(dcgan.Discriminator, width=8),
              terms=[terms.LabelPredictor(), terms.Rotation()],
              ema_decay=None, d_optimizer=optax.adam(1e-3, b1=0.5))
  state, metrics = _train(gan, data, 100)
  withheld = data.labels == -1
  predicted = inferred_labels.predict(gan, state, data.examples[withheld])
  accuracy = inferred_labels.accuracy(predicted, truth[withheld])
  rotation_accuracy = np.mean([m["d_rotation_accuracy"]
                               for m in metrics[-10:]])
  assert accuracy > 0.7, accuracy
  assert rotation_accuracy > 0.5, rotation_accuracy


@pytest.mark.parametrize("terms_list, match", [
    ([terms.Rotation], "not a term"),
    ([terms.Rotation(), terms.Rotation()], "more than once"),
])
def test_terms_are_instances_listed_once(terms_list, match):
  with pytest.raises(ValueError, match=match):
    _make(terms=terms_list)


def test_one_term_at_most_adds_examples_to_d():
  class Flipped(terms.Term):
    def d_inputs(self, real, fake, y_real, y_fake):
      return real[::-1], fake[::-1], y_real, y_fake

  assert _make(terms=[Flipped()]).terms
  with pytest.raises(ValueError, match="change D.s inputs"):
    _make(terms=[Flipped(), terms.Rotation()])
