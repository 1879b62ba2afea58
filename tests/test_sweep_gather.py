"""Gathering a sweep from its folders: the table and the summary series (no engine needed).

The folders are written by hand in the formats the commands write (runio's metrics files, the
JSON of `seli path --json`), with values chosen here, so every expected number is known.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from seli_io.atomic import atomic_write
from training.runio import MetricsLog
from training.sweep import gather, parse_grid, summary_series, write_summary, write_table
from training.sweep.cell import DONE_NAME, PATH_NAME, cell_dir

UFM = """
command = "train ufm"
[fixed]
epochs = 100
[grid]
R = [1, 10]
seed = [0, 1]
"""


def _ufm_row(epoch, R, seed, seli, etf):
    return {"epoch": epoch, "run": 0, "R": R, "seed": seed, "lr": 0.4, "loss": 1.0 / (1 + epoch),
            "seli_classifiers": seli, "seli_embeddings": 2 * seli, "seli_logits": 3 * seli,
            "etf_classifiers": etf, "etf_embeddings": 2 * etf, "etf_logits": 3 * etf}


def _finish(folder, key):
    atomic_write(folder / DONE_NAME, json.dumps({"key": key, "attempts": 1, "resumed": False}))


@pytest.fixture
def ufm_sweep(tmp_path):
    grid = parse_grid(UFM)
    cells = grid.cells()
    # final (epoch 100) distances: to SELI 0.01 * (1 + seed), to ETF 0.1 * R
    for c in cells[:3]:
        R, seed = dict(c.varied)["R"], dict(c.varied)["seed"]
        log = MetricsLog(cell_dir(tmp_path, c.name))
        log.append(_ufm_row(0, R, seed, 0.9, 0.9))
        log.append(_ufm_row(100, R, seed, 0.01 * (1 + seed), 0.1 * R))
        _finish(cell_dir(tmp_path, c.name), c.key)
    # the last cell ran but did not finish: metrics, no marker
    MetricsLog(cell_dir(tmp_path, cells[3].name)).append(_ufm_row(0, 10, 1, 0.5, 0.5))
    atomic_write(cell_dir(tmp_path, cells[3].name) / "attempts.json", "[]")
    return grid, tmp_path


def test_table_holds_the_final_rows(ufm_sweep):
    grid, out = ufm_sweep
    table = gather(grid, out)
    assert [r["status"] for r in table.rows] == ["finished"] * 3 + ["unfinished"]
    assert [r["epoch"] for r in table.rows[:3]] == [100, 100, 100]
    assert [r["seli_classifiers"] for r in table.rows[:3]] == [0.01, 0.02, 0.01]
    assert [r["etf_logits"] for r in table.rows[:3]] == [pytest.approx(0.3), pytest.approx(0.3),
                                                         pytest.approx(3.0)]
    assert table.metrics() == [("classifiers", "seli_classifiers", "etf_classifiers"),
                               ("embeddings", "seli_embeddings", "etf_embeddings"),
                               ("logits", "seli_logits", "etf_logits")]
    # the CSV round-trips floats exactly and leaves unknown values empty
    back = list(csv.DictReader(io.StringIO(write_table(table, out).read_text())))
    assert back[1]["seli_classifiers"] == "0.02" and back[3]["seli_classifiers"] == ""
    assert back[3]["status"] == "unfinished" and back[3]["R"] == "10"


def test_a_marker_of_another_cell_is_not_finished(ufm_sweep):
    grid, out = ufm_sweep
    c = grid.cells()[0]
    atomic_write(cell_dir(out, c.name) / DONE_NAME, json.dumps({"key": "somethingelse"}))
    assert gather(grid, out).rows[0]["status"] == "pending"  # no attempt recorded either


def test_summary_series_mean_and_range_over_seeds(ufm_sweep, tmp_path):
    grid, out = ufm_sweep
    series = {(s.metric, s.target): s for s in summary_series(gather(grid, out), grid)}
    seli = series["classifiers", "seli"]
    assert seli.R == [1.0, 10.0] and seli.group == ""
    # R=1: seeds 0 and 1 -> 0.01, 0.02; R=10: only seed 0 finished -> 0.01
    assert seli.mean == [pytest.approx(0.015), 0.01]
    assert (seli.low, seli.high) == ([0.01, 0.01], [0.02, 0.01])
    assert series["logits", "etf"].mean == [pytest.approx(0.3), pytest.approx(3.0)]
    files = write_summary(gather(grid, out), grid, tmp_path)
    assert sorted(f.name for f in files) == sorted(
        f"summary_{m}.{e}" for m in ("classifiers", "embeddings", "logits") for e in ("png", "pdf"))
    assert all(f.stat().st_size > 1000 for f in files)
    assert files[0].read_bytes()[:4] == b"\x89PNG" and files[1].read_bytes()[:4] == b"%PDF"


def test_groups_by_the_other_varied_flags(tmp_path):
    grid = parse_grid('command = "train ufm"\n[grid]\nlrs = [0.1, 0.4]\nR = [1, 10]\n')
    for c in grid.cells():
        v = dict(c.varied)
        log = MetricsLog(cell_dir(tmp_path, c.name))
        log.append(_ufm_row(7, v["R"], 0, v["lrs"] * v["R"], 1.0) | {"lr": v["lrs"]})
        _finish(cell_dir(tmp_path, c.name), c.key)
    series = [s for s in summary_series(gather(grid, tmp_path), grid)
              if (s.metric, s.target) == ("classifiers", "seli")]
    assert [(s.group, s.mean) for s in series] == [
        ("lrs=0.1, lr=0.1", [0.1, 1.0]), ("lrs=0.4, lr=0.4", [0.4, 4.0])]


def test_path_cells_take_the_smallest_lambda(tmp_path):
    grid = parse_grid('command = "path"\n[fixed]\nk = 4\n[grid]\nR = [2, 10]\n')
    for c in grid.cells():
        R = dict(c.varied)["R"]
        pts = [{"lambda": lam, "objective": 1.0, "duality_gap": 1e-12,
                "dist_seli": {"classifiers": lam * R, "embeddings": 0.0, "logits": 0.0},
                "dist_etf": {"classifiers": 0.5, "embeddings": 0.5, "logits": 0.5},
                "min_margin": 0.1, "direction_error": lam} for lam in (1.0, 1e-6, 1e-3)]
        atomic_write(cell_dir(tmp_path, c.name) / PATH_NAME,
                     json.dumps({"solver": "structured", "points": pts}))
        _finish(cell_dir(tmp_path, c.name), c.key)
    table = gather(grid, tmp_path)
    assert [r["lambda"] for r in table.rows] == [1e-6, 1e-6]
    assert [r["dist_seli_classifiers"] for r in table.rows] == [1e-6 * 2, 1e-6 * 10]
    assert table.rows[0]["solver"] == "structured"
    assert [m[0] for m in table.metrics()] == ["classifiers", "embeddings", "logits"]


def test_no_figure_without_R(tmp_path):
    grid = parse_grid('command = "path"\n[grid]\ncounts = ["5,5,1"]\n')
    c = grid.cells()[0]
    atomic_write(cell_dir(tmp_path, c.name) / PATH_NAME, json.dumps({"points": [
        {"lambda": 1.0, "dist_seli": {"logits": 0.1}, "dist_etf": {"logits": 0.2}}]}))
    _finish(cell_dir(tmp_path, c.name), c.key)
    assert write_summary(gather(grid, tmp_path), grid, tmp_path) == []


def test_cli_gather_only_rebuilds_from_the_folders(ufm_sweep, capsys):
    from seli_cli.main import main

    grid, out = ufm_sweep
    grid_file = out / "grid.toml"
    grid_file.write_text(UFM)
    assert main(["sweep", str(grid_file), "--out", str(out), "--gather-only"]) == 0
    printed = capsys.readouterr().out
    assert f"table: {out / 'results.csv'}" in printed and printed.count("figure: ") == 6
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert [r["status"] for r in rows] == ["finished"] * 3 + ["unfinished"]
