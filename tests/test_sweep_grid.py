"""Sweep grids: TOML validation, the cartesian product, cell names and flags (no engine needed)."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import pytest

from seli_exact.errors import SeliInputError
from training.sweep import grid as grid_mod
from training.sweep.grid import flag_words, load_grid, parse_grid

UFM = """
command = "train ufm"
retries = 1
[resources]
cpus = 1
[fixed]
epochs = 100
lr = 0.4
n_min = 5
[grid]
R = [1, 10, 100]
seed = [0, 1]
"""


def test_doctests():
    assert doctest.testmod(grid_mod).failed == 0


def test_cartesian_product_first_key_slowest():
    g = parse_grid(UFM)
    cells = g.cells()
    assert [c.varied for c in cells] == [
        (("R", R), ("seed", s)) for R in (1, 10, 100) for s in (0, 1)
    ]
    c = cells[3]  # R=10, seed=1
    assert c.args() == ["--epochs", "100", "--lr", "0.4", "--n-min", "5", "--R", "10", "--seed", "1"]
    assert c.argv_command == ("train", "ufm") and c.trains
    assert (c.cpus, c.gpus) == (1.0, 0.0) and g.retries == 1


def test_names_are_deterministic_readable_and_unique():
    a, b = parse_grid(UFM).cells(), parse_grid(UFM).cells()
    assert [c.name for c in a] == [c.name for c in b]
    assert len({c.name for c in a}) == len(a)
    assert a[3].name.startswith("R=10_seed=1_")
    # a change of a fixed flag is a different cell: its folder cannot be taken for the old one
    other = parse_grid(UFM.replace("epochs = 100", "epochs = 200")).cells()
    assert {c.name for c in a}.isdisjoint({c.name for c in other})
    # names survive JSON (how the spec travels to the engine)
    assert json.loads(json.dumps(a[0].to_dict()))["name"] == a[0].name


def test_flag_words():
    assert flag_words([("float64", True), ("cuda-graphs", False), ("lambdas", ("1", "0.1"))]) == [
        "--float64", "--lambdas", "1", "0.1"]
    g = parse_grid('command = "path"\n[fixed]\nlambdas = [1.0, 1e-3]\n[grid]\ncounts = ["5,5,1", "9,1"]\n')
    assert [c.args() for c in g.cells()] == [
        ["--lambdas", "1.0", "0.001", "--counts", "5,5,1"],
        ["--lambdas", "1.0", "0.001", "--counts", "9,1"],
    ]
    assert [c.name.split("_")[0] for c in g.cells()] == ["counts=5~5~1", "counts=9~1"]


def test_gpu_cells_ask_for_gpus():
    g = parse_grid('command = "train deepnet"\n[resources]\ngpus = 0.5\n[grid]\ndevice = ["cpu", "cuda"]\n')
    assert [(c.value("device"), c.gpus) for c in g.cells()] == [("cpu", 0.0), ("cuda", 0.5)]
    g = parse_grid('command = "train deepnet"\n[fixed]\ndevice = "cuda"\n[grid]\nseed = [0]\n')
    assert g.cells()[0].gpus == 1.0


@pytest.mark.parametrize("text, match", [
    ("command = 'train ufm'\n[grid]\nR = [1,,2]\n", r"is not valid TOML \(.+line 3.+\); fix the syntax"),
    ("command = 'train cnn'\n[grid]\nR = [1]\n", r"`command` in <grid> must be one of .*got 'train cnn'"),
    ("[grid]\nR = [1]\n", r"`command` .* got None"),
    ("command = 'path'\nseeds = 3\n[grid]\nR = [1]\n", r"unknown top-level key 'seeds'"),
    ("command = 'path'\n", r"needs a \[grid\] table"),
    ("command = 'path'\n[grid]\nR = 10\n", r"\[grid\] R .* must be a non-empty list of values; got 10"),
    ("command = 'path'\n[grid]\nR = []\n", r"non-empty list"),
    ("command = 'path'\n[grid]\nR = [1, 1]\n", r"lists a value twice"),
    ("command = 'path'\n[grid]\nR = [1, '1']\n", r"lists a value twice \(\[1, '1'\]\)"),
    ("command = 'path'\n[fixed]\nR = 1\n[grid]\nR = [2]\n", r"'R' is in both \[fixed\] and \[grid\]"),
    ("command = 'path'\n[fixed]\nn_min = 1\nn-min = 2\n[grid]\nR = [2]\n", r"gives --n-min twice"),
    ("command = 'train ufm'\n[fixed]\nout = 'x'\n[grid]\nR = [2]\n", r"--out is set by the sweep"),
    ("command = 'train ufm'\n[grid]\nresume = [true]\n", r"--resume is set by the sweep"),
    ("command = 'path'\nretries = -1\n[grid]\nR = [2]\n", r"`retries` .* >= 0; got -1"),
    ("command = 'path'\n[resources]\ncpus = 0\n[grid]\nR = [2]\n", r"cpus .* number > 0; got 0"),
    ("command = 'path'\n[resources]\nmemory = 4\n[grid]\nR = [2]\n", r"unknown key 'memory'"),
    ("command = 'path'\n[fixed]\nwhen = 1979-05-27\n[grid]\nR = [2]\n", r"must be a number, text.*date"),
    ("command = 'path'\n[fixed]\nx = [[1]]\n[grid]\nR = [2]\n", r"nests lists too deeply"),
    ("command = 'path'\n[fixed]\nx = nan\n[grid]\nR = [2]\n", r"is nan"),
    ("command = 'train ufm'\n[resources]\ngpus = 0\n[fixed]\ndevice = 'cuda'\n[grid]\nR = [2]\n",
     r"run on device cuda but \[resources\] gpus = 0"),
    ("command = 'path'\n[grid]\n'--R' = [2]\n", r"key '--R' .* is not a flag name"),
])
def test_bad_grids_are_one_sentence(text, match):
    with pytest.raises(SeliInputError, match=match) as info:
        parse_grid(text)
    assert "\n" not in str(info.value)


def test_load_grid_checks_the_file(tmp_path):
    with pytest.raises(SeliInputError, match=r"must be TOML"):
        load_grid(tmp_path / "grid.yaml")
    with pytest.raises(SeliInputError, match=r"cannot be read .* check the path"):
        load_grid(tmp_path / "missing.toml")
    p = tmp_path / "g.toml"
    p.write_text(UFM)
    assert load_grid(p).source == str(p)
    p.write_bytes(b"\xff\xfecommand = 'path'\n")  # UTF-16 from a Windows editor
    with pytest.raises(SeliInputError, match=r"g\.toml' is not UTF-8 text \(byte 0\); save it"):
        load_grid(p)


@pytest.mark.parametrize("example", sorted((Path(__file__).parents[1] / "examples").glob("sweep_*.toml")))
def test_examples_parse(example):
    g = load_grid(example)
    assert g.cells()


def test_import_is_light():
    code = ("import sys, training.sweep, seli_cli.sweep; "
            "print(sorted(m for m in ('torch', 'ray', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("example", sorted((Path(__file__).parents[1] / "examples").glob("sweep_*.toml")))
def test_examples_pass_the_commands_own_parsers(example):
    from seli_cli.sweep import validate_cells

    validate_cells(load_grid(example).cells())


def test_cli_rejects_a_flag_the_command_does_not_have(tmp_path, capsys):
    from seli_cli.main import main

    grid = tmp_path / "g.toml"
    grid.write_text('command = "train ufm"\n[fixed]\ncolour = 10\n[grid]\nR = [1, 10]\n')
    assert main(["sweep", str(grid), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: grid cell R=1_") and "unrecognized arguments: --colour 10" in err
    assert "\n" not in err and not (tmp_path / "out").exists()  # nothing started


@pytest.mark.parametrize("command, table, match", [
    ("train ufm", "[fixed]\nlr = 'abc'\n[grid]\nR = [1, 10]\n",
     r"^error: grid cell R=1_\w+: `(--)?lr` must be a number; got (the text )?'abc'\."),
    ("train ufm", "[grid]\nR = [1, 10]\nd = [16, 2]\n",
     r"^error: grid cell R=1_d=2_\w+: `d` must be at least k-1 = 3"),
    ("train deepnet", "[grid]\nR = [10, 0.5]\n",
     r"^error: grid cell R=0\.5_\w+: `R` must be (at least 1|in \[1, )"),
])
def test_cli_dry_run_checks_values_not_only_flags(tmp_path, capsys, command, table, match):
    """A value the trainer refuses is found before any cell starts, not by every cell failing."""
    from seli_cli.main import main

    grid = tmp_path / "g.toml"
    grid.write_text(f'command = "{command}"\n' + table)
    assert main(["sweep", str(grid), "--dry-run", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert __import__("re").search(match, err) and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_cli_dry_run_lists_cells(tmp_path, capsys):
    from seli_cli.main import main

    grid = tmp_path / "g.toml"
    grid.write_text('command = "path"\n[fixed]\nlambdas = "1e-1,1e-3"\n[grid]\nR = [2, 10]\nk = [4]\n')
    assert main(["sweep", str(grid), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("seli path --lambdas 1e-1,1e-3 --R 2 --k 4")
    assert lines[-1] == f"2 cells of `seli path` into {Path('runs') / 'g' / 'cells'}"


@pytest.mark.parametrize("argv, match", [
    (["--cpus", "0"], r"`--cpus` must be in \[1, 4096\]; got --cpus=0"),
    (["--cpus", "1e400"], r"`--cpus` must be a whole number with an exponent of at most 300"),
    (["--cpus", "2", "--address", "auto"], r"`--cpus` sizes the local engine"),
    (["--dry-run", "--gather-only"], r"^error: --dry-run and --gather-only cannot be used together"),
    (["--address", "http://x"], r"`--address` must be auto, HOST:PORT or ray://HOST:PORT"),
    (["--gather-only", "--address", "auto"], r"--gather-only runs nothing; drop --address"),
])
def test_cli_bad_options(tmp_path, capsys, argv, match):
    from seli_cli.main import main

    grid = tmp_path / "g.toml"
    grid.write_text('command = "path"\n[grid]\nR = [2]\n')
    assert main(["sweep", str(grid), *argv]) == 2
    err = capsys.readouterr().err
    assert __import__("re").search(match, err) and err.count("\n") == 1


@pytest.mark.parametrize("extra", [[], ["--gather-only"]])
def test_cli_out_that_is_a_file_is_one_sentence(tmp_path, capsys, extra):
    from seli_cli.main import main

    grid = tmp_path / "g.toml"
    grid.write_text('command = "path"\n[grid]\nR = [2]\n')
    (tmp_path / "f").write_text("a file")
    assert main(["sweep", str(grid), "--out", str(tmp_path / "f"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: `--out` must be a folder; got '{tmp_path / 'f'}', which is a file.")
    assert err.count("\n") == 1 and (tmp_path / "f").read_text() == "a file"


def test_inject_variable_is_checked(monkeypatch):
    from seli_cli.sweep import _inject

    monkeypatch.setenv("SELI_SWEEP_INJECT_KILL", "worker:R=5_*,command:R=10_*")
    assert _inject() == [{"mode": "worker", "cells": "R=5_*"}, {"mode": "command", "cells": "R=10_*"}]
    monkeypatch.setenv("SELI_SWEEP_INJECT_KILL", "boom:*")
    with pytest.raises(SeliInputError, match=r"must be MODE:GLOB.*got 'boom:\*'"):
        _inject()


def test_cli_progress_line_counts_cells_done_of_total(tmp_path, capsys, monkeypatch):
    """`seli sweep` feeds its progress line (seli_cli.progress) one call per cell that ends,
    with the number of cells it runs as the total; the events' own lines are not disturbed."""
    import io

    import training.sweep
    from seli_cli import sweep as sweep_cli
    from seli_cli.main import main
    from seli_cli.progress import Progress
    from training.sweep.engine import CellOutcome, SweepReport

    grid = tmp_path / "g.toml"
    grid.write_text('command = "path"\n[fixed]\nlambdas = "1e-1"\n[grid]\nR = [2, 5, 10]\n')
    calls, stream = [], io.StringIO()

    class Recorded(Progress):
        def __call__(self, done, total):
            calls.append((done, total))
            super().__call__(done, total)

        @classmethod
        def from_args(cls, args, label):
            assert args.progress == "always"
            return cls(label, "always", stream=stream, delay=0.0)

    def fake_run_sweep(grid, out, address=None, cpus=None, inject=None, on_event=None):
        cells = grid.cells()
        on_event("skipped", cells[0].name, "finished earlier")
        for c in cells[1:]:
            on_event("submitted", c.name, "1 CPU")
        on_event("finished", cells[1].name, "attempts 1")
        on_event("failed", cells[2].name, "boom")
        return SweepReport(out, [CellOutcome(cells[0].name, "skipped"),
                                 CellOutcome(cells[1].name, "finished", 1),
                                 CellOutcome(cells[2].name, "failed", 1, error="boom")])

    monkeypatch.setattr(sweep_cli, "Progress", Recorded)
    monkeypatch.setattr(training.sweep, "run_sweep", fake_run_sweep)
    code = main(["sweep", str(grid), "--out", str(tmp_path / "out"), "--progress", "always"])
    assert code == 1  # one cell failed
    assert calls == [(1, 2), (2, 2)]
    assert "seli sweep: 1/2 cells" in stream.getvalue()
    out = capsys.readouterr().out
    assert "[finished] R=5_" in out and "[failed] R=10_" in out


def test_help_explains_the_summary_error_bars(capsys):
    from seli_cli.main import main

    assert main(["sweep", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "error bar spans the smallest to the largest of those runs" in text
    assert "--progress" in text


def test_summary_figure_says_what_its_bars_are(tmp_path, monkeypatch):
    """The title of a summary figure names the mean and the range; the series keep how many
    runs each point averages."""
    import importlib

    from training.sweep.gather import Table, summary_series, write_summary

    gather_mod = importlib.import_module("training.sweep.gather")  # the package's `gather` is
    # the function of that name

    grid = parse_grid('command = "train ufm"\n[grid]\nR = [1, 10]\nseed = [0, 1]\n')
    rows = [{"cell": f"c{R}{s}", "status": "finished", "R": R, "seed": s,
             "seli_classifiers": 0.1 * R + s, "etf_classifiers": 0.2 * R + s}
            for R in (1, 10) for s in (0, 1)]
    table = Table(["cell", "status", "R", "seed", "seli_classifiers", "etf_classifiers"], rows)
    series = summary_series(table, grid)
    assert {s.runs for s in series} == {(2, 2)}
    seli = next(s for s in series if s.target == "seli")
    assert seli.mean == pytest.approx([0.6, 1.5]) and seli.low == pytest.approx([0.1, 1.0])
    assert seli.high == pytest.approx([1.1, 2.0])
    titles = []
    real_savefig = gather_mod.atomic_savefig

    def spy(fig, stem, *a, **k):
        titles.append(fig.axes[0].get_title())
        return real_savefig(fig, stem, *a, **k)

    monkeypatch.setattr(gather_mod, "atomic_savefig", spy)
    assert write_summary(table, grid, tmp_path)
    assert titles and "bars: their min to max" in titles[0]
