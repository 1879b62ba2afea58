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
import time
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("torch")

from seli_cli.main import main  # noqa: E402
from seli_exact.errors import SeliInputError  # noqa: E402
from training.sweep import gather, load_grid, parse_grid, run_sweep  # noqa: E402
from training.sweep.cell import ATTEMPTS_NAME, DONE_NAME, cell_dir  # noqa: E402
from training.sweep.engine import engine  # noqa: E402

pytestmark = pytest.mark.torch

# 100000 epochs of a k=4, n=88 UFM take a second or two with the compiled engine: long enough
# to be killed after the checkpoint at epoch 10000, short enough for a quick test
FIXED = """
[fixed]
seeds = "0"
n_min = 4
epochs = 100000
checkpoint_every = 10000
log_per_decade = 5
no_progress = true
"""
GRID = 'command = "train ufm"\nretries = 2\n' + FIXED + "[grid]\nR = [1, 5, 10]\n"


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


def _no_process_in(folder) -> bool:
    mark = str(folder).encode()
    return not [p for p in Path("/proc").iterdir() if p.name.isdigit() and mark in _cmdline(p)]


def test_killed_cells_resume_from_checkpoint_and_rerun_skips(local_engine, tmp_path, monkeypatch,
                                                             capsys):
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text(GRID)
    out = tmp_path / "sweep"
    spared, lost, killed = load_grid(grid_file).cells()  # R = 1, 5, 10
    # R=5: its Ray worker dies (Ray retries the lost task); R=10: its command is killed (the
    # attempt fails, Ray retries it); R=1 is left alone
    monkeypatch.setenv("SELI_SWEEP_INJECT_KILL", "worker:R=5_*,command:R=10_*")
    assert main(["sweep", str(grid_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for c in (lost, killed):
        assert f"[finished] {c.name}: attempts 2, resumed from checkpoint" in text
    assert f"[finished] {spared.name}: attempts 1\n" in text
    assert "3 cells: 3 finished, 0 skipped (finished earlier), 0 failed" in text

    first, second = _attempts(out, killed)
    assert first["status"] == -signal.SIGKILL and not first["resume"]
    assert second["resume"] and "--resume" in second["argv"] and second["status"] == 0
    assert second["checkpoint"] is not None  # the checkpoint the killed attempt left
    first, second = _attempts(out, lost)
    assert "status" not in first  # its worker died before it could record an end
    assert second["resume"] and second["checkpoint"] is not None and second["status"] == 0
    assert _no_process_in(cell_dir(out, lost.name))  # the dead worker's command went with it
    assert [a["resume"] for a in _attempts(out, spared)] == [False]

    rows = [json.loads(x) for x in (cell_dir(out, killed.name) / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["epoch"] == 100000 and len({r["epoch"] for r in rows}) == len(rows)
    # resumed bit for bit: the same metrics as the run left alone
    assert (cell_dir(out, killed.name) / "metrics.jsonl").read_text() == _reference_metrics(tmp_path, killed)

    # the table and figures come from the folders
    table = (out / "results.csv").read_text().splitlines()
    assert len(table) == 4 and all(",finished," in line for line in table[1:])
    assert {p.name for p in out.glob("summary_*")} == {
        f"summary_{m}.{e}" for m in ("classifiers", "embeddings", "logits") for e in ("png", "pdf")}

    # a second sweep skips every cell and touches nothing in their folders
    cells = (spared, lost, killed)
    markers = {c.name: (cell_dir(out, c.name) / DONE_NAME).stat().st_mtime_ns for c in cells}
    monkeypatch.delenv("SELI_SWEEP_INJECT_KILL")
    assert main(["sweep", str(grid_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("[skipped]") == 3 and "0 finished, 3 skipped" in text
    assert markers == {c.name: (cell_dir(out, c.name) / DONE_NAME).stat().st_mtime_ns for c in cells}
    assert len(_attempts(out, killed)) == 2


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


@pytest.mark.slow  # about 20 s alone (a second driver joins by --address): thorough profile
def test_driver_death_loses_nothing_finished(local_engine, tmp_path, capsys):
    """A driver joined by --address is SIGKILLed: its commands die with it, finished cells stay
    finished, and the next sweep resumes the rest from their checkpoints."""
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text('command = "train ufm"\n' + FIXED.replace("100000", "30000").replace(
        "checkpoint_every = 10000", "checkpoint_every = 3000") + "[grid]\nR = [1, 100]\n")
    short, long = load_grid(grid_file).cells()  # R=100 trains about 50 times longer than R=1
    out = tmp_path / "sweep"
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen([sys.executable, "-m", "seli_cli.main", "sweep", str(grid_file),
                               "--out", str(out), "--address", address],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not ((cell_dir(out, short.name) / DONE_NAME).exists()
                   and (cell_dir(out, long.name) / "checkpoint.pt").exists()):
            assert driver.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        driver.kill()
        driver.wait()
    assert not (cell_dir(out, long.name) / DONE_NAME).exists()
    time.sleep(1.5)  # the guard polls its parent twice a second
    assert _no_process_in(cell_dir(out, long.name))

    assert main(["sweep", str(grid_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"[skipped] {short.name}" in text
    assert f"[finished] {long.name}: attempts 2, resumed from checkpoint" in text
    assert _attempts(out, long)[1]["checkpoint"] is not None


def test_path_cells_are_rerun_whole(local_engine, tmp_path):
    """`seli path` cells have no checkpoint: a killed one simply runs again, without --resume."""
    grid = parse_grid('command = "path"\nretries = 1\n[fixed]\nlambdas = "1e-1,1e-4"\n'
                      "[grid]\nR = [2, 10]\n")
    report = run_sweep(grid, tmp_path, inject=[{"mode": "command", "cells": "R=10_*"}])
    assert [(o.status, o.attempts, o.resumed) for o in report.outcomes] == [
        ("finished", 1, False), ("finished", 2, False)]
    table = gather(grid, tmp_path)
    direct = subprocess.run([sys.executable, "-m", "seli_cli.main", "path", "--lambdas", "1e-1,1e-4",
                             "--R", "10", "--json"], capture_output=True, text=True, check=True)
    end = json.loads(direct.stdout)["points"][-1]
    row = table.rows[1]
    assert (row["R"], row["lambda"]) == (10, end["lambda"]) == (10, 1e-4)
    assert row["dist_seli_classifiers"] == end["dist_seli"]["classifiers"]
    # Proposition 2: at small lam the solution points at SELI, not at the ETF (R = 10)
    assert row["dist_seli_classifiers"] < row["dist_etf_classifiers"]


def test_gpu_cells_need_a_gpu_locally(local_engine, tmp_path):
    grid = parse_grid('command = "train ufm"\n[fixed]\ndevice = "cuda"\n[grid]\nR = [2]\n')
    with pytest.raises(SeliInputError, match=r"asks for 1 GPU but this machine's engine has 0"):
        run_sweep(grid, tmp_path)


GPU_PROBE = """
import json, sys, ray
from training.sweep import parse_grid, run_sweep
ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
grid = parse_grid('command = "train ufm"\\nretries = 0\\n[resources]\\ngpus = 1\\n'
                  '[fixed]\\ndevice = "cuda"\\n[grid]\\nR = [2, 10]\\n')
report = run_sweep(grid, sys.argv[1])
print(json.dumps([o.status for o in report.outcomes]))
"""


@pytest.mark.slow  # a second Ray instance (declaring 2 GPUs on this CPU machine): about 20 s
def test_gpu_cells_get_their_own_gpu(tmp_path):
    """Ray hands each GPU cell one device of its own through CUDA_VISIBLE_DEVICES.

    The machine has no GPU, so the engine is told it has two, and the cells' command refuses
    --device cuda (exit 2, not retried); what matters is what the engine handed them."""
    run = subprocess.run([sys.executable, "-c", GPU_PROBE, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1]) == ["failed", "failed"]  # refused, not retried
    seen = sorted(json.loads((d / ATTEMPTS_NAME).read_text())[0]["cuda_visible_devices"]
                  for d in (tmp_path / "cells").iterdir())
    assert len(seen) == 2 and all(s in ("0", "1") for s in seen)  # one device each


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


def test_unreachable_address_is_one_sentence_at_once(tmp_path, capsys):
    """An address where nothing listens: one sentence within seconds, nothing created."""
    from training.sweep.engine import parse_address

    port = _closed_port()
    out = tmp_path / "sweep"
    t = time.monotonic()
    code = main(["sweep", str(Path(__file__).parent.parent / "examples" / "sweep_path.toml"),
                 "--address", f"127.0.0.1:{port}", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - t < 30
    assert err.startswith(f"error: `--address` 127.0.0.1:{port} cannot be reached") and \
        err.count("\n") == 1
    assert not out.exists()
    assert parse_address("ray://h:10001") == ("h", 10001)
    for bad in ("h", "h:0", "h:99999", "http://h:1", ":1", "h:x"):
        with pytest.raises(SeliInputError, match="must be auto, HOST:PORT or ray://HOST:PORT"):
            parse_address(bad)


def test_address_that_is_not_ray_is_one_sentence_within_seconds(tmp_path):
    """Something listens but is no Ray cluster: the GCS probe says so in one sentence within
    seconds (Ray's own join once gave 61 lines after 21 s); nothing is created."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 404 Not Found\r\n\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    grid = Path(__file__).parent.parent / "examples" / "sweep_path.toml"
    code = ("import sys; from seli_cli.main import main; "
            f"sys.exit(main(['sweep', {str(grid)!r}, '--address', '127.0.0.1:{port}', "
            f"'--out', {str(tmp_path / 'out')!r}]))")
    t = time.monotonic()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    server.close()
    assert p.returncode == 2 and time.monotonic() - t < 60, p.stderr
    assert p.stderr.startswith(f"error: `--address` 127.0.0.1:{port} does not answer as a Ray "
                               "cluster") and p.stderr.count("\n") == 1, p.stderr
    assert not (tmp_path / "out").exists()
