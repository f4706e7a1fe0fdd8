"""PacGAN's mode-coverage metrics for Gaussian mixtures (Lin et al. 2018).

As PacGAN's `MetricLogger` computes them: each sample is assigned to the mode
nearest in σ-normalized distance; it is high quality (HQ) when that distance
is below `threshold` (3σ). Modes captured counts the modes nearest to at least
one HQ sample; reverse KL is KL(q ‖ uniform) for q the histogram of HQ samples
over modes. Published numbers use 2,500 samples.
"""

import numpy as np


def mode_coverage(samples: np.ndarray, means: np.ndarray, std: float,
                  threshold: float = 3.0) -> dict[str, float]:
  """Modes captured, fraction of HQ samples and reverse KL.

  Args:
    samples: [N, D] generated points.
    means: [K, D] mode centres.
    std: the modes' standard deviation (isotropic).
    threshold: HQ radius in standard deviations.

  Returns:
    {"modes": modes captured, "high_quality": HQ fraction in [0, 1],
     "reverse_kl": KL(q ‖ uniform), inf when no sample is HQ}.
  """
  samples = np.asarray(samples, np.float64)
  distances = np.linalg.norm(
      samples[:, None, :] - means[None, :, :], axis=-1) / std
  nearest = np.argmin(distances, axis=1)
  is_hq = distances[np.arange(len(samples)), nearest] < threshold
  counts = np.bincount(nearest[is_hq], minlength=len(means))
  if counts.sum() == 0:
    reverse_kl = float("inf")
  else:
    q = counts / counts.sum()
    q = q[q > 0]
    reverse_kl = float(np.sum(q * np.log(q * len(means))))
  return {"modes": float(np.count_nonzero(counts)),
          "high_quality": float(is_hq.mean()),
          "reverse_kl": reverse_kl}
