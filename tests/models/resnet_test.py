"""Tests of Compare GAN's generic ResNets: resnet_cifar, resnet_stl, resnet5
and resnet30 (shapes, layer tables as parameter counts, conditioning), and
of the gin names of all the Compare GAN architectures.

Shapes and parameter counts come from `jax.eval_shape`; only tiny models run.
"""

import flax
import gin
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.models import normalizers
# The unused imports register gin names that test_gin_names checks.
from ganjax.models import infogan  # pylint: disable=unused-import
from ganjax.models import resnet30
from ganjax.models import resnet5
from ganjax.models import resnet_biggan  # pylint: disable=unused-import
from ganjax.models import resnet_biggan_deep  # pylint: disable=unused-import
from ganjax.models import resnet_cifar
from ganjax.models import resnet_stl
from ganjax.models import sndcgan  # pylint: disable=unused-import

_Z_DIM = 128


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _init_shapes(module, *inputs):
  return jax.eval_shape(
      lambda *a: module.init(jax.random.key(0), *a, train=False), *inputs)


def _count(tree):
  return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def _block(c_in, c_out, norm=True, shortcut=3):
  """Parameters of one Compare GAN ResNet block (batch norm γ, β if norm)."""
  return ((2 * c_in + 2 * c_out if norm else 0) + 9 * c_in * c_out + c_out
          + 9 * c_out * c_out + c_out + shortcut**2 * c_in * c_out + c_out)


def _fc(fan_in, fan_out):
  return fan_in * fan_out + fan_out


def _conv3(c_in, c_out):
  return 9 * c_in * c_out + c_out


def _resnet30_g():
  count, channels = _fc(_Z_DIM, 4 * 4 * 512), 512
  for s in range(6):
    count += 5 * _block(channels, channels)
    if s < 5:
      count += _block(channels, channels // 2)
    channels //= 2
  return count + _conv3(16, 3)  # No final batch norm.


def _resnet30_d():
  count, channels = _conv3(3, 16), 16
  for s in range(6):
    count += 5 * _block(channels, channels, norm=False)
    if s < 5:
      count += _block(channels, 2 * channels, norm=False)
      channels *= 2
  return count + _fc(4 * 4 * 512, 1)


# (module, image side, G parameters, D parameters) with Compare GAN's widths,
# unconditional, z_dim 128, RGB: the layer tables of compare_gan.md §2.4.
_TABLES = [
    (resnet_cifar, 32,
     _fc(_Z_DIM, 4 * 4 * 256) + 3 * _block(256, 256) + 2 * 256
     + _conv3(256, 3),
     _block(3, 128, False) + 3 * _block(128, 128, False) + _fc(128, 1)),
    (resnet_stl, 48,
     _fc(_Z_DIM, 6 * 6 * 512) + _block(512, 256) + _block(256, 128)
     + _block(128, 64) + 2 * 64 + _conv3(64, 3),
     sum(_block(a, b, False) for a, b in
         ((3, 64), (64, 128), (128, 256), (256, 512), (512, 1024)))
     + _fc(1024, 1)),
    (resnet5, 128,
     _fc(_Z_DIM, 4 * 4 * 512) + sum(_block(a, b) for a, b in (
         (512, 512), (512, 256), (256, 256), (256, 128), (128, 64)))
     + 2 * 64 + _conv3(64, 3),
     sum(_block(a, b, False) for a, b in (
         (3, 64), (64, 128), (128, 256), (256, 256), (256, 512),
         (512, 512))) + _fc(512, 1)),
    (resnet30, 128, _resnet30_g(), _resnet30_d()),
]


@pytest.mark.parametrize("module,side,g_count,d_count", _TABLES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_parameter_counts_follow_the_layer_tables(module, side, g_count,
                                                  d_count):
  g_vars = _init_shapes(module.Generator(output_shape=(side, side, 3)),
                        _spec(2, _Z_DIM))
  d_vars = _init_shapes(module.Discriminator(), _spec(2, side, side, 3))
  assert _count(g_vars["params"]) == g_count
  assert _count(d_vars["params"]) == d_count


def test_resnet_cifar_layers():
  g_vars = _init_shapes(resnet_cifar.Generator(output_shape=(32, 32, 3)),
                        _spec(2, _Z_DIM))
  params = g_vars["params"]
  # Compare GAN's generic blocks: 3×3 shortcuts even where shapes match.
  assert params["B2"]["shortcut"]["kernel"].shape == (3, 3, 256, 256)
  assert params["final_conv"]["kernel"].shape == (3, 3, 256, 3)
  one_by_one = _init_shapes(
      resnet_cifar.Generator(output_shape=(32, 32, 3), shortcut_kernel=1),
      _spec(2, _Z_DIM))
  assert _count(g_vars["params"]) - _count(one_by_one["params"]) == (
      3 * 8 * 256 * 256)


# (module, G sides, D sides).
_RESOLUTIONS = [
    (resnet_cifar, (32,), (32,)),
    (resnet_stl, (48,), (48,)),
    (resnet5, (4, 8, 16, 32, 64, 128), (32, 64, 128)),
    (resnet30, (128,), (128,)),
]


@pytest.mark.parametrize("module,g_sides,d_sides", _RESOLUTIONS,
                         ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("num_classes", [0, 10])
def test_builds_at_every_resolution(module, g_sides, d_sides, num_classes):
  labels = (_spec(2, num_classes),) if num_classes else ()
  z = _spec(2, 16)
  for side in g_sides:
    generator = module.Generator(output_shape=(side, side, 1),
                                 num_classes=num_classes, ch=4)
    g_vars = _init_shapes(generator, z, *labels)
    for train in (False, True):
      images, _ = jax.eval_shape(
          lambda v, *a: generator.apply(v, *a, train=train, mutable=True),
          g_vars, z, *labels)
      assert images.shape == (2, side, side, 1)
    first_block = "B_0_0" if module is resnet30 else "B1"
    norm = g_vars["params"][first_block]["bn1"]
    assert ("gamma" in norm) == bool(num_classes)  # Conditional batch norm.
  for side in d_sides:
    discriminator = module.Discriminator(num_classes=num_classes, ch=4,
                                         aux_classifier=bool(num_classes))
    x = _spec(2, side, side, 1)
    d_vars = _init_shapes(discriminator, x, *labels)
    for train in (False, True):
      logits, state = jax.eval_shape(
          lambda v, *a: discriminator.apply(v, *a, train=train,
                                            mutable=True),
          d_vars, x, *labels)
      assert logits.shape == (2, 1)
      sown = flax.traverse_util.flatten_dict(state["intermediates"])
      names = {path[-1] for path in sown}
      assert names == ({"features", "class_logits"} if num_classes
                       else {"features"})


def test_unsupported_resolutions():
  z = _spec(2, 16)
  for module, side in ((resnet_cifar, 64), (resnet_stl, 32), (resnet5, 96),
                       (resnet30, 64)):
    with pytest.raises(ValueError, match=f"got {side}×{side}"):
      _init_shapes(module.Generator(output_shape=(side, side, 3), ch=4), z)
  with pytest.raises(ValueError, match="power-of-2"):
    _init_shapes(resnet5.Discriminator(ch=4), _spec(2, 48, 48, 3))


def test_resnet_cifar_latent_options():
  generator = resnet_cifar.Generator(output_shape=(32, 32, 3), num_classes=10,
                                     ch=8, hierarchical_z=True, embed_y=True,
                                     embed_z=True,
                                     weight_norm=normalizers.SpectralNorm)
  g_vars = _init_shapes(generator, _spec(2, 16), _spec(2, 10))
  params = g_vars["params"]
  assert params["embed_z"]["kernel"].shape == (16, 16)
  # embed_y maps the label to z's size; blocks get [z chunk (4), embed(y)].
  assert params["embed_y"]["kernel"].shape == (10, 16)
  assert params["fc_noise"]["kernel"].shape == (4, 4 * 4 * 8)
  assert params["B3"]["bn2"]["gamma"]["kernel"].shape == (20, 8)
  assert params["final_norm"]["gamma"]["kernel"].shape == (16, 8)
  assert "spectral_norm" in g_vars
  with pytest.raises(ValueError, match="4 equal chunks"):
    _init_shapes(generator, _spec(2, 18), _spec(2, 10))


def _numpy_params(shapes, seed, scale=0.3):
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda s: (scale * rng.normal(size=s.shape)).astype(np.float32), shapes)


def test_resnet_cifar_projection_term_by_hand():
  discriminator = resnet_cifar.Discriminator(num_classes=3, ch=4)
  x = np.random.default_rng(0).normal(size=(3, 32, 32, 3)).astype(np.float32)
  y = jax.nn.one_hot(jnp.array([1, 0, 2]), 3)
  params = _numpy_params(_init_shapes(discriminator, x, y)["params"], 1)
  logits, sown = jax.jit(lambda p: discriminator.apply(
      {"params": p}, x, y, train=False, mutable=["intermediates"]))(params)
  h = np.asarray(sown["intermediates"]["features"][0], np.float64)
  assert h.shape == (3, 4)
  embed = params["ClassHeads_0"]["embed"]["kernel"]
  expected = (h @ params["final_fc"]["kernel"] + params["final_fc"]["bias"]
              + np.sum((np.asarray(y) @ embed) * h, -1, keepdims=True))
  np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_tiny_resnet_cifar_runs():
  discriminator = resnet_cifar.Discriminator(ch=4)
  z = np.random.default_rng(0).normal(size=(4, 16)).astype(np.float32)
  shapes = _init_shapes(
      resnet_cifar.Generator(output_shape=(32, 32, 3), ch=4), z)
  g_vars = {"params": _numpy_params(shapes["params"], 1),
            "batch_stats": jax.tree.map(lambda s: np.ones(s.shape, np.float32),
                                        shapes["batch_stats"])}
  d_params = _numpy_params(
      _init_shapes(discriminator, _spec(4, 32, 32, 3))["params"], 2)
  outputs = {}
  for upsample in ("nearest", "zeros"):
    generator = resnet_cifar.Generator(output_shape=(32, 32, 3), ch=4,
                                       upsample=upsample)

    @jax.jit
    def run(g_vars, d_params, generator=generator):
      images, _ = generator.apply(g_vars, z, train=True,
                                  mutable=["batch_stats"])
      return images, discriminator.apply({"params": d_params}, images,
                                         train=True)

    images, logits = run(g_vars, d_params)
    assert np.all(np.abs(images) <= 1.0) and np.std(images) > 0
    assert logits.shape == (4, 1) and np.all(np.isfinite(logits))
    outputs[upsample] = np.asarray(images)
  # Same weights, different upsampling: Compare GAN's zero insertion is not
  # nearest-neighbour upsampling.
  assert not np.allclose(outputs["nearest"], outputs["zeros"], atol=1e-3)


_GIN_MODULES = ("sndcgan", "infogan", "resnet_cifar", "resnet_stl", "resnet5",
                "resnet30", "resnet_biggan", "resnet_biggan_deep")


def test_gin_names(clean_gin):  # pylint: disable=unused-argument
  for module in _GIN_MODULES:
    for role in ("Generator", "Discriminator"):
      assert gin.get_configurable(f"models.{module}.{role}") is not None
  gin.parse_config("""
      models.resnet_biggan.Generator.norm = @normalizers.batch_norm
      models.resnet_biggan.Generator.ch = 8
      models.resnet_cifar.Discriminator.weight_norm = @normalizers.spectral_norm
  """)
  generator = gin.get_configurable("models.resnet_biggan.Generator")(
      output_shape=(32, 32, 3))
  g_vars = _init_shapes(generator, _spec(2, 120))
  assert set(g_vars["params"]["B1"]["bn1"]) == {"scale", "offset"}
  d_vars = _init_shapes(resnet_cifar.Discriminator(ch=4), _spec(2, 32, 32, 3))
  assert "spectral_norm" in d_vars


@pytest.mark.parametrize("module,side,first", [
    (resnet_cifar, 32, "B1"), (resnet_stl, 48, "B0"), (resnet5, 32, "B0"),
    (resnet_biggan, 32, "B1")], ids=lambda v: getattr(v, "__name__", None))
def test_first_d_block_sees_the_negative_pixels(module, side, first):
  """The first D block's residual branch convolves the image itself: with
  its shortcut zeroed, D still depends on the negative pixels (a ReLU on
  the [-1, 1] image would zero them; Compare GAN's [0, 1] had none)."""
  fields = ({"blocks_with_attention": "", "weight_norm": None}
            if module is resnet_biggan else {})
  discriminator = module.Discriminator(ch=4, **fields)
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, size=(2, side, side, 3)).astype(np.float32)
  params = _numpy_params(_init_shapes(discriminator, x)["params"], 1)
  params[first]["shortcut"] = jax.tree.map(np.zeros_like,
                                           params[first]["shortcut"])
  apply = jax.jit(lambda x: discriminator.apply({"params": params}, x,
                                                train=True))
  negatives_doubled = np.where(x < 0, 2 * x, x)
  assert not np.allclose(apply(x), apply(negatives_doubled), rtol=1e-3)
