"""Normalizers (gin `normalizers.*`): of features and of weights.

Feature normalizers are Flax modules that architectures build by name and call
as `norm(name=...)(x, train=..., y=..., z=...)`: `y` is the conditioning
vector of conditional batch norm (a one-hot label, or BigGAN's
[z-chunk, shared label embedding]) and `z` the latent of self-modulation;
normalizers that do not use them ignore them. Bind one per network:

  models.resnet_cifar.Generator.norm = @normalizers.batch_norm
  discriminator/normalizers.batch_norm.momentum = 0.9

Weight normalizers wrap a layer and are called as `wrap(layer=...)(x,
train=...)`: spectral norm (its `u` vectors live in the model's
`spectral_norm` collection, which the train state carries and the EMA weights
share), weight norm and the equalized learning rate of progressive growing.

Batch statistics: in training, batch norm normalizes with the batch's
statistics and updates moving averages. For inference a run can use those
moving averages or "standing statistics" (Compare GAN's BigGAN default):
`standing_statistics` runs G in training mode over many samples and stores
the batches' mean statistics in place of the moving averages.
"""

import math
from typing import Any, Iterable

import flax
import flax.linen as nn
import gin
import jax
import jax.numpy as jnp

SPECTRAL_NORM = "spectral_norm"
_STANDING = "standing_stats"


class _Moments(nn.Module):
  """Standardizes x with batch (or group) statistics in training and with
  their moving averages in inference, in float32; the averages are the
  variables "mean" and "var" of the `batch_stats` collection."""
  momentum: float
  epsilon: float
  group_size: int | None

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    channels = x.shape[-1]
    ra_mean = self.variable("batch_stats", "mean", jnp.zeros, (channels,),
                            jnp.float32)
    ra_var = self.variable("batch_stats", "var", jnp.ones, (channels,),
                           jnp.float32)
    h = x.astype(jnp.float32)
    if not train:
      h = (h - ra_mean.value) * jax.lax.rsqrt(ra_var.value + self.epsilon)
      return h.astype(x.dtype)
    size = self.group_size or x.shape[0]
    if x.shape[0] % size:
      raise ValueError(f"Batch-norm group_size {size} does not divide the "
                       f"batch of {x.shape[0]} examples.")
    groups = h.reshape(x.shape[0] // size, size, *x.shape[1:])
    axes = tuple(range(1, groups.ndim - 1))
    mean = jnp.mean(groups, axes, keepdims=True)
    var = jnp.var(groups, axes, keepdims=True)
    if not self.is_initializing():
      decay = self.momentum
      ra_mean.value = (decay * ra_mean.value + (1 - decay)
                       * jnp.mean(mean.reshape(-1, channels), 0))
      ra_var.value = (decay * ra_var.value + (1 - decay)
                      * jnp.mean(var.reshape(-1, channels), 0))
    h = (groups - mean) * jax.lax.rsqrt(var + self.epsilon)
    return h.reshape(x.shape).astype(x.dtype)


class Standardize(nn.Module):
  """Batch standardization over all axes but the last (features); no affine.

  Statistics are taken in float32 whatever the activations' dtype. Under
  `jax.jit` with the batch sharded over devices they are those of the global
  batch: cross-replica ("synchronized") batch norm needs no collective
  written by hand, and does not depend on the number of devices.

  Attributes:
    momentum: decay of the moving averages (Compare GAN's configs: 0.9).
    epsilon: added to the variance (Compare GAN's configs: 1e-5).
    group_size: take statistics over groups of this many consecutive
      examples (Compare GAN's grouped cross-replica batch norm, whose
      group_size counted TPU cores: multiply it by the per-core batch);
      None: the whole batch.
  """
  momentum: float = 0.9
  epsilon: float = 1e-5
  group_size: int | None = None

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    if (train and self.is_mutable_collection(_STANDING)
        and not self.is_initializing()):
      h = x.astype(jnp.float32)
      axes = tuple(range(x.ndim - 1))
      self.sow(_STANDING, "mean", jnp.mean(h, axes))
      self.sow(_STANDING, "var", jnp.var(h, axes))
    return _Moments(self.momentum, self.epsilon, self.group_size,
                    name="moments")(x, train=train)


class _BatchStatistics(nn.Module):
  """The batch-statistics fields of `Standardize`, shared by the batch norms."""
  momentum: float = 0.9
  epsilon: float = 1e-5
  group_size: int | None = None

  def standardize(self, x: jax.Array, train: bool) -> jax.Array:
    """x standardized by a `Standardize` child with these fields."""
    return Standardize(self.momentum, self.epsilon,
                       self.group_size)(x, train=train)


def _per_example(v: jax.Array, x: jax.Array) -> jax.Array:
  """[N, C] scales or offsets broadcast against x of shape [N, ..., C]."""
  return v.reshape(v.shape[0], *([1] * (x.ndim - 2)), v.shape[-1])


@gin.configurable("none", module="normalizers")
class Identity(nn.Module):
  """No normalization."""

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del train, y, z
    return x


@gin.configurable("standardize", module="normalizers")
class StandardizeNorm(_BatchStatistics):
  """Batch standardization only (Compare GAN's `standardize_batch`)."""

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del y, z
    return self.standardize(x, train)


@gin.configurable("batch_norm", module="normalizers")
class BatchNorm(_BatchStatistics):
  """Batch norm with a learned scale γ (init 1) and offset β (init 0)."""

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del y, z
    h = self.standardize(x, train)
    scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
    offset = self.param("offset", nn.initializers.zeros, (x.shape[-1],))
    return h * scale + offset


@gin.configurable("conditional_batch_norm", module="normalizers")
class ConditionalBatchNorm(_BatchStatistics):
  """Batch norm whose γ and β are linear functions of a conditioning vector.

  γ = 1 + W_γ y and β = W_β y, with W initialized to zero, so the layer
  starts as plain standardization (de Vries et al. 2017; BigGAN). Compare GAN
  used γ = W_γ y with W ~ N(0, 0.02²), so its γ started near 0 and scaled the
  features down (its issue #54); `compare_gan_gamma=True` reproduces that.
  Compare GAN also spectrally normalized the γ and β projections when G used
  spectral norm; they are never normalized here.

  Attributes:
    momentum, epsilon, group_size: as in `Standardize`.
    use_bias: give the γ and β projections a bias (Compare GAN: False).
    compare_gan_gamma: γ = W_γ y without the +1, W ~ N(0, 0.02²).
  """
  use_bias: bool = False
  compare_gan_gamma: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del z
    if y is None:
      raise ValueError(
          "conditional_batch_norm needs a conditioning vector, but the model "
          "passed none: use it in a class-conditional model (GAN.num_classes "
          "> 0) or pick normalizers.batch_norm.")
    h = self.standardize(x, train)
    init = (nn.initializers.normal(0.02) if self.compare_gan_gamma
            else nn.initializers.zeros)
    channels = x.shape[-1]
    gamma = nn.Dense(channels, use_bias=self.use_bias, kernel_init=init,
                     name="gamma")(y)
    beta = nn.Dense(channels, use_bias=self.use_bias, kernel_init=init,
                    name="beta")(y)
    if not self.compare_gan_gamma:
      gamma = 1.0 + gamma
    return h * _per_example(gamma, x) + _per_example(beta, x)


@gin.configurable("self_modulated_batch_norm", module="normalizers")
class SelfModulatedBatchNorm(_BatchStatistics):
  """Batch norm with γ, β from the latent z (Chen et al. 2019, self-modulation).

  h = ReLU(W₁z) with `num_hidden` units (skipped when 0), γ = W_γh + 1 (bias
  initialized to 1 as in Compare GAN), β = W_βh. Unlike Compare GAN, which
  spectrally normalized these three linears when G used spectral norm
  (`use_sn`), they are never normalized here.
  """
  num_hidden: int = 32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del y
    if z is None:
      raise ValueError("self_modulated_batch_norm needs the latent z; it only "
                       "works in a generator.")
    h = self.standardize(x, train)
    init = nn.initializers.normal(0.02)
    hidden = z
    if self.num_hidden > 0:
      hidden = nn.relu(nn.Dense(self.num_hidden, kernel_init=init,
                                name="hidden")(z))
    gamma = nn.Dense(x.shape[-1], kernel_init=init,
                     bias_init=nn.initializers.ones, name="gamma")(hidden)
    beta = nn.Dense(x.shape[-1], kernel_init=init, name="beta")(hidden)
    return h * _per_example(gamma, x) + _per_example(beta, x)


@gin.configurable("layer_norm", module="normalizers")
class LayerNorm(nn.Module):
  """Layer norm over all axes but the batch, γ and β per channel.

  As TensorFlow's `layers.layer_norm` in Compare GAN's ResNet blocks, with
  its ε of 1e-12.
  """
  epsilon: float = 1e-12

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del train, y, z
    return nn.LayerNorm(epsilon=self.epsilon,
                        reduction_axes=tuple(range(1, x.ndim)),
                        feature_axes=-1, name="norm")(x)


@gin.configurable("pixel_norm", module="normalizers")
class PixelNorm(nn.Module):
  """Pixel-wise feature normalization (Karras et al. 2018, progressive GAN).

  Each pixel's feature vector is divided by its root mean square.
  """
  epsilon: float = 1e-8

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, y: jax.Array | None = None,
               z: jax.Array | None = None) -> jax.Array:
    del train, y, z
    return x * jax.lax.rsqrt(
        jnp.mean(jnp.square(x), axis=-1, keepdims=True) + self.epsilon)


@gin.configurable("no_weight_norm", module="normalizers")
class NoWeightNorm(nn.Module):
  """Calls the layer as it is."""
  layer: nn.Module

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    del train
    return self.layer(x)


_SINGULAR_VALUES = ("left", "right", "auto")


def _l2_normalize(x: jax.Array, epsilon: float) -> jax.Array:
  """x / ‖x‖, as TF's `l2_normalize`: ‖x‖² floored at `epsilon`."""
  return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x)), epsilon))


@gin.configurable("spectral_norm", module="normalizers")
class SpectralNorm(nn.Module):
  """Spectral normalization (Miyato et al. 2018): W / σ(W), σ by power iteration.

  Compare GAN's `spectral_norm`: each kernel as a matrix [fan_in, out], one
  power-iteration step per training call from a persistent vector u ~ N(0,
  I), u and v without gradient. `singular_value` picks the space of u as
  Compare GAN does: "left" (its default) keeps u ∈ ℝ^fan_in, "right" keeps
  u ∈ ℝ^out (SN-GAN's code, flax's `nn.SpectralNorm`), "auto" the smaller
  (its BigGAN config). The u vectors are variables of the `spectral_norm`
  collection (so they are part of the train state and checkpoints, and the
  EMA of G uses the same ones); σ is recomputed from u at every call. In
  training every call updates u, as in Compare GAN; in inference the
  iteration runs from the stored u without storing it. The iteration runs in
  float32; the normalized kernel is cast to the activations' dtype (mixed
  precision).
  """
  layer: nn.Module
  power_iterations: int = 1
  epsilon: float = 1e-12
  singular_value: str = "left"

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    if self.singular_value not in _SINGULAR_VALUES:
      raise ValueError(f"normalizers.spectral_norm.singular_value must be one "
                       f"of {_SINGULAR_VALUES}, got {self.singular_value!r}.")
    normalize = lambda path, value: self._normalized(path, value, train,
                                                     x.dtype)
    return nn.map_variables(
        lambda layer: layer(x), "params",
        trans_in_fn=lambda vs: jax.tree_util.tree_map_with_path(normalize,
                                                                vs),
        init=self.is_initializing(), mutable=True)(self.layer)

  def _normalized(self, path, value: jax.Array, train: bool,
                  dtype: jnp.dtype) -> jax.Array:
    """A kernel divided by its spectral-norm estimate; biases as they are."""
    value = jnp.asarray(value)
    if value.ndim <= 1:
      return value
    w = value.astype(jnp.float32).reshape(-1, value.shape[-1])
    left = self.singular_value == "left" or (
        self.singular_value == "auto" and w.shape[0] <= w.shape[1])
    name = "/".join([self.layer.name, *(k.key for k in path[1:])])
    u_var = self.variable(
        SPECTRAL_NORM, f"{name}/u", jax.random.normal,
        None if self.has_variable(SPECTRAL_NORM, f"{name}/u")
        else self.make_rng("params"), (1, w.shape[0 if left else 1]),
        jnp.float32)
    # In the left space u·W is v's direction and v·Wᵀ u's; in the right
    # space the roles of W and Wᵀ swap.
    m = w if left else w.T
    u = u_var.value
    for _ in range(self.power_iterations):
      v = _l2_normalize(u @ m, self.epsilon)
      u = _l2_normalize(v @ m.T, self.epsilon)
    u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
    sigma = (u @ m @ v.T)[0, 0]
    if train:
      u_var.value = u
    w = w / jnp.where(sigma != 0, sigma, 1.0)
    return w.reshape(value.shape).astype(dtype)


@gin.configurable("weight_norm", module="normalizers")
class WeightNorm(nn.Module):
  """Weight normalization (Salimans & Kingma 2016), Flax's `nn.WeightNorm`.

  Without the paper's data-dependent initialization: the scale starts at 1
  and the stored weights are the initializer's with every filter rescaled to
  unit norm, so the layer starts with unit-norm filters, not as the layer its
  initializer would give unnormalized.
  """
  layer: nn.Module

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    del train
    return nn.WeightNorm(self.layer)(x)


@gin.configurable("equalized_lr", module="normalizers")
class EqualizedLR(nn.Module):
  """Equalized learning rate (Karras et al. 2018): W = c·Ŵ, c = gain/√fan_in.

  The stored parameter Ŵ is the layer's initial kernel divided by c, so with
  a He-normal kernel initializer Ŵ ~ N(0, 1) as in the paper, and Adam's
  per-parameter step moves every layer's effective weights at the same rate.
  """
  layer: nn.Module
  gain: float = math.sqrt(2.0)

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    del train

    def scale(kernel: jax.Array) -> float:
      return self.gain / math.sqrt(math.prod(kernel.shape[:-1]))

    def map_kernels(variables, fn):
      return jax.tree_util.tree_map_with_path(
          lambda path, v: fn(v) if path[-1].key == "kernel" else v, variables)

    return nn.map_variables(
        lambda layer, h: layer(h), "params",
        trans_in_fn=lambda vs: map_kernels(vs, lambda k: k * scale(k)),
        trans_out_fn=lambda vs: map_kernels(vs, lambda k: k / scale(k)),
        init=self.is_initializing(), mutable=self.is_initializing())(
            self.layer, x)


def wrap(weight_norm: type[nn.Module] | None, layer: nn.Module, x: jax.Array,
         *, train: bool) -> jax.Array:
  """Applies `layer` to `x` through the weight normalizer, if any."""
  if weight_norm is None:
    return layer(x)
  return weight_norm(layer=layer)(x, train=train)


def standing_statistics(model: nn.Module, params: Any,
                        collections: dict[str, Any],
                        inputs: Iterable[tuple[jax.Array, ...]],
                        **kwargs) -> dict[str, Any]:
  """Collections whose batch-norm averages are the mean batch statistics.

  Runs `model` in training mode on every tuple of `inputs` (e.g. batches of
  latents and labels: Compare GAN used 204,800 samples) and replaces each
  batch norm's moving mean and variance with the average over the batches,
  which fits the weights used (e.g. G's EMA) instead of the training-time
  trajectory of the moving averages.

  Args:
    model: a model built with this module's batch-norm normalizers.
    params: the weights to compute statistics for.
    collections: the model's other collections (batch_stats, spectral_norm).
    inputs: positional inputs of each call.
    **kwargs: extra keyword arguments of each call.

  Returns:
    `collections` with new batch_stats.
  """
  variables = {"params": params, **collections}
  sums, count = None, 0
  for args in inputs:
    _, sown = model.apply(variables, *args, train=True, **kwargs,
                          mutable=[_STANDING, *collections])
    stats = jax.tree.map(lambda t: t[0], sown[_STANDING],
                         is_leaf=lambda t: isinstance(t, tuple))
    sums = stats if sums is None else jax.tree.map(jnp.add, sums, stats)
    count += 1
  if sums is None:
    raise ValueError("standing_statistics got no inputs.")
  flat = flax.traverse_util.flatten_dict(sums)
  batch_stats = flax.traverse_util.flatten_dict(collections["batch_stats"])
  for path, total in flat.items():
    batch_stats[(*path[:-1], "moments", path[-1])] = total / count
  return {**collections,
          "batch_stats": flax.traverse_util.unflatten_dict(batch_stats)}
