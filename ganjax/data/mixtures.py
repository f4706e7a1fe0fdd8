"""2-D mixtures of Gaussians in PacGAN's configuration (Lin et al. 2018).

ring: 8 modes at (cos 2πi/8, sin 2πi/8), σ = 0.01. grid: 25 modes at
{-4, -2, 0, 2, 4}², σ = 0.05. As in PacGAN, a fixed training set of 100,000
points is drawn once per seed.
"""

import dataclasses

import gin
import numpy as np

from ganjax.data import dataset


@dataclasses.dataclass(frozen=True)
class Mixture:
  """An isotropic Gaussian mixture with equal weights."""
  means: np.ndarray  # [modes, 2]
  std: float

  def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
    modes = rng.integers(len(self.means), size=n)
    return self.means[modes] + self.std * rng.standard_normal((n, 2))


class MixtureDataset(dataset.ArrayDataset):
  """Points drawn from a mixture; `mixture` is kept for the metrics."""

  def __init__(self, mixture: Mixture, num_examples: int, seed: int):
    points = mixture.sample(np.random.default_rng(seed), num_examples)
    super().__init__(points, None, dataset.DataSpec((2,), None, False))
    self.mixture = mixture
    self.name = (f"{num_examples} points of a mixture of "
                 f"{len(mixture.means)} Gaussians (seed {seed})")


def ring_mixture(num_modes: int = 8, radius: float = 1.0,
                 std: float = 0.01) -> Mixture:
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return Mixture(radius * np.stack([np.cos(angles), np.sin(angles)], 1), std)


def grid_mixture(coordinates=(-4, -2, 0, 2, 4), std: float = 0.05) -> Mixture:
  xs, ys = np.meshgrid(coordinates, coordinates, indexing="ij")
  return Mixture(np.stack([xs.ravel(), ys.ravel()], 1).astype(float), std)


@gin.configurable(module="datasets")
def ring(seed: int, num_examples: int = 100_000) -> MixtureDataset:
  """PacGAN's ring of 8 Gaussians (radius 1, σ 0.01)."""
  return MixtureDataset(ring_mixture(), num_examples, seed)


@gin.configurable(module="datasets")
def grid(seed: int, num_examples: int = 100_000) -> MixtureDataset:
  """PacGAN's 5×5 grid of Gaussians (spacing 2, σ 0.05)."""
  return MixtureDataset(grid_mixture(), num_examples, seed)
