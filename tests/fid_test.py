"""`python -m ganjax.fid` end to end, with the real FID Inception weights."""

import json
import os
import subprocess
import sys

import numpy as np

from ganjax.metrics import frechet
from ganjax.metrics.inception import features

from tests import paths


def test_fid_command_prints_the_scores_as_json(inception_params, tmp_path):
  rng = np.random.default_rng(0)
  a = rng.integers(0, 256, (12, 32, 32, 3), np.uint8)
  b = np.clip(a.astype(int) + rng.integers(-60, 60, a.shape), 0,
              255).astype(np.uint8)
  np.savez(tmp_path / "a.npz", images=a)
  np.savez(tmp_path / "b.npz", samples=b)
  out = subprocess.run(
      [sys.executable, "-m", "ganjax.fid", str(tmp_path / "a.npz"),
       str(tmp_path / "b.npz"), "--num_samples=10", "--batch_size=5",
       "--metrics=fid,kid,pr,dc,is"],
      cwd=paths.REPO, check=True, capture_output=True, text=True,
      env={**os.environ, "JAX_PLATFORMS": "cpu"}).stdout
  scores = json.loads(out.strip().splitlines()[-1])
  # default_1.pt has no classifier, so no Inception Score.
  assert set(scores) >= {"fid", "kid", "kid_std", "precision", "recall",
                         "density", "coverage"}
  extractor = features.InceptionFeatures(inception_params, batch_size=10)
  want = frechet.fid(extractor(a[:10])["pool3"], extractor(b[:10])["pool3"])
  assert abs(scores["fid"] - want) <= 1e-3 * want
