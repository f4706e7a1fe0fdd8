"""Tests of ganjax.run.scores_file: a run's rows of scores."""

import concurrent.futures
import csv

from ganjax.run import scores_file


def _read(workdir):
  with open(workdir / "scores.csv", newline="") as f:
    return list(csv.DictReader(f))


def test_rows_carry_the_gin_parameters_and_read_back_as_numbers(
    tmp_path, clean_gin):
  (tmp_path / "operative_config.gin").write_text("train.num_steps = 6\n")
  scores_file.append(str(tmp_path), 4, {"fid": 30.0})
  scores_file.append(str(tmp_path), 2, {"fid": 40.0})
  assert _read(tmp_path)[0]["train.num_steps"] == "6"
  assert scores_file.rows(str(tmp_path)) == [{"step": 2.0, "fid": 40.0},
                                             {"step": 4.0, "fid": 30.0}]
  assert scores_file.steps(str(tmp_path)) == {2, 4}


def test_a_new_metric_keeps_the_old_rows(tmp_path, clean_gin):
  scores_file.append(str(tmp_path), 1, {"fid": 3.0})
  scores_file.append(str(tmp_path), 5, {"ms_ssim": 0.3})
  rows = _read(tmp_path)
  assert [r["step"] for r in rows] == ["1", "5"]
  assert rows[0]["ms_ssim"] == "" and rows[1]["fid"] == ""


def test_best_goes_the_metric_s_way(tmp_path, clean_gin):
  assert scores_file.best(str(tmp_path), "fid") is None  # No file yet.
  for step, fid, score in [(1, 9.0, 2.0), (2, 5.0, 1.5), (3, 7.0, 3.0)]:
    scores_file.append(str(tmp_path), step,
                       {"fid": fid, "inception_score": score})
  assert scores_file.best(str(tmp_path), "fid")["step"] == 2
  assert scores_file.best(str(tmp_path), "inception_score")["step"] == 3
  assert scores_file.best(str(tmp_path), "kid") is None


def test_concurrent_writers_lose_no_row(tmp_path, clean_gin):
  with concurrent.futures.ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda step: scores_file.append(
        str(tmp_path), step, {"fid": float(step)}), range(100, 120)))
  assert len(_read(tmp_path)) == 20

