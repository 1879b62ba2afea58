"""Run management (training.runio): config, atomic checkpoints, metrics across resume, guard."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from seli_exact.errors import SeliInputError  # noqa: E402
from training import runio  # noqa: E402
from training.runio import MetricsLog, NonFiniteError, RunDir  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Cfg:
    epochs: int = 10
    lr: float = 0.4
    R: tuple = (1, Fraction(5, 2))
    dtype: object = torch.float64
    out: Path = Path("x")


def test_config_dict_is_json_with_resolved_types():
    d = runio.config_dict(Cfg())
    assert d == {"epochs": 10, "lr": 0.4, "R": [1, "5/2"], "dtype": "float64", "out": "x"}
    json.dumps(d)


def test_config_dict_refuses_non_dataclass():
    with pytest.raises(SeliInputError, match=r"`config` must be a dataclass instance; got dict"):
        runio.config_dict({"a": 1})


def test_fresh_run_writes_config_with_environment(tmp_path):
    rd = RunDir(tmp_path / "run", Cfg(), device="cpu")
    assert rd.start() is None
    rec = json.loads((tmp_path / "run" / "config.json").read_text())
    assert rec["config"]["lr"] == 0.4
    env = rec["environment"]
    assert env["torch"] == torch.__version__ and env["numpy"] == np.__version__
    assert "python" in env and "device_name" in env


def test_fresh_run_refuses_a_folder_with_a_run(tmp_path):
    with RunDir(tmp_path, Cfg()) as rd:
        rd.start()
        rd.log({"epoch": 0, "loss": 1.0})
    with pytest.raises(SeliInputError, match=r"already holds a run \(metrics\.csv, "
                                             r"metrics\.jsonl\); pass --resume"):
        RunDir(tmp_path, Cfg()).start()
    # a result file alone is a run too: a fresh start would replace it
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "final.npz").write_bytes(b"results")
    with pytest.raises(SeliInputError, match=r"already holds a run \(final\.npz\)"):
        RunDir(tmp_path / "other", Cfg(), results=("final.npz",)).start()
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["final.npz"]


def test_resume_refuses_a_changed_config(tmp_path):
    RunDir(tmp_path, Cfg()).start()
    MetricsLog(tmp_path).append({"epoch": 0, "loss": 1.0})
    with pytest.raises(SeliInputError, match=r"--resume needs the configuration .* lr: saved 0.4, given 0.5"):
        RunDir(tmp_path, Cfg(lr=0.5), resume=True).start()
    # a field declared resumable may change
    RunDir(tmp_path, Cfg(epochs=20), resume=True, resumable=("epochs",)).start()


def test_resume_drops_rows_after_the_checkpoint_and_restores_state(tmp_path):
    g = torch.Generator().manual_seed(3)
    rd = RunDir(tmp_path, Cfg())
    rd.start()
    for e in range(3):
        rd.log({"epoch": e, "loss": 1.0 / (e + 1)})
    rd.checkpoint({"x": torch.arange(3.0)}, epoch=2, generators=[g])
    expect_next = torch.rand(4, generator=g)  # what the uninterrupted run draws next
    rd.log({"epoch": 3, "loss": 0.25})  # written after the checkpoint: lost in the crash
    rd.close()

    before = (tmp_path / "metrics.csv").read_bytes()
    rd2 = RunDir(tmp_path, Cfg(), resume=True)
    state = rd2.start()
    assert state["epoch"] == 2 and torch.equal(state["x"], torch.arange(3.0))
    assert [r["epoch"] for r in rd2.rows()] == [0, 1, 2]
    # the row after the checkpoint stays on disk until the resumed run logs its replacement
    assert (tmp_path / "metrics.csv").read_bytes() == before
    g2 = torch.Generator()
    runio.restore_rng(state, [g2])
    assert torch.equal(torch.rand(4, generator=g2), expect_next)
    rd2.log({"epoch": 3, "loss": 0.125})
    assert [r["epoch"] for r in rd2.rows()] == [0, 1, 2, 3]
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines == ["epoch,loss", "0,1.0", "1,0.5", "2,0.3333333333333333", "3,0.125"]
    assert MetricsLog(tmp_path).rows() == rd2.rows()


def test_resume_without_checkpoint_starts_afresh_when_only_epoch_0_was_logged(tmp_path):
    """A run of an older version, which logged epoch 0 before its first checkpoint, killed in
    between: nothing is lost by starting again (the row is recomputed as it was)."""
    with RunDir(tmp_path, Cfg()) as rd:
        rd.start()
        rd.log({"epoch": 0, "loss": 1.0})
    before = (tmp_path / "metrics.jsonl").read_bytes()
    rd2 = RunDir(tmp_path, Cfg(), resume=True)
    assert rd2.start() is None
    assert rd2.rows() == []
    assert (tmp_path / "metrics.jsonl").read_bytes() == before  # until the first new row
    rd2.log({"epoch": 0, "loss": 0.5})
    assert MetricsLog(tmp_path).rows() == [{"epoch": 0, "loss": 0.5}]


@pytest.mark.parametrize("damage", ["rows past epoch 0", "final.npz", "csv only"])
def test_resume_without_checkpoint_refuses_to_replace_work(tmp_path, damage):
    """A missing checkpoint beside work a restart from epoch 0 would replace: refused, every
    file byte-identical (before, --resume retrained from epoch 0 and replaced the results)."""
    with RunDir(tmp_path, Cfg(), results=("final.npz",)) as rd:
        rd.start()
        for e in range(3 if damage != "final.npz" else 1):
            rd.log({"epoch": e * 50, "loss": 1.0 / (e + 1)})
    if damage == "final.npz":
        (tmp_path / "final.npz").write_bytes(b"the finished run's arrays")
    if damage == "csv only":  # the JSONL lost; the CSV still holds rows past epoch 0
        (tmp_path / "metrics.jsonl").unlink()
    before = _files(tmp_path)
    match = {"rows past epoch 0": r"replace its metrics up to epoch 100; restore checkpoint\.pt",
             "final.npz": r"replace final\.npz; restore checkpoint\.pt",
             "csv only": r"replace its metrics up to epoch 100;"}[damage]
    with pytest.raises(SeliInputError, match=r"^--resume found no checkpoint\.pt in .*, so the "
                                             r"run would start again from epoch 0 and " + match):
        RunDir(tmp_path, Cfg(), resume=True, results=("final.npz",)).start()
    assert _files(tmp_path) == before

def test_resume_of_a_folder_without_a_run_is_refused_and_creates_nothing(tmp_path):
    with pytest.raises(SeliInputError, match=r"--resume found no run in .*missing \(no "
                                             r"checkpoint\.pt and no metrics\); drop --resume"):
        RunDir(tmp_path / "missing", Cfg(), resume=True).start()
    assert not (tmp_path / "missing").exists()
    RunDir(tmp_path / "empty", Cfg()).start()  # config.json only: nothing to continue
    before = (tmp_path / "empty" / "config.json").read_bytes()
    with pytest.raises(SeliInputError, match=r"--resume found no run in"):
        RunDir(tmp_path / "empty", Cfg(), resume=True).start()
    assert (tmp_path / "empty" / "config.json").read_bytes() == before


def test_empty_out_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SeliInputError, match=r"`--out` must name a folder; got empty text"):
        RunDir("", Cfg()).start()
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_a_corrupt_checkpoint_and_leaves_the_folder_alone(tmp_path):
    with RunDir(tmp_path, Cfg()) as rd:
        rd.start()
        rd.log({"epoch": 0, "loss": 1.0})
        rd.checkpoint({"x": torch.ones(2)}, epoch=0)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    (tmp_path / "checkpoint.pt").write_bytes(good[:100])  # e.g. a copy cut short
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SeliInputError, match=r"--resume cannot read the checkpoint .*checkpoint\.pt "
                                             r"\(.*\); restore it .* or delete it"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    torch.save({"something": "else"}, tmp_path / "checkpoint.pt")
    with pytest.raises(SeliInputError, match=r"found no state, epoch, rng, metrics_rows in the "
                                             r"checkpoint"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    (tmp_path / "checkpoint.pt").write_bytes(good[:100])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing rewritten


def test_resume_refuses_a_corrupt_config_json(tmp_path):
    RunDir(tmp_path, Cfg()).start()
    MetricsLog(tmp_path).append({"epoch": 0, "loss": 1.0})
    (tmp_path / "config.json").write_text("{bad")
    with pytest.raises(SeliInputError, match=r"--resume cannot compare the configuration: .*"
                                             r"config\.json is not a seli config\.json "
                                             r"\(JSONDecodeError"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(SeliInputError, match=r"is not a seli config\.json \(TypeError"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    assert (tmp_path / "config.json").read_text() == "[1, 2]"


def test_out_below_a_file_is_one_sentence(tmp_path):
    (tmp_path / "f").write_text("a file")
    with pytest.raises(SeliInputError, match=r"`--out` .*f/sub cannot be created as a folder "
                                             r"\(Not a directory\); pass a writable folder"):
        RunDir(tmp_path / "f" / "sub", Cfg()).start()
    with pytest.raises(SeliInputError, match=r"`--out` must be a folder; got the file"):
        RunDir(tmp_path / "f", Cfg()).start()


# --------------------------------------------------------------------------- damaged metrics


def _finished_run(folder, rows=6, *, keep_copy=True):
    """A run folder with `rows` rows (mixed types, a None) and a checkpoint after the last one;
    keep_copy=False writes the checkpoint as runs did before checkpoints held the rows."""
    rd = RunDir(folder, Cfg())
    rd.start()
    for e in range(rows):
        rd.log({"epoch": e, "R": "5/2", "loss": 1.0 / (e + 3), "sgd": None if e == 0 else e / 7})
    rd.checkpoint({"x": torch.ones(1)}, epoch=rows - 1)
    rd.close()  # the run ended (its lock released); the object still logs, as after a crash
    if not keep_copy:
        ckpt = torch.load(folder / "checkpoint.pt", weights_only=False)
        del ckpt["rows"]
        torch.save(ckpt, folder / "checkpoint.pt")
    return rd


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def _cut_line(path, line, keep=7):
    """Keep the file up to `keep` characters into line `line` (0-based): a write cut mid-line."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:line]) + lines[line][:keep])


@pytest.mark.parametrize("keep_copy", [True, False], ids=["checkpoint copy", "older checkpoint"])
def test_jsonl_cut_mid_line_is_rebuilt_whole(tmp_path, keep_copy):
    _finished_run(tmp_path, keep_copy=keep_copy)
    good = _files(tmp_path)
    _cut_line(tmp_path / "metrics.jsonl", 2)  # rows 2..5 gone, row 2 half written
    assert len(MetricsLog(tmp_path).rows()) == 2
    rd = RunDir(tmp_path, Cfg(), resume=True)
    assert rd.start()["epoch"] == 5
    assert len(rd.rows()) == 6
    now = _files(tmp_path)
    # rebuilt from the checkpoint's copy, or row by row from the CSV: never fewer rows
    assert now["metrics.jsonl"] == good["metrics.jsonl"] and now["metrics.csv"] == good["metrics.csv"]
    assert MetricsLog(tmp_path).rows() == rd.rows()


@pytest.mark.parametrize("keep_copy", [True, False], ids=["checkpoint copy", "older checkpoint"])
def test_a_garbage_line_is_replaced_by_the_row_it_hid(tmp_path, keep_copy):
    _finished_run(tmp_path, keep_copy=keep_copy)
    good = _files(tmp_path)
    path = tmp_path / "metrics.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = "\x00\x00 not json {\n"
    path.write_text("".join(lines))
    assert [r["epoch"] for r in MetricsLog(tmp_path).rows()] == [0, 1, 2, 4, 5]  # readers skip it
    RunDir(tmp_path, Cfg(), resume=True).start()
    now = _files(tmp_path)
    assert now["metrics.jsonl"] == good["metrics.jsonl"] and now["metrics.csv"] == good["metrics.csv"]


def test_a_row_damaged_in_both_files_refuses_the_resume_and_changes_nothing(tmp_path):
    _finished_run(tmp_path, keep_copy=False)
    _cut_line(tmp_path / "metrics.jsonl", 2)
    _cut_line(tmp_path / "metrics.csv", 4)  # header + rows 0..2, row 3 half written
    before = _files(tmp_path)
    with pytest.raises(SeliInputError, match=r"--resume cannot rebuild metrics\.jsonl: row 4 of "
                                             r"the 6 .* restore the files from a backup"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    assert _files(tmp_path) == before


def test_files_that_disagree_refuse_the_resume(tmp_path):
    # an inserted line shifts the JSONL against the CSV: which is right cannot be told
    _finished_run(tmp_path, keep_copy=False)
    path = tmp_path / "metrics.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + ["garbage\n"] + lines[1:]))
    before = _files(tmp_path)
    with pytest.raises(SeliInputError, match=r"row 3 of the 6 the checkpoint counts is damaged or missing in both .* "
                                             r"\(or they disagree\)"):
        RunDir(tmp_path, Cfg(), resume=True).start()
    assert _files(tmp_path) == before


def test_a_crash_mid_row_after_the_checkpoint_loses_only_that_row(tmp_path):
    rd = _finished_run(tmp_path, rows=4)
    rd.log({"epoch": 4, "R": "5/2", "loss": 0.1, "sgd": 0.5})  # after the checkpoint
    rd.close()
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"epoch": 5, "R": "5/')  # the crash
    rd2 = RunDir(tmp_path, Cfg(), resume=True)
    assert rd2.start()["epoch"] == 3 and [r["epoch"] for r in rd2.rows()] == [0, 1, 2, 3]
    # repaired now (the cut line dropped), the row after the checkpoint kept until replaced
    assert [r["epoch"] for r in MetricsLog(tmp_path).rows()] == [0, 1, 2, 3, 4]
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 1 + 5
    rd2.log({"epoch": 4, "R": "5/2", "loss": 0.1, "sgd": 0.5})
    assert [r["epoch"] for r in MetricsLog(tmp_path).rows()] == [0, 1, 2, 3, 4]


def test_rng_state_round_trip_covers_python_numpy_torch():
    state = runio.rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    runio.restore_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_restore_rng_refuses_a_wrong_generator_count():
    state = runio.rng_state([torch.Generator()])
    with pytest.raises(SeliInputError, match=r"holds 1 generator states but 0 generators"):
        runio.restore_rng(state, [])


def test_checkpoint_write_is_atomic_when_saving_fails(tmp_path, monkeypatch):
    with RunDir(tmp_path, Cfg()) as rd:
        rd.start()
        rd.checkpoint({"x": torch.ones(2)}, epoch=1)
        before = (tmp_path / "checkpoint.pt").read_bytes()

        def broken_save(obj, fh):
            fh.write(b"half a checkpoint")
            raise pickle.PicklingError("cannot pickle this state")

        monkeypatch.setattr(torch, "save", broken_save)
        with pytest.raises(pickle.PicklingError, match="cannot pickle"):
            rd.checkpoint({"x": torch.zeros(2)}, epoch=2)
        assert (tmp_path / "checkpoint.pt").read_bytes() == before
        assert rd.last_checkpoint_epoch == 1
    # a disk that is full: tests/test_run_hostile.py
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "config.json"]


def test_checkpoint_has_the_mode_of_any_other_file(tmp_path):
    """0666 & ~umask, as open() gives config.json and the metrics (not mkstemp's 0600)."""
    import os

    old = os.umask(0o022)
    try:
        with RunDir(tmp_path, Cfg()) as rd:
            rd.start()
            rd.log({"epoch": 0, "loss": 1.0})
            rd.checkpoint({"x": torch.ones(2)}, epoch=0)
        os.umask(0o027)
        with RunDir(tmp_path / "b", Cfg()) as rd:
            rd.start()
            rd.checkpoint({"x": torch.ones(2)}, epoch=0)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir() if p.is_file()}
    assert modes == {"config.json": 0o644, "metrics.csv": 0o644, "metrics.jsonl": 0o644,
                     "checkpoint.pt": 0o644}
    assert (tmp_path / "b" / "checkpoint.pt").stat().st_mode & 0o777 == 0o640


def test_metrics_log_drops_a_line_cut_by_a_crash(tmp_path):
    log = MetricsLog(tmp_path)
    log.append({"epoch": 0, "v": 0.1})
    with open(log.jsonl_path, "a") as fh:
        fh.write('{"epoch": 1, "v"')  # torn write, no newline
    assert MetricsLog(tmp_path).rows() == [{"epoch": 0, "v": 0.1}]


def test_metrics_log_refuses_changed_columns(tmp_path):
    log = MetricsLog(tmp_path)
    log.append({"epoch": 0, "v": 0.1})
    with pytest.raises(SeliInputError, match=r"every metrics row must have the columns \['epoch', 'v'\]"):
        log.append({"epoch": 1, "w": 0.1})


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=5))
def test_metrics_csv_floats_round_trip_exactly(tmp_path_factory, values):
    folder = tmp_path_factory.mktemp("m")
    log = MetricsLog(folder)
    for i, v in enumerate(values):
        log.append({"i": i, "v": v})
    lines = log.csv_path.read_text().splitlines()[1:]
    assert [float(x.split(",")[1]) for x in lines] == values
    assert [r["v"] for r in log.rows()] == values


def test_check_finite_names_quantity_epoch_and_kept_checkpoint(tmp_path):
    runio.check_finite("loss", 1.5, epoch=3)
    with pytest.raises(NonFiniteError, match=r"loss became nan at epoch 7; .* no checkpoint had been written yet"):
        runio.check_finite("loss", float("nan"), epoch=7)
    ck = tmp_path / "checkpoint.pt"
    ck.write_bytes(b"x")
    with pytest.raises(NonFiniteError, match=r"W became inf at epoch 2 \(entries \[1\] of 3\); .* last good checkpoint .*checkpoint.pt is kept"):
        runio.check_finite("W", torch.tensor([1.0, float("inf"), 0.0]), epoch=2, checkpoint=ck)


def test_trainer_progress_line_counts_epochs_and_shows_the_loss(capsys):
    """The trainers' progress (seli_cli.settings.LazyProgress over seli_cli.progress): epochs
    done/total and the postfix the trainer passes; silent off a terminal unless forced."""
    from seli_cli.progress import Progress
    from seli_cli.settings import LazyProgress

    buf = io.StringIO()
    clock = iter([0.0, 3.0, 9.0]).__next__
    line = Progress("seli train ufm", "always", stream=buf, clock=clock, unit="epochs")
    line(4, 10, loss=0.5)
    line(10, 10, loss=0.25)
    assert buf.getvalue().splitlines() == [
        "seli train ufm: 4/10 epochs, 3.0 s elapsed, about 4.5 s left, loss 0.5",
        "seli train ufm: 10/10 epochs, 9.0 s elapsed, loss 0.25",
    ]
    with LazyProgress(10, "t", "auto") as bar:  # capsys' stderr is no terminal: nothing drawn
        bar(10, loss=0.1)
    with LazyProgress(10, "t", "never") as bar:
        bar(10)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@given(st.integers(0, 10**6), st.integers(1, 30))
def test_log_epochs_are_sorted_distinct_and_cover_the_ends(total, per_decade):
    pts = runio.log_epochs(total, per_decade)
    assert pts[0] == 0 and pts[-1] == total
    assert all(a < b for a, b in zip(pts, pts[1:]))
    if total >= 10:
        # about per_decade points in the last decade (log spacing, not linear)
        last = [p for p in pts if p > total / 10]
        assert len(last) <= per_decade + 2
