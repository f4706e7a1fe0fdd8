"""The input check shared by the feature-space metrics (FID, KID, PRDC)."""

import numpy as np


def check_pair(real: np.ndarray, fake: np.ndarray, min_rows: int = 1) -> None:
  """Raises ValueError, naming the problem, unless `real` [N, D] and `fake`
  [M, D] are finite 2-D feature arrays of one D with ≥ min_rows rows each."""
  for what, features in (("real", real), ("generated", fake)):
    if features.ndim != 2:
      raise ValueError(f"the {what} features must be [N, D], got shape "
                       f"{features.shape}")
    if len(features) < min_rows:
      raise ValueError(f"the {what} features need at least {min_rows} rows, "
                       f"got {len(features)}")
    if not np.isfinite(features).all():
      raise ValueError(f"the {what} features contain NaN or inf: the "
                       "feature extractor produced non-finite values")
  if real.shape[1] != fake.shape[1]:
    raise ValueError(f"the real features have D = {real.shape[1]} but the "
                     f"generated features have D = {fake.shape[1]}")
