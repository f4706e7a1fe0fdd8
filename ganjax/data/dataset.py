"""The data interface of the training loop, and in-memory data sets.

The loop asks a `Dataset` for its global batch number `index`; batches are a
pure function of (seed, index), so a resumed run sees exactly the batches an
uninterrupted run would have seen, with no iterator state to save.
"""

import dataclasses
import functools

import numpy as np


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a model needs to know about the data.

  Attributes:
    shape: shape of one example, (H, W, C) for images or (D,) for vectors.
    num_classes: number of label classes, or None for unlabeled data.
    is_image: images are float32 in [-1, 1] for the models and uint8 on disk.
  """
  shape: tuple[int, ...]
  num_classes: int | None
  is_image: bool


class ArrayDataset:
  """Examples held in memory, reshuffled every epoch from (seed, epoch).

  Attributes:
    spec: the DataSpec of the examples.
    examples: [N, *spec.shape] float32.
    labels: [N] int32, or None.
  """

  def __init__(self, examples: np.ndarray, labels: np.ndarray | None,
               spec: DataSpec):
    if examples.shape[1:] != spec.shape:
      raise ValueError(f"Examples of shape {examples.shape[1:]} do not match "
                       f"the data spec's {spec.shape}.")
    self.spec = spec
    self.examples = examples.astype(np.float32)
    self.labels = None if labels is None else labels.astype(np.int32)

  def __len__(self) -> int:
    return len(self.examples)

  @functools.lru_cache(maxsize=4)
  def _permutation(self, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, epoch)).permutation(len(self))

  def batch(self, index: int, batch_size: int,
            seed: int) -> dict[str, np.ndarray]:
    """The `index`-th batch of `batch_size` examples for the run's `seed`.

    Returns:
      {"x": [batch_size, *shape] float32} and, for labeled data,
      {"label": [batch_size] int32}.
    """
    positions = np.arange(index * batch_size, (index + 1) * batch_size)
    epochs, offsets = np.divmod(positions, len(self))
    rows = np.empty_like(positions)
    for epoch in np.unique(epochs):
      in_epoch = epochs == epoch
      rows[in_epoch] = self._permutation(seed, int(epoch))[offsets[in_epoch]]
    batch = {"x": self.examples[rows]}
    if self.labels is not None:
      batch["label"] = self.labels[rows]
    return batch
