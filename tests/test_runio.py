"""Run management (training.runio): config, atomic checkpoints, metrics across resume, guard."""

from __future__ import annotations

import dataclasses
import io
import json
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
from training.runio import MetricsLog, NonFiniteError, Progress, RunDir  # noqa: E402


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
    rd = RunDir(tmp_path, Cfg())
    rd.start()
    rd.log({"epoch": 0, "loss": 1.0})
    with pytest.raises(SeliInputError, match=r"already holds a run .* pass --resume"):
        RunDir(tmp_path, Cfg()).start()


def test_resume_refuses_a_changed_config(tmp_path):
    RunDir(tmp_path, Cfg()).start()
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

    rd2 = RunDir(tmp_path, Cfg(), resume=True)
    state = rd2.start()
    assert state["epoch"] == 2 and torch.equal(state["x"], torch.arange(3.0))
    assert [r["epoch"] for r in rd2.rows()] == [0, 1, 2]
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines == ["epoch,loss", "0,1.0", "1,0.5", "2,0.3333333333333333"]
    g2 = torch.Generator()
    runio.restore_rng(state, [g2])
    assert torch.equal(torch.rand(4, generator=g2), expect_next)
    rd2.log({"epoch": 3, "loss": 0.25})
    assert [r["epoch"] for r in rd2.rows()] == [0, 1, 2, 3]


def test_resume_without_checkpoint_starts_afresh(tmp_path):
    rd = RunDir(tmp_path, Cfg())
    rd.start()
    rd.log({"epoch": 0, "loss": 1.0})
    rd2 = RunDir(tmp_path, Cfg(), resume=True)
    assert rd2.start() is None
    assert rd2.rows() == []


def test_resume_refuses_a_corrupt_checkpoint_and_leaves_the_folder_alone(tmp_path):
    rd = RunDir(tmp_path, Cfg())
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
    rd = RunDir(tmp_path, Cfg())
    rd.start()
    rd.checkpoint({"x": torch.ones(2)}, epoch=1)
    before = (tmp_path / "checkpoint.pt").read_bytes()

    def broken_save(obj, fh):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        rd.checkpoint({"x": torch.zeros(2)}, epoch=2)
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "config.json"]


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


def test_progress_prints_only_when_enabled(capsys):
    buf = io.StringIO()
    with Progress(10, desc="t", file=buf) as bar:
        bar(4, loss=0.5)
        bar(10)
    assert "10/10" in buf.getvalue()
    with Progress(10, enabled=False) as bar:
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
