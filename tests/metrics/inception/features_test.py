"""Tests of ganjax.metrics.inception.features' progress reports."""

import logging

from ganjax.metrics.inception import features


def test_progress_reports_rate_and_time_left(monkeypatch, caplog):
  clock = iter([0.0, 10.0, 40.0, 50.0])
  monkeypatch.setattr(features.time, "monotonic", lambda: next(clock))
  progress = features._Progress(1000, every_secs=30.0)  # pylint: disable=protected-access
  with caplog.at_level(logging.INFO):
    progress.report(100)  # 10 s in: too soon.
    progress.report(400)  # 40 s in: 10 images/s, 1:00 left.
    progress.report(500)  # 10 s after the last report: too soon.
  messages = [r.getMessage() for r in caplog.records
              if "Inception features" in r.getMessage()]
  assert messages == ["Inception features: 400/1000 images, 10.0 images/s, "
                      "1:00 left."]
