"""Run folders under hostile conditions: a full disk (a real small tmpfs, and writes made to fail
after N bytes in-process), a missing checkpoint beside finished work, a run killed before its
first row, a mistyped --epochs, and a training that runs for a long time into a log file."""

from __future__ import annotations

import builtins
import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from seli_cli.main import main  # noqa: E402
from seli_exact.errors import SeliOutputError  # noqa: E402
from training.deepnet import DeepNetConfig, train  # noqa: E402
from training.runio import MetricsLog, RunDir, has_run  # noqa: E402
from training.ufm import UFMConfig, train_ufm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# the CLI prints SeliOutputError as one line and exits 1 once seli_cli.main handles it
CLI_HANDLES_OUTPUT_ERRORS = "SeliOutputError" in (ROOT / "seli_cli" / "main.py").read_text()
UFM = dict(R=(1, 10), seeds=(0, 1), n_target=44, epochs=60, checkpoint_every=7,
           log_per_decade=10)
UFM_FLAGS = ["--R", "1,10", "--seeds", "0,1", "--n-target", "44", "--epochs", "60",
             "--checkpoint-every", "7", "--log-per-decade", "10", "--no-progress"]
DEEP = dict(dataset="digits", arch="mlp", width=16, R=10, n_min=2, epochs=4, batch_size=16,
            metrics_every="epoch", checkpoint_every=2, threads=1)


def _files(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _canon(obj):
    """A checkpoint's or a row's content, comparable with ==: tensors and arrays as their bytes,
    the wall-clock "seconds" (which no two runs share) left out."""
    import numpy as np

    if isinstance(obj, torch.Tensor):
        return ("tensor", str(obj.dtype), tuple(obj.shape), obj.cpu().numpy().tobytes())
    if isinstance(obj, np.ndarray):
        return ("array", str(obj.dtype), obj.shape, obj.tobytes())
    if isinstance(obj, dict):
        return {k: _canon(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, (list, tuple)):
        return [_canon(v) for v in obj]
    return obj


def _run(folder) -> dict:
    """A run folder's content, with only the wall-clock seconds of deep-net rows and summaries
    taken out; everything else must match bit for bit between runs in one process."""
    import csv
    import io

    out = {}
    for p in sorted(Path(folder).iterdir()):
        if p.name == "checkpoint.pt":
            out[p.name] = _canon(torch.load(p, weights_only=False))
        elif p.name in ("metrics.jsonl", "summary.json"):
            text = p.read_text()
            out[p.name] = _canon([json.loads(x) for x in text.splitlines()] if p.suffix == ".jsonl"
                                 else json.loads(text))
        elif p.name == "metrics.csv":
            out[p.name] = [_canon(r) for r in csv.DictReader(io.StringIO(p.read_text()))]
        else:
            out[p.name] = p.read_bytes()
    return out


# --------------------------------------------------------------------------- a filling disk


class DiskFull:
    """Writes into files under `folder` fail with ENOSPC once `budget` bytes have gone in; the
    write that crosses the budget first writes the part that fits, as on a disk filling up.

    It stands in for os.write, os.fdopen and open (the ways this project writes files), so it
    catches every write of a run whichever helper makes it."""

    def __init__(self, folder: Path, budget: float):
        self.folder = str(Path(folder).resolve())
        self.budget = budget
        self.used = 0
        self.failed: list[str] = []
        self._write, self._fdopen, self._open = os.write, os.fdopen, builtins.open

    def _ours(self, fd: int) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(self.folder + os.sep)
        except OSError:
            return False

    def take(self, n: int, write) -> int:
        room = self.budget - self.used
        if n <= room:
            self.used += n
            return write(n)
        if room > 0:
            write(int(room))
            self.used += int(room)
        self.failed.append(str(n))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def os_write(self, fd, data):
        if not self._ours(fd):
            return self._write(fd, data)
        view = memoryview(data)
        return self.take(len(view), lambda n: self._write(fd, view[:n]))

    def wrap(self, fh):
        disk = self

        class Writer:
            def write(self, data):
                view = memoryview(data) if not isinstance(data, str) else data
                return disk.take(len(view), lambda n: fh.write(view[:n]))

            def __getattr__(self, name):
                return getattr(fh, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

        return Writer()

    def os_fdopen(self, fd, mode="r", *a, **kw):
        fh = self._fdopen(fd, mode, *a, **kw)
        return self.wrap(fh) if any(c in mode for c in "wax+") and self._ours(fd) else fh

    def open(self, file, mode="r", *a, **kw):
        fh = self._open(file, mode, *a, **kw)
        writes = isinstance(file, (str, Path)) and any(c in mode for c in "wax+")
        return self.wrap(fh) if writes and self._ours(fh.fileno()) else fh


@pytest.fixture
def disk_full(monkeypatch):
    """disk_full(folder, budget): from now on, that folder's disk holds `budget` more bytes."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to tell which files a write goes to")

    def arm(folder, budget):
        disk = DiskFull(folder, budget)
        monkeypatch.setattr(os, "write", disk.os_write)
        monkeypatch.setattr(os, "fdopen", disk.os_fdopen)
        monkeypatch.setattr(builtins, "open", disk.open)
        return disk

    yield arm
    monkeypatch.undo()


def _assert_whole_after_failure(folder: Path, err: SeliOutputError) -> None:
    """What a failed write must leave: one sentence naming a file of the run, no lock, no
    temporary file, a checkpoint that loads, and metric files holding the same whole rows."""
    text = str(err)
    assert text.startswith(f"cannot write {folder}") and "No space left on device" in text
    assert "\n" not in text
    names = {p.name for p in folder.iterdir()}
    assert "run.lock" not in names and not [n for n in names if n.endswith(".tmp")], names
    if "checkpoint.pt" in names:
        torch.load(folder / "checkpoint.pt", weights_only=False)
    scan = MetricsLog(folder).scan()
    assert not scan.damaged and len(scan.jsonl) == len(scan.csv), "a half-written row stayed"
    assert all(scan.consistent(i) for i in range(len(scan.jsonl)))


def _bytes_written(tmp_path, trainer) -> int:
    """How many bytes a whole run writes (a disk that never fills, counting)."""
    folder = tmp_path / "count"
    disk = DiskFull(folder, float("inf"))
    saved = os.write, os.fdopen, builtins.open
    os.write, os.fdopen, builtins.open = disk.os_write, disk.os_fdopen, disk.open
    try:
        trainer(folder, False)
    finally:
        os.write, os.fdopen, builtins.open = saved
    return disk.used


def _ufm(folder, resume):
    return train_ufm(UFMConfig(**UFM), folder, resume=resume)


def _deep(folder, resume):
    return train(DeepNetConfig(**DEEP), out=folder, resume=resume)


@pytest.mark.parametrize("trainer, points", [(_ufm, 16), (_deep, 5)], ids=["ufm", "deepnet"])
def test_a_disk_filling_at_any_byte_loses_nothing(tmp_path, disk_full, trainer, points):
    """The disk fills after N bytes, for N spread over everything a run writes: the write that
    fails is a SeliOutputError naming its file, what was written before stays whole (no half
    row, a checkpoint that loads), and once there is room again the run goes on from its last
    checkpoint to the same bytes as a run that never failed (one process: bit for bit)."""
    whole = tmp_path / "whole"
    trainer(whole, False)
    reference = _run(whole)
    total = _bytes_written(tmp_path, trainer)
    assert total > sum(len(p.read_bytes()) for p in whole.iterdir())  # checkpoints are replaced
    budgets = sorted({0, 1, 100} | {total * i // points for i in range(1, points)})
    failures = 0
    for budget in budgets:
        folder = tmp_path / f"b{budget}"
        disk = disk_full(folder, budget)
        try:
            trainer(folder, False)
        except SeliOutputError as err:
            disk.budget = float("inf")  # room again (also for the checks below)
            failures += 1
            _assert_whole_after_failure(folder, err)
        else:
            pytest.fail(f"a run writing {total} bytes finished on a disk holding {budget}")
        trainer(folder, has_run(folder))  # as `seli sweep` retries a cell: --resume if begun
        assert _run(folder) == reference, budget
    assert failures == len(budgets)


def test_a_metric_row_cut_by_a_full_disk_is_taken_back_from_both_files(tmp_path, disk_full):
    """The JSONL half of a row fails: the CSV half already written is cut out again."""
    with RunDir(tmp_path, UFMConfig(**UFM)) as rd:
        rd.start()
        rd.log({"epoch": 0, "loss": 1.5})
        before = _files(tmp_path)
        csv_line = len("1,0.75\n")
        disk_full(tmp_path, csv_line + 5)  # the CSV line fits, 5 bytes of the JSON line do
        with pytest.raises(SeliOutputError, match=r"cannot write .*metrics\.jsonl: No space"):
            rd.log({"epoch": 1, "loss": 0.75})
    assert _files(tmp_path) == {k: v for k, v in before.items() if k != "run.lock"}


def test_checkpoint_on_a_full_disk_keeps_the_previous_one(tmp_path, disk_full):
    with RunDir(tmp_path, UFMConfig(**UFM)) as rd:
        rd.start()
        rd.checkpoint({"x": torch.ones(3)}, epoch=1)
        before = (tmp_path / "checkpoint.pt").read_bytes()
        disk_full(tmp_path, 1000)
        with pytest.raises(SeliOutputError, match=r"cannot write .*checkpoint\.pt: No space left"):
            rd.checkpoint({"x": torch.zeros(10_000)}, epoch=2)
        assert (tmp_path / "checkpoint.pt").read_bytes() == before
        assert rd.last_checkpoint_epoch == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "config.json"]


# --------------------------------------------------------------------------- a real full disk


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs of its own (mount needs root; skipped where it is refused)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()

    def mount(size: str):
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip() or p.returncode})")
        return mnt

    yield mount
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Write a file until the disk is full."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as err:
                    assert err.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


SCRIPT = """
import sys, time
from seli_cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _seli(*argv, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.slow  # three CLI processes on a real tmpfs (about 30 s); the in-process
# injection above covers the same writes in the quick profile
def test_a_real_disk_full_from_the_start_and_filling_during_training(tmp_path, tmpfs):
    disk = tmpfs("4m")
    # all but one page full before anything is written (a disk with no byte free at all is
    # refused at the command line, seli_cli.args): the first write that does not fit fails
    filler = _fill(disk)
    os.truncate(filler, filler.stat().st_size - 4096)
    p = _seli("train", "ufm", "--out", str(disk / "full"), *UFM_FLAGS)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 1, err
    assert "cannot write" in err and "No space left on device" in err
    if CLI_HANDLES_OUTPUT_ERRORS:
        assert err.startswith(f"error: cannot write {disk / 'full'}") and err.count("\n") == 1
    assert not (disk / "full" / "run.lock").exists()
    filler.unlink()

    # the disk fills while the run trains: the run stops on the failed write, keeps its last
    # checkpoint and whole rows, and finishes once there is room again
    flags = ["--R", "1,10", "--seeds", "0,1", "--n-target", "44", "--epochs", "3000",
             "--checkpoint-every", "100", "--log-per-decade", "20", "--progress", "always"]
    run = disk / "run"
    p = _seli("train", "ufm", "--out", str(run), *flags)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.pt").exists() or not (run / "metrics.csv").exists():
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.01)
    filler = _fill(disk)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert "cannot write" in last and "No space left on device" in last, err
    if CLI_HANDLES_OUTPUT_ERRORS:
        assert last.startswith(f"error: cannot write {run}") and "Traceback" not in err
    ckpt = torch.load(run / "checkpoint.pt", weights_only=False)
    assert 0 <= ckpt["epoch"] < 3000
    scan = MetricsLog(run).scan()
    assert not scan.damaged and not (run / "run.lock").exists()
    filler.unlink()
    p = _seli("train", "ufm", "--out", str(run), *flags, "--resume")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    ref = tmp_path / "ref"
    p = _seli("train", "ufm", "--out", str(ref), *flags)
    assert p.communicate(timeout=300) and p.returncode == 0
    for name in ("metrics.csv", "metrics.jsonl", "final.npz"):
        assert (run / name).read_bytes() == (ref / name).read_bytes(), name


# --------------------------------------------------------------------------- no silent restart


def test_resume_without_a_checkpoint_beside_finished_work_is_refused(tmp_path, capsys):
    """It once retrained from epoch 0 and replaced the finished results, exit 0."""
    out = tmp_path / "ufm"
    assert main(["train", "ufm", "--out", str(out), *UFM_FLAGS]) == 0
    (out / "checkpoint.pt").unlink()
    before = _files(out)
    assert main(["train", "ufm", "--out", str(out), *UFM_FLAGS, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --resume found no checkpoint.pt in {out}, so the run would "
                          "start again from epoch 0 and replace its metrics up to epoch 60 and "
                          "final.npz; restore checkpoint.pt") and err.count("\n") == 1
    assert _files(out) == before

    deep = tmp_path / "deep"
    flags = ["--width", "16", "--n-min", "2", "--epochs", "3", "--batch-size", "16",
             "--no-progress"]
    assert main(["train", "deepnet", "--out", str(deep), *flags]) == 0
    (deep / "checkpoint.pt").unlink()
    before = _files(deep)
    assert main(["train", "deepnet", "--out", str(deep), *flags, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "replace its metrics up to epoch 3 and final.npz and summary.json" in err
    assert _files(deep) == before


class Killed(BaseException):
    pass


@pytest.mark.parametrize("trainer", [_ufm, _deep], ids=["ufm", "deepnet"])
def test_a_run_killed_between_its_first_checkpoint_and_first_row_resumes(tmp_path, monkeypatch,
                                                                          trainer):
    """The first checkpoint comes before the first row, so a run killed in between has a
    checkpoint (and no rows): --resume measures epoch 0 and goes on, to the same bytes."""
    trainer(tmp_path / "whole", False)

    def killed(self, row):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(RunDir, "log", killed)
        with pytest.raises(Killed):
            trainer(tmp_path / "cut", False)
    cut = tmp_path / "cut"
    assert (cut / "checkpoint.pt").exists() and not MetricsLog(cut).exists()
    assert not (cut / "run.lock").exists()
    assert has_run(cut)  # so the sweep retries it with --resume
    trainer(cut, True)
    assert _run(cut) == _run(tmp_path / "whole")


def test_an_older_run_killed_after_its_first_row_starts_afresh(tmp_path):
    """Before the first checkpoint came first, a run could die after logging epoch 0 alone:
    --resume starts it afresh, since that row is all there was and it comes out the same."""
    _ufm(tmp_path / "whole", False)
    cut = tmp_path / "cut"
    _ufm(cut, False)
    rows = MetricsLog(cut).rows()
    keep = [r for r in rows if r["epoch"] == 0]
    for p in list(cut.iterdir()):
        if p.name != "config.json":
            p.unlink()
    MetricsLog(cut).rewrite(keep)
    _ufm(cut, True)
    assert _run(cut) == _run(tmp_path / "whole")


# --------------------------------------------------------------------------- time


def test_a_mistyped_epoch_count_is_refused_with_the_estimate(tmp_path, capsys):
    out = tmp_path / "run"
    # (check_only: the checks `run` makes first; a check that let it through would train for days)
    assert main(["train", "ufm", "--out", str(out), "--epochs", "1e9", "--no-progress"],
                check_only=True) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: training 12 UFM runs for 1000000000 epochs would take an "
                          "estimated ") and err.count("\n") == 1
    assert "days on this CPU, more than the limit of 1 h; pass --allow-long" in err
    assert not out.exists()
    assert main(["train", "ufm", "--out", str(out), "--epochs", "1e9", "--allow-long"],
                check_only=True) == 0
    assert main(["reproduce", "fig2", "--out", str(out), "--epochs", "1e6"], check_only=True) == 2
    assert "would take an estimated" in capsys.readouterr().err and not out.exists()
    # cuda is not estimated: nothing measured there
    assert main(["train", "deepnet", "--out", str(out), "--epochs", "1e6", "--device", "cuda"],
                check_only=True) == 0


def test_every_training_the_readme_shows_passes_the_time_check(tmp_path, monkeypatch, capsys):
    """The limit leaves room for every training command README.md shows (Fig 4, the long-tail
    Fig 4, Fig 2 on digits, ...): none of them needs --allow-long."""
    from tests.test_readme import SHOWN

    monkeypatch.chdir(tmp_path)
    Path("my_counts.txt").write_text("500\n120\n40\n9\n3\n")
    shown = [s.argv for s in SHOWN if not s.error  # (an example of a refusal shows its error)
             and s.argv[:2] in (("train", "ufm"), ("train", "deepnet"), ("reproduce", "fig2"),
                                ("reproduce", "fig4"))]
    assert len(shown) >= 10
    for argv in shown:
        assert main(list(argv), check_only=True) == 0, (argv, capsys.readouterr().err)


def test_the_estimates_of_the_papers_runs_are_in_the_measured_range():
    """The estimate is meant to tell minutes from days, not to time a run; on the machine the
    constants were fitted on it is within 5x of the times measured there (Fig 4: 40-137 s; the
    long-tail Fig 4: 166-494 s; Fig 2 on digits: 75-180 s for R = 1, 10, 100)."""
    fig4 = UFMConfig().seconds_estimate()
    lt = UFMConfig(profile="exp:k=10:ratio=1,10,100:n_max=100").seconds_estimate()
    fig2 = sum(DeepNetConfig(R=R).seconds_estimate() for R in (1, 10, 100))
    assert 137 / 5 < fig4 < 40 * 5 and 494 / 5 < lt < 166 * 5 and 180 / 5 < fig2 < 75 * 5
    assert UFMConfig(epochs=10**9).seconds_estimate() > 1e4 * fig4 * 0.99  # linear in epochs


# --------------------------------------------------------------------------- never quiet


def test_a_long_training_into_a_log_writes_a_line_each_heartbeat(tmp_path, monkeypatch, capsys):
    """stderr is no terminal here (as in a log file or a pipe): a heartbeat line per period,
    after the first, with epochs done/total and an ETA; never more often."""
    import seli_cli.settings as settings

    beat = 0.2
    monkeypatch.setattr(settings, "HEARTBEAT_S", beat)
    t0 = time.monotonic()
    assert main(["train", "ufm", "--out", str(tmp_path / "run"), "--R", "1,10", "--seeds", "0,1",
                 "--epochs", "6000", "--checkpoint-every", "200"]) == 0
    took = time.monotonic() - t0
    lines = capsys.readouterr().err.splitlines()
    assert took > 3 * beat, "too quick to show a heartbeat"
    assert lines, f"a run of {took:.1f} s wrote no heartbeat"
    assert len(lines) <= took / beat + 1
    for line in lines:
        assert line.startswith("seli train ufm: ") and "/6000 epochs, " in line
    assert any(" left" in line for line in lines)
