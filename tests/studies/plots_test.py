"""Tests of ganjax.studies.plots: which plots the results allow."""

import os

from PIL import Image

from ganjax.studies import plots


def _rows(with_pr):
  rows = []
  for i in range(6):
    row = {"model": f"loss={'ab'[i % 2]}", "final_fid": 10.0 + i,
           "best_fid": 9.0 + i}
    if with_pr:
      row.update(final_precision=0.1 * i, final_recall=0.5)
    rows.append(row)
  rows.append({"model": "loss=a"})  # A pending trial: no scores.
  return rows


def test_all_plots_are_drawn_when_the_scores_allow(tmp_path):
  drawn = plots.draw_all(_rows(with_pr=True), "fid", str(tmp_path))
  assert [os.path.basename(p) for p in drawn] == [
      "distribution.png", "budget.png", "precision_recall.png"]
  for path in drawn:
    width, height = Image.open(path).size
    assert width > 100 and height > 100


def test_missing_scores_draw_nothing(tmp_path):
  drawn = plots.draw_all(_rows(with_pr=False), "fid", str(tmp_path))
  assert [os.path.basename(p) for p in drawn] == ["distribution.png",
                                                 "budget.png"]
  assert plots.draw_all(_rows(with_pr=False), "modes", str(tmp_path)) == []
