"""One process per run folder (training.runlock): a second run is refused with one sentence and
changes nothing, a stale lock is taken over, two runs started at the same instant cannot both
pass the "folder already holds a run" check, and the lock goes when the run ends however it ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from seli_exact.errors import SeliInputError, SeliOutputError  # noqa: E402
from training.deepnet import DeepNetConfig, train  # noqa: E402
from training.runio import MetricsLog, NonFiniteError, RunDir  # noqa: E402
from training.runlock import RunLock, alive  # noqa: E402
from training.ufm import UFMConfig, train_ufm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SMALL = UFMConfig(R=(1, 10), seeds=(0, 1), n_target=44, epochs=20, log_per_decade=5)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


def _dead_pid() -> int:
    """The PID of a process that has ended (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _plant(folder: Path, **record) -> None:
    base = {"pid": os.getpid(), "host": socket.gethostname(), "started": "2024-01-01T00:00:00Z",
            "pid_start": None, "token": "planted"}
    (folder / "run.lock").write_text(json.dumps(base | record) + "\n")


# --------------------------------------------------------------------------- the lock itself


def test_a_second_run_in_a_live_run_is_refused_and_changes_nothing(tmp_path):
    with RunDir(tmp_path, SMALL) as first:
        first.start()
        first.log({"epoch": 0, "loss": 1.0})
        before = _files(tmp_path)
        lock = json.loads((tmp_path / "run.lock").read_text())
        assert lock["pid"] == os.getpid() and lock["host"] == socket.gethostname()
        assert lock["started"].endswith("Z")
        for resume in (False, True):
            with pytest.raises(SeliInputError, match=rf"^`--out` {tmp_path} is in use by another "
                                                     rf"run \(PID {os.getpid()} on this host, "
                                                     r"started .*\); wait for it to end"):
                RunDir(tmp_path, SMALL, resume=resume).start()
            assert _files(tmp_path) == before
    assert "run.lock" not in _files(tmp_path)  # released when the run ended


@pytest.mark.parametrize("how", ["dead pid", "reused pid", "zombie"])
def test_a_stale_lock_of_this_host_is_taken_over(tmp_path, how):
    if how == "dead pid":
        _plant(tmp_path, pid=_dead_pid())
    elif how == "reused pid":  # our PID is alive, but it was not us who took the lock
        from training.runlock import _proc_start

        if _proc_start(os.getpid()) is None:
            pytest.skip("no /proc to read a process's start time from")
        _plant(tmp_path, pid_start=_proc_start(os.getpid()) - 1)
    else:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        while Path(f"/proc/{child.pid}").exists() and \
                Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z":
            time.sleep(0.01)  # ended but not reaped: a zombie, which holds nothing
        _plant(tmp_path, pid=child.pid)
    rd = RunDir(tmp_path, SMALL)
    assert rd.start() is None
    assert json.loads((tmp_path / "run.lock").read_text())["token"] != "planted"
    rd.close()
    assert not (tmp_path / "run.lock").exists()
    if how == "zombie":
        child.wait()


def test_a_lock_of_another_host_is_refused_with_how_to_remove_it(tmp_path):
    _plant(tmp_path, host="node-elsewhere", pid=4242, started="2024-05-01T12:00:00Z")
    before = _files(tmp_path)
    with pytest.raises(SeliInputError, match=rf"^`--out` {tmp_path} is locked by a run on host "
                                             r"node-elsewhere \(PID 4242, started "
                                             r"2024-05-01T12:00:00Z\); if that run is no longer "
                                             rf"alive, delete {tmp_path}/run\.lock and start "
                                             r"again\.$"):
        RunDir(tmp_path, SMALL).start()
    assert _files(tmp_path) == before
    (tmp_path / "run.lock").write_text("\x00garbage")  # e.g. a crash while it was written
    with pytest.raises(SeliInputError, match=r"holds a lock file .*run\.lock that cannot be "
                                             r"read; if no run is using the folder, delete"):
        RunDir(tmp_path, SMALL).start()
    (tmp_path / "run.lock").unlink()
    with RunDir(tmp_path, SMALL) as rd:
        rd.start()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    _plant(tmp_path, pid=1)  # someone took it over (wrongly judged stale)
    lock.release()
    assert json.loads((tmp_path / "run.lock").read_text())["token"] == "planted"


def test_alive():
    assert alive(os.getpid()) and not alive(_dead_pid())
    assert not alive(0) and not alive(-5) and not alive(True)


# --------------------------------------------------------------------------- however a run ends


class Stop(BaseException):
    pass


@pytest.mark.parametrize("ending", ["KeyboardInterrupt", "NonFiniteError", "SeliOutputError",
                                    "refused"])
def test_the_lock_goes_however_the_run_ends(tmp_path, monkeypatch, ending):
    out = tmp_path / "run"
    if ending == "KeyboardInterrupt":
        def stop(epoch, **_):
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            train_ufm(SMALL, out, progress=stop)
    elif ending == "NonFiniteError":
        cfg = UFMConfig(R=(10,), seeds=(0,), n_target=24, epochs=500, lrs=(20.0,),
                        reduction="sum", checkpoint_every=10)
        with pytest.raises(NonFiniteError):
            train_ufm(cfg, out)
    elif ending == "SeliOutputError":
        import errno

        def full(self, row):
            raise SeliOutputError(f"cannot write {out}: {os.strerror(errno.ENOSPC)}")
        monkeypatch.setattr(MetricsLog, "append", full)
        with pytest.raises(SeliOutputError):
            train(DeepNetConfig(dataset="digits", width=16, n_min=2, epochs=2, batch_size=16),
                  out=out)
        monkeypatch.undo()
    else:
        train_ufm(SMALL, out)
        with pytest.raises(SeliInputError, match="--resume needs the configuration"):
            train_ufm(UFMConfig(R=(1, 10), seeds=(0, 2), n_target=44, epochs=20,
                                log_per_decade=5), out, resume=True)
    assert not (out / "run.lock").exists()
    train_ufm(SMALL, tmp_path / "next")  # and nothing else is held


# --------------------------------------------------------------------------- real processes


START = """
import os, sys, time
import training.deepnet, training.ufm  # the heavy imports before the start line
from seli_cli.main import main
from training.runio import RunDir
go, pause = sys.argv[1], float(sys.argv[2])
if pause:  # widen the window between looking at the folder and writing into it
    look = RunDir._holding
    RunDir._holding = lambda self: (look(self), time.sleep(pause))[0]
while not os.path.exists(go):
    time.sleep(0.0005)
sys.exit(main(sys.argv[3:]))
"""


def _spawn(go: Path, argv: list[str], pause: float = 0.0) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", START, str(go), str(pause), *argv], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


UFM_ARGV = ["train", "ufm", "--R", "1,10", "--seeds", "0,1", "--n-target", "44",
            "--checkpoint-every", "5000", "--no-progress"]
DEEP_ARGV = ["train", "deepnet", "--width", "16", "--n-min", "2", "--batch-size", "16",
             "--threads", "1", "--no-progress"]


def _rows(folder: Path) -> list[dict]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in lines]


def _keys(rows) -> list[tuple]:
    return [(r["epoch"], r.get("run")) for r in rows]


def _alone(tmp_path, argv, capsys) -> list[dict]:
    """The rows of the same command run alone (in this process: the same kernels)."""
    from seli_cli.main import main

    ref = tmp_path / "ref"
    assert main([*argv, "--out", str(ref)]) == 0
    capsys.readouterr()
    return _rows(ref)


@pytest.mark.parametrize("argv, epochs", [
    (UFM_ARGV, "100000"),
    pytest.param(DEEP_ARGV, "300", marks=pytest.mark.slow),  # the same lock: thorough only
], ids=["ufm", "deepnet"])
def test_a_resume_started_while_the_run_trains_is_refused(tmp_path, argv, epochs, capsys):
    """A fresh run, and a --resume of its folder started while it trains: the second is
    refused at once (exit 2, one sentence naming the first's PID), the first finishes with no
    duplicated (epoch, run) rows and the rows a run alone gives."""
    out, go, go2 = tmp_path / "run", tmp_path / "go", tmp_path / "go2"
    argv = [*argv, "--epochs", epochs]
    first = _spawn(go, [*argv, "--out", str(out)])
    second = _spawn(go2, [*argv, "--out", str(out), "--resume"])  # imports while it waits
    go.touch()
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.pt").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.005)
    go2.touch()
    _, err = second.communicate(timeout=300)
    assert first.poll() is None, "the first run ended before the second started: lengthen it"
    assert second.returncode == 2, err
    assert err.startswith(f"error: `--out` {out} is in use by another run (PID {first.pid} on "
                          "this host") and err.count("\n") == 1
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    rows = _rows(out)
    assert len(set(_keys(rows))) == len(rows)
    assert rows == _alone(tmp_path, argv, capsys)
    assert not (out / "run.lock").exists()


@pytest.mark.parametrize("argv, epochs", [
    (UFM_ARGV, "3000"),
    pytest.param(DEEP_ARGV, "30", marks=pytest.mark.slow),  # the same lock: thorough only
], ids=["ufm", "deepnet"])
def test_two_runs_started_at_the_same_instant_train_once(tmp_path, argv, epochs, capsys):
    """Both wait on one start line and begin within a millisecond, and each takes a second
    between looking at the folder and writing into it (a slow disk, a busy machine): the lock is
    taken before the folder is looked at, so exactly one trains; the other is refused and its
    rows never mix in. (Without the lock both find the folder empty and both train.)"""
    out, go = tmp_path / "run", tmp_path / "go"
    argv = [*argv, "--epochs", epochs]
    procs = [_spawn(go, [*argv, "--out", str(out)], pause=1.0) for _ in range(2)]
    time.sleep(5)  # both have imported torch and wait on the start line
    go.touch()
    results = [p.communicate(timeout=600) for p in procs]
    codes = sorted(p.returncode for p in procs)
    errs = [e for (_, e), p in zip(results, procs) if p.returncode == 2]
    assert codes == [0, 2], results
    assert errs[0].count("\n") == 1 and (
        "is in use by another run" in errs[0] or "already holds a run" in errs[0]), errs[0]
    rows = _rows(out)
    assert len(set(_keys(rows))) == len(rows)
    assert rows == _alone(tmp_path, argv, capsys)
