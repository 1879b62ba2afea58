"""Interrupted UFM runs resume bit-identically on CPU; a NaN stops a run and keeps its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from training import _ufm_kernel  # noqa: E402
from training.runio import NonFiniteError  # noqa: E402
from training.ufm import UFMConfig, train_ufm  # noqa: E402

ENGINES = ["torch"] + (["kernel"] if _ufm_kernel.load() is not None else [])


def small(engine: str, **kw) -> UFMConfig:
    base = dict(R=(1, 10), seeds=(0, 1), n_target=48, epochs=60, checkpoint_every=7,
                log_per_decade=10, engine=engine, threads=2 if engine == "kernel" else 0)
    return UFMConfig(**(base | kw))


@pytest.mark.parametrize("engine", ENGINES)
def test_injected_interruption_then_resume_is_bit_identical(tmp_path, engine):
    cfg = small(engine)
    whole = train_ufm(cfg, tmp_path / "whole")
    part = train_ufm(cfg, tmp_path / "cut", stop_after=25)  # stops mid-way, past checkpoints 7..21
    assert part.epochs_done == 25 < cfg.epochs
    done = train_ufm(cfg, tmp_path / "cut", resume=True)
    assert done.epochs_done == cfg.epochs
    assert torch.equal(done.Wt, whole.Wt) and torch.equal(done.Ht, whole.Ht)
    for name in ("metrics.csv", "metrics.jsonl"):
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert done.rows == whole.rows


SCRIPT = """
import sys, time
from training.ufm import UFMConfig, train_ufm
cfg = UFMConfig(R=(1, 10), seeds=(0, 1), n_target=48, epochs=int(sys.argv[2]),
                checkpoint_every=5, log_per_decade=10, engine="torch")
train_ufm(cfg, sys.argv[1], resume=len(sys.argv) > 3, progress=lambda e, **_: time.sleep(0.01))
"""


def _checkpoint_epoch(path) -> int:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False)["epoch"])
    except (FileNotFoundError, EOFError, RuntimeError):
        return -1


def test_killed_process_resumes_to_the_uninterrupted_metrics(tmp_path):
    epochs = 300
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))  # the repo root
    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(cut), str(epochs)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if _checkpoint_epoch(cut / "checkpoint.pt") >= 20:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = _checkpoint_epoch(cut / "checkpoint.pt")
    assert 20 <= killed_at < epochs
    subprocess.run([sys.executable, "-c", SCRIPT, str(cut), str(epochs), "resume"], env=env,
                   check=True)
    whole = tmp_path / "whole"
    subprocess.run([sys.executable, "-c", SCRIPT, str(whole), str(epochs)], env=env, check=True)
    rows_cut = [json.loads(x) for x in (cut / "metrics.jsonl").read_text().splitlines()]
    rows_whole = [json.loads(x) for x in (whole / "metrics.jsonl").read_text().splitlines()]
    assert rows_cut == rows_whole
    assert max(r["epoch"] for r in rows_cut) == epochs
    assert (cut / "metrics.csv").read_bytes() == (whole / "metrics.csv").read_bytes()
    a = torch.load(cut / "checkpoint.pt", weights_only=False)
    b = torch.load(whole / "checkpoint.pt", weights_only=False)
    assert a["epoch"] == b["epoch"]
    assert torch.equal(a["state"]["Wt"], b["state"]["Wt"]) and torch.equal(a["state"]["Ht"], b["state"]["Ht"])


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, engine):
    # lr 20 with the summed loss diverges (W and H feed each other's growth) after ~57 epochs
    cfg = UFMConfig(R=(10,), seeds=(0,), n_target=24, epochs=500, lrs=(20.0,), reduction="sum",
                    checkpoint_every=10, engine=engine)
    with pytest.raises(NonFiniteError, match=r"run 0 \(R=10, seed=0, lr=20.0\) became nan at epoch \d+.*"
                                             r"last good checkpoint .*checkpoint.pt is kept"):
        train_ufm(cfg, tmp_path)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert 0 < ck["epoch"] < cfg.epochs
    assert bool(torch.isfinite(ck["state"]["Wt"]).all()) and bool(torch.isfinite(ck["state"]["Ht"]).all())
    # resuming reproduces the failure (deterministic), it does not silently continue
    with pytest.raises(NonFiniteError):
        train_ufm(cfg, tmp_path, resume=True)
