"""Sweeps on a real local Ray (2 CPUs) running real `seli train ufm` cells.

A cell is killed mid-way by the test-only fault injection (SELI_SWEEP_INJECT_KILL /
`inject=`): right after its second checkpoint (the first is epoch 0's), either the command's
process group (the attempt fails, Ray retries it) or the Ray worker itself (Ray retries the
lost task). The retry must run with --resume from the checkpoint the kill left, and its final
metrics must equal, bit for bit, those of the same run left alone (the trainer's resume is
bit-identical on the CPU). A second sweep must skip every finished cell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("torch")

from seli_cli.main import main  # noqa: E402
from training.sweep import load_grid, parse_grid, run_sweep  # noqa: E402
from training.sweep.cell import ATTEMPTS_NAME, DONE_NAME, cell_dir  # noqa: E402
from training.sweep.engine import engine  # noqa: E402

pytestmark = pytest.mark.torch

# 100000 epochs of a k=4, n=22 UFM take a few seconds with the compiled engine: long enough
# to be killed after the checkpoint at epoch 10000, short enough for a quick test
FIXED = """
[fixed]
seeds = "0"
n_min = 2
epochs = 100000
checkpoint_every = 10000
log_per_decade = 5
no_progress = true
"""
GRID = 'command = "train ufm"\nretries = 2\n' + FIXED + "[grid]\nR = [1, 10]\n"


@pytest.fixture(scope="module")
def local_engine():
    """The engine as `seli sweep` starts it without --address: a private local Ray, 2 CPUs."""
    with engine(cpus=2) as r:
        assert r.cluster_resources()["CPU"] == 2
        yield r


def _reference_metrics(tmp_path, cell) -> str:
    """The same cell's command, run straight through with no sweep and no kill."""
    out = tmp_path / "reference"
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    subprocess.run([sys.executable, "-m", "seli_cli.main", *cell.argv_command, *cell.args(),
                    "--out", str(out)], check=True, env=env, capture_output=True)
    return (out / "metrics.jsonl").read_text()


def _attempts(out, cell) -> list[dict]:
    return json.loads((cell_dir(out, cell.name) / ATTEMPTS_NAME).read_text())


def test_killed_cell_resumes_from_checkpoint_and_rerun_skips(local_engine, tmp_path, monkeypatch, capsys):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID)
    out = tmp_path / "sweep"
    killed, spared = load_grid(grid_file).cells()[::-1]  # R=10 is killed, R=1 is not
    monkeypatch.setenv("SELI_SWEEP_INJECT_KILL", "command:R=10_*")
    assert main(["sweep", str(grid_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"[finished] {killed.name}: attempts 2, resumed from checkpoint" in text
    assert f"[finished] {spared.name}: attempts 1\n" in text
    assert "2 cells: 2 finished, 0 skipped (finished earlier), 0 failed" in text

    first, second = _attempts(out, killed)
    assert first["status"] == -signal.SIGKILL and not first["resume"]
    assert second["resume"] and "--resume" in second["argv"] and second["status"] == 0
    assert second["checkpoint"] is not None  # the checkpoint the killed attempt left
    rows = [json.loads(line) for line in (cell_dir(out, killed.name) / "metrics.jsonl").open()]
    assert rows[-1]["epoch"] == 100000 and len({r["epoch"] for r in rows}) == len(rows)
    assert (cell_dir(out, killed.name) / "metrics.jsonl").read_text() == _reference_metrics(tmp_path, killed)
    assert [a["resume"] for a in _attempts(out, spared)] == [False]

    # the table and figures come from the folders
    table = (out / "results.csv").read_text().splitlines()
    assert len(table) == 3 and all(",finished," in line for line in table[1:])
    assert {p.name for p in out.glob("summary_*")} == {
        f"summary_{m}.{e}" for m in ("classifiers", "embeddings", "logits") for e in ("png", "pdf")}

    # a second sweep skips both cells and touches nothing in their folders
    markers = {c.name: (cell_dir(out, c.name) / DONE_NAME).stat().st_mtime_ns for c in (killed, spared)}
    monkeypatch.delenv("SELI_SWEEP_INJECT_KILL")
    assert main(["sweep", str(grid_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("[skipped]") == 2 and "0 finished, 2 skipped" in text
    assert markers == {c.name: (cell_dir(out, c.name) / DONE_NAME).stat().st_mtime_ns
                       for c in (killed, spared)}
    assert len(_attempts(out, killed)) == 2


def test_lost_worker_is_retried_and_leaves_no_process(local_engine, tmp_path):
    grid = parse_grid('command = "train ufm"\nretries = 1\n' + FIXED + "[grid]\nR = [5]\n")
    (cell,) = grid.cells()
    report = run_sweep(grid, tmp_path, inject={"mode": "worker", "cells": "*"})
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.attempts, outcome.resumed) == ("finished", 2, True)
    first, second = _attempts(tmp_path, cell)
    assert "status" not in first  # its worker died before it could record an end
    assert second["resume"] and second["checkpoint"] is not None and second["status"] == 0
    folder = str(cell_dir(tmp_path, cell.name))
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit()
            and folder.encode() in _cmdline(p)]
    assert left == []


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def test_refused_flags_are_not_retried(local_engine, tmp_path):
    grid = parse_grid('command = "train ufm"\nretries = 3\n[fixed]\nk = 1\n[grid]\nR = [2]\n')
    report = run_sweep(grid, tmp_path)
    (outcome,) = report.outcomes
    assert outcome.status == "failed" and "refused its flags (exit status 2)" in outcome.error
    assert len(_attempts(tmp_path, grid.cells()[0])) == 1
