"""FID Inception features of uint8 images: jit-compiled, sharded over devices.

One compiled function maps a fixed-size batch of images to pool3 features
(and logits when the weights have the classifier); the batch is split over
all local devices along a `data` mesh axis and the weights are replicated.
The last partial batch is padded, so a new image count does not recompile
(except a count below one batch, which runs as one smaller batch).
"""

import functools
import hashlib
import time
from typing import Callable

import gin
import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ganjax import console
from ganjax.metrics.inception import inputs as inception_input
from ganjax.metrics.inception import network as inception
from ganjax.metrics.inception import weights as inception_weights
from ganjax.ops import multihost


# Bumped whenever preprocessing changes what features the same images get,
# so that cached features of real images are recomputed.
_PREPROCESSING_VERSION = 2


@gin.configurable("metrics.inception_features")
class InceptionFeatures:
  """Callable: uint8 [N, H, W, C] images → {"pool3": [N, 2048], "logits"?}.

  Attributes:
    resize: "tf" (default), "pytorch" or "clean"; see inputs.py.
    batch_size: images per compiled call, rounded up to the device count.
    has_logits: whether the weights include the 1008-way classifier.
    fingerprint: identifies the weights and preprocessing, for caches.
  """

  def __init__(self, params: dict, batch_size: int = 50, resize: str = "tf"):
    """`params`: the network's, from `inception_weights.load_params`."""
    if resize not in inception_input.METHODS:
      raise ValueError(f"Unknown resize {resize!r}; choose one of "
                       f"{inception_input.METHODS}.")
    self.resize = resize
    self.has_logits = "logits" in params
    digest = hashlib.sha256(np.asarray(params["conv"]["kernel"]).tobytes())
    digest.update(np.asarray(params["mixed_10"]["conv"]["bias"]).tobytes())
    self.fingerprint = (f"{_PREPROCESSING_VERSION}-{resize}-"
                        f"{digest.hexdigest()[:16]}")
    devices = jax.local_devices()
    self._devices = len(devices)
    self.batch_size = -(-batch_size // len(devices)) * len(devices)
    mesh = jax.sharding.Mesh(np.array(devices), ("data",))
    self._sharding = NamedSharding(mesh, P("data"))
    self._params = jax.device_put(params, NamedSharding(mesh, P()))
    model = inception.InceptionV3(logits=self.has_logits)
    self._apply = jax.jit(functools.partial(self._forward, model, resize))

  @staticmethod
  def _forward(model, resize, params, images):
    return model.apply({"params": params},
                       inception_input.preprocess(images, resize))

  def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
    """Features of uint8 [N, H, W, C] images, as host arrays.

    In a multi-host run every process passes the same images; each computes
    its share on its own devices, and all get every feature.
    """
    images = np.asarray(images)
    inception_input.check_images(images)
    if not len(images):
      raise ValueError("No images to compute Inception features of.")
    return multihost.split_over_processes(self._local, images)

  def _local(self, images: np.ndarray) -> dict[str, np.ndarray]:
    """Features of `images` computed on this process's devices."""
    # Fewer images than a batch make one smaller batch (padded to the device
    # count) rather than a mostly padded one.
    size = min(self.batch_size, -(-len(images) // self._devices)
               * self._devices)
    outputs = []
    progress = _Progress(len(images))
    for start in range(0, len(images), size):
      progress.report(start)
      batch = images[start:start + size]
      count = len(batch)
      if count < size:
        pad = np.zeros((size - count, *batch.shape[1:]), batch.dtype)
        batch = np.concatenate([batch, pad])
      if self.resize == "clean":
        batch = inception_input.clean_resize(batch)
      out = self._apply(self._params, jax.device_put(batch, self._sharding))
      outputs.append(jax.tree.map(lambda x, n=count: np.asarray(x)[:n], out))
    return {k: np.concatenate([o[k] for o in outputs]) for k in outputs[0]}


class _Progress:
  """Logs images embedded, images per second and the time left, at most
  every `every_secs`: embedding 50k images takes hours on a CPU."""

  def __init__(self, total: int, every_secs: float = 30.0):
    self.total, self.every_secs = total, every_secs
    self.start = self.last = time.monotonic()

  def report(self, done: int) -> None:
    now = time.monotonic()
    if not done or now - self.last < self.every_secs:
      return
    self.last = now
    rate = done / (now - self.start)
    console.info("Inception features: %d/%d images, %.1f images/s, %s left.",
                 done, self.total, rate,
                 console.duration((self.total - done) / rate))


def factory(weights: str | None = None,
            **kwargs) -> Callable[[], InceptionFeatures]:
  """Makes the feature extractor on its first call, then returns the same one.

  `weights` is a weight file; None follows the lookup order of
  `inception_weights` (the gin binding `metrics.inception_params.path`
  included). `kwargs` go to `InceptionFeatures` (unset ones come from gin).
  """
  def make():
    params = (inception_weights.load_params(path=weights) if weights
              else inception_weights.load_params())
    return InceptionFeatures(params, **kwargs)
  return functools.cache(make)
