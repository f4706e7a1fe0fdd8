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
  labels = np.arange(12) % 2  # As ganjax.sample writes a conditional's.
  np.savez(tmp_path / "a.npz", images=a, labels=labels)
  np.savez(tmp_path / "b.npz", samples=b, labels=labels)
  out = subprocess.run(
      [sys.executable, "-m", "ganjax.fid", str(tmp_path / "a.npz"),
       str(tmp_path / "b.npz"), "--num_samples=10", "--batch_size=5",
       "--metrics=fid,kid,pr,dc,is", "--per_class"],
      cwd=paths.REPO, check=True, capture_output=True, text=True,
      env={**os.environ, "JAX_PLATFORMS": "cpu"}).stdout
  scores = json.loads(out.strip().splitlines()[-1])
  # default_1.pt has no classifier, so no Inception Score.
  assert set(scores) >= {"fid", "kid", "kid_std", "precision", "recall",
                         "density", "coverage"}
  extractor = features.InceptionFeatures(inception_params, batch_size=10)
  want = frechet.fid(extractor(a[:10])["pool3"], extractor(b[:10])["pool3"])
  assert abs(scores["fid"] - want) <= 1e-3 * want
  want_classes = [frechet.fid(extractor(a[:10][labels[:10] == k])["pool3"],
                              extractor(b[:10][labels[:10] == k])["pool3"])
                  for k in (0, 1)]
  np.testing.assert_allclose(
      [scores["fid_class_0"], scores["fid_class_1"], scores["intra_fid"]],
      [*want_classes, np.mean(want_classes)], rtol=1e-3)
  # The protocol rides along: what was compared, how many, which Inception.
  assert {k: v for k, v in scores.items() if k.startswith("protocol.")} == {
      "protocol.real": str(tmp_path / "a.npz"), "protocol.num_real": "10",
      "protocol.num_fake": "10", "protocol.num_draws": "1",
      "protocol.resize": "tf",
      "protocol.inception": extractor.fingerprint.rsplit("-", 1)[-1]}
