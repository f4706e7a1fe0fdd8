"""The plots of a study, as PNG files: what the large-scale GAN studies drew.

- `distribution.png`: the metric's distribution per model over all its
  trials (box plot with every trial as a point; Lucic et al. Fig. 4).
- `budget.png`: the expected best metric vs the number of trials trained
  (Lucic et al. Fig. 5), from `results.expected_best`.
- `precision_recall.png`: each trial's precision vs recall, per model, when
  the trials were scored with them (Sajjadi et al., Kynkäänniemi et al.).
"""

import os
from typing import Sequence

import matplotlib
import numpy as np

from ganjax.metrics import suite
from ganjax.studies import results

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
from matplotlib import ticker  # pylint: disable=g-import-not-at-top


def _by_model(rows: Sequence[dict], column: str) -> dict[str, list[float]]:
  """Model → the values of `column` over its trials that have one, models
  in the study's order."""
  found: dict[str, list[float]] = {}
  for row in rows:
    if column in row and np.isfinite(row[column]):
      found.setdefault(row["model"], []).append(row[column])
  return found


def _save(fig, path: str) -> None:
  fig.savefig(path, bbox_inches="tight", dpi=100)
  plt.close(fig)


def distribution(rows: Sequence[dict], metric: str, path: str) -> bool:
  """Box plot of `final_<metric>` per model; False when nothing has it."""
  values = _by_model(rows, f"final_{metric}")
  if not values:
    return False
  models = list(values)
  fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(models)), 4))
  ax.boxplot([values[m] for m in models], showfliers=False)
  for i, model in enumerate(models, start=1):
    jitter = np.linspace(-0.15, 0.15, len(values[model]))
    ax.scatter(i + jitter, values[model], s=12, alpha=0.7, zorder=3)
  ax.set_xticks(range(1, len(models) + 1), models, rotation=30, ha="right")
  ax.set_ylabel(metric)
  scored = sum(len(v) for v in values.values())
  ax.set_title(f"final {metric} per model ({scored} of {len(rows)} trials "
               "scored)")
  _save(fig, path)
  return True


def budget(rows: Sequence[dict], metric: str, path: str) -> bool:
  """Expected best `best_<metric>` vs number of trials, per model."""
  values = _by_model(rows, f"best_{metric}")
  if not values:
    return False
  higher = suite.higher_is_better(metric)
  fig, ax = plt.subplots(figsize=(5, 4))
  for model in values:
    curve = results.expected_best(values[model], higher)
    ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", label=model)
  ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  ax.set_xlabel("trials trained (budget)")
  ax.set_ylabel(f"expected best {metric}")
  ax.legend(fontsize="small")
  _save(fig, path)
  return True


def precision_recall(rows: Sequence[dict], path: str) -> bool:
  """Precision vs recall of every trial, per model, when scored."""
  precision = _by_model(rows, "final_precision")
  recall = _by_model(rows, "final_recall")
  if not precision or precision.keys() != recall.keys():
    return False
  fig, ax = plt.subplots(figsize=(5, 5))
  for model in precision:
    ax.scatter(recall[model], precision[model], s=16, label=model)
  ax.set_xlim(0, 1)
  ax.set_ylim(0, 1)
  ax.set_xlabel("recall")
  ax.set_ylabel("precision")
  ax.legend(fontsize="small")
  _save(fig, path)
  return True


def draw_all(rows: Sequence[dict], metric: str, directory: str) -> list[str]:
  """Draws every plot the rows allow into `directory`; returns their paths."""
  drawn = []
  for name, draw in (("distribution.png",
                      lambda p: distribution(rows, metric, p)),
                     ("budget.png", lambda p: budget(rows, metric, p)),
                     ("precision_recall.png",
                      lambda p: precision_recall(rows, p))):
    path = os.path.join(directory, name)
    if draw(path):
      drawn.append(path)
  return drawn
