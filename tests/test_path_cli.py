"""`seli path` and `seli reproduce fig3`: JSON schema, table, errors (exit 2), figure files."""

import csv
import io
import json
import math
import re

import pytest

from seli_cli.main import main
from seli_exact.regpath import GAP_TARGET

POINT_KEYS = {"lambda", "objective", "duality_gap", "dist_seli", "dist_etf", "min_margin",
              "direction_error"}
DIST_KEYS = {"classifiers", "embeddings", "logits"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_path_json_schema(capsys):
    code, out, err = run(capsys, "path", "--lambdas", "1e-1,1e-4", "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert obj["solver"] == "structured"
    assert obj["class_counts"] == [50, 50, 5, 5]
    assert [p["lambda"] for p in obj["points"]] == [0.1, 1e-4]
    assert obj["gap_target"] == GAP_TARGET
    for p in obj["points"]:
        assert POINT_KEYS <= set(p)
        assert set(p["dist_seli"]) == DIST_KEYS and set(p["dist_etf"]) == DIST_KEYS
        assert 0 <= p["duality_gap"] < 1e-12 * p["objective"] + 1e-30
        assert p["certified"] is True
        assert p["min_margin"] > 0
    # the path moves toward SELI as lam shrinks (Prop. 2)
    a, b = obj["points"]
    assert b["direction_error"] < a["direction_error"]


def test_path_logspace_and_counts(capsys):
    code, out, _ = run(capsys, "path", "--counts", "7,3,1", "--lambdas", "logspace:-3:0:4",
                       "--json")
    obj = json.loads(out)
    assert code == 0 and len(obj["points"]) == 4
    assert obj["points"][0]["lambda"] == 1.0 and obj["points"][-1]["lambda"] == pytest.approx(1e-3)


def test_path_table(capsys):
    code, out, err = run(capsys, "path", "--lambdas", "1e-2")
    assert code == 0 and err == ""
    assert "regularization path of (7)" in out and "SELI W" in out
    row = [line for line in out.splitlines() if line.startswith(" 1.00e-02")]
    assert len(row) == 1 and " yes |" in row[0]


def test_path_help_explains_every_column(capsys):
    try:
        code = main(["path", "--help"])
    except SystemExit as exc:  # argparse's own exit, where main does not catch it
        code = exc.code
    out = capsys.readouterr().out
    assert code == 0
    for column in ("lambda", "objective", "gap", "rel.gap", "cert", "SELI W/M/WM", "ETF W/M",
                   "margin", "dir.err"):
        assert f"\n  {column} " in out, column
    assert f"{GAP_TARGET:.1e}" in out and "--strict" in out


def test_path_table_marks_undefined_values(capsys):
    """lam >= sigma_max: Z = 0, so distances and margins are undefined: "-", not nan."""
    code, out, _ = run(capsys, "path", "--counts", "3,3,3", "--lambdas", "5")
    row = [line for line in out.splitlines() if line.startswith(" 5.00e+00")][0]
    assert code == 0 and "nan" not in out and row.count(" - ") >= 5 and " yes |" in row


def uncertify(monkeypatch, lam_bad):
    """Make every point at lam_bad come back uncertified (its true certificate, a worse M)."""
    from seli_exact.regpath import rows, solver

    real = solver.solve_regpath_point

    def broken(counts, lam, **kw):
        p = real(counts, lam, **kw)
        if lam != lam_bad:
            return p
        return solver.certified_point(counts, lam, 0.9 * p.M, 0, "newton")

    monkeypatch.setattr(rows, "solve_regpath_point", broken)


def test_uncertified_points_are_flagged_and_named(capsys, monkeypatch):
    uncertify(monkeypatch, 1e-3)
    code, out, err = run(capsys, "path", "--lambdas", "1e-1,1e-3")
    rows = {line[:9]: line for line in out.splitlines() if line.startswith(" 1.00e-0")}
    assert code == 0
    assert " yes |" in rows[" 1.00e-01"] and "  NO |" in rows[" 1.00e-03"]
    assert err.count("\n") == 1 and err.startswith("warning: 1 of 2 points not certified")
    assert "lambda = 0.001;" in err
    code, out, err = run(capsys, "path", "--lambdas", "1e-1,1e-3", "--json")
    obj = json.loads(out)
    assert code == 0 and [p["certified"] for p in obj["points"]] == [True, False]
    assert obj["points"][1]["relative_gap"] > GAP_TARGET and "0.001" in err
    code, _, _ = run(capsys, "path", "--lambdas", "1e-1,1e-3", "--strict")
    assert code == 1


@pytest.mark.parametrize("argv,match", [
    (["--lambdas", "logspace:1:2"], "logspace:A:B:N"),
    (["--lambdas", "-1"], r"in \[1e-100, 1e\+100\]"),
    (["--lambdas", "1e300"], r"in \[1e-100, 1e\+100\]"),
    (["--lambdas", "1e-300"], "underflows float64"),
    (["--lambdas", "1e400"], "exponent of at most 300"),
    (["--lambdas", "1e-2", "--counts", "5,0"], "whole number >= 1"),
    (["--solver", "mosek"], "invalid choice"),
    (["--cvxpy-solver", "CLARABEL"], "only applies with --solver cvxpy"),
    (["--progress", "sometimes"], "invalid choice"),
    (["--lambdas", "1e-2", "--counts", ",".join(["3"] * 41)], "at most 40 classes"),
])
def test_path_errors_exit_2_with_one_sentence(capsys, argv, match):
    code, out, err = run(capsys, "path", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(match, err)


@pytest.mark.cvxpy
def test_path_cvxpy_solver_agrees(capsys):
    pytest.importorskip("cvxpy")
    argv = ["path", "--counts", "3,2,1", "--lambdas", "0.1", "--json"]
    _, out_s, _ = run(capsys, *argv)
    _, out_c, _ = run(capsys, *argv, "--solver", "cvxpy", "--cvxpy-solver", "CLARABEL")
    s, c = json.loads(out_s)["points"][0], json.loads(out_c)["points"][0]
    assert json.loads(out_c)["solver"] == "cvxpy-CLARABEL"
    assert c["objective"] == pytest.approx(s["objective"], rel=1e-5)
    assert c["duality_gap"] >= s["duality_gap"]  # the same certificate, honest for both
    assert c["dist_seli"]["classifiers"] == pytest.approx(s["dist_seli"]["classifiers"], abs=1e-3)


def test_fig3_writes_png_pdf_csv(tmp_path, capsys):
    code, out, err = run(capsys, "reproduce", "fig3", "--out", str(tmp_path), "--R", "2,10",
                         "--lambdas", "logspace:-4:0:3")
    assert code == 0 and err == ""
    for name in ("fig3.png", "fig3.pdf", "fig3.csv"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "fig3.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "fig3.pdf").read_bytes()[:4] == b"%PDF"
    with (tmp_path / "fig3.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["R"] for r in rows} == {"2", "10"}
    for r in rows:
        assert 390 <= int(r["n"]) <= 410  # n about 400 as in Sec. 5
        assert float(r["dist_seli_classifiers"]) > 0 and float(r["min_margin"]) > 0
        assert abs(float(r["relative_gap"])) < 1e-12 and r["certified"] == "True"


def test_fig3_legends_cover_no_panel_and_title_gives_the_n_run():
    """Every legend lies outside every panel (so no curve is hidden), and the title names the n
    that was run (R = 1000 forces n_min = 1, n = 2002), not a fixed "n = 400"."""
    from figures.fig3 import draw_fig3
    from seli_exact.regpath.rows import fig3_rows

    rows = fig3_rows([2, 1000], [1e-2])
    fig = draw_fig3(rows, [2, 1000])
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        assert legends
        for leg in legends:
            box = leg.get_window_extent(renderer)
            for ax in fig.axes:
                assert not box.overlaps(ax.get_window_extent(renderer))
        title = fig._suptitle.get_text()
        assert "402 to 2002" in title and "400" not in title.replace("402", "")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_fig3_marks_uncertified_points(tmp_path, capsys, monkeypatch):
    uncertify(monkeypatch, 1e-3)
    code, out, err = run(capsys, "reproduce", "fig3", "--out", str(tmp_path), "--R", "2",
                         "--lambdas", "1e-1,1e-3")
    with (tmp_path / "fig3.csv").open() as fh:
        flags = [r["certified"] for r in csv.DictReader(fh)]
    assert code == 0 and flags == ["True", "False"]
    assert err.count("\n") == 1 and "R=2 lambda=0.001" in err


@pytest.mark.parametrize("argv,match", [
    (["--R", "2,2"], "lists a ratio twice"),
    (["--R", ""], "must be a comma-separated list"),
    (["--R", "2,,5"], "has an empty item"),
    (["--R", "1e9"], r"in \[1, 10000\]"),
    (["--lambdas", "nan"], "must be a number"),
])
def test_fig3_bad_arguments(tmp_path, capsys, argv, match):
    code, out, err = run(capsys, "reproduce", "fig3", "--out", str(tmp_path), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert re.search(match, err)
    assert list(tmp_path.iterdir()) == []


def test_fig3_bad_out_is_refused_before_any_work(tmp_path, capsys):
    afile = tmp_path / "a_file"
    afile.write_text("keep")
    code, _, err = run(capsys, "reproduce", "fig3", "--out", str(afile), "--R", "2")
    assert code == 2 and "which is a file" in err and afile.read_text() == "keep"
    code, _, err = run(capsys, "reproduce", "fig3", "--out", "", "--R", "2")
    assert code == 2 and "would mean the current folder" in err
    code, _, err = run(capsys, "reproduce", "fig3", "--out", "/proc/fig3", "--R", "2")
    assert code == 2 and "system folder" in err


def test_fig3_bad_R(tmp_path, capsys):
    code, _, err = run(capsys, "reproduce", "fig3", "--out", str(tmp_path), "--R", "0")
    assert code == 2 and "`R` must be in [1, 10000]; got R=0" in err


def test_path_json_zero_solution_has_nulls(capsys):
    """lam >= sigma_max(Zhat): Z_lam = 0, distances and margins undefined -> JSON null."""
    code, out, _ = run(capsys, "path", "--counts", "3,3,3", "--lambdas", "5", "--json")
    p = json.loads(out)["points"][0]
    assert code == 0 and p["method"] == "zero" and p["rank"] == 0
    assert p["dist_seli"]["classifiers"] is None and p["direction_error"] is None
    assert p["objective"] == pytest.approx(9 * math.log(3))


def test_path_cvxpy_missing_is_one_sentence(capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cvxpy", None)  # import cvxpy now raises ImportError
    code, out, err = run(capsys, "path", "--lambdas", "0.1", "--solver", "cvxpy")
    assert code == 2 and out == ""
    assert "optional dependency cvxpy" in err and err.count("\n") == 1


# --- the progress line (seli_cli.progress) ---------------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def ticking(*times):
    it = iter(times)
    return lambda: next(it)


def test_progress_is_silent_off_a_terminal_and_during_the_delay():
    from seli_cli.progress import Progress

    quiet = io.StringIO()
    p = Progress("x", stream=quiet, clock=ticking(0.0, 50.0))  # auto, not a terminal
    p(1, 2)
    p.close()
    early = FakeTTY()
    q = Progress("x", stream=early, clock=ticking(0.0, 0.5, 1.9))  # a terminal, < 2 s
    q(1, 3)
    q(2, 3)
    q.close()
    assert quiet.getvalue() == "" and early.getvalue() == ""
    never = FakeTTY()
    r = Progress("x", mode="never", stream=never, clock=ticking(0.0, 50.0))
    r(1, 2)
    assert never.getvalue() == ""


def test_progress_on_a_terminal_redraws_one_line_with_an_eta_and_erases_it():
    from seli_cli.progress import Progress

    tty = FakeTTY()
    with Progress("seli path", stream=tty, clock=ticking(0.0, 3.0, 9.0)) as p:
        p(1, 4)  # 3 s for 1 cell: 9 s left
        p(3, 4)  # 9 s for 3 cells: 3 s left
    text = tty.getvalue()
    assert "\n" not in text
    assert "\rseli path: 1/4 cells, 3.0 s elapsed, about 9.0 s left" in text
    assert "\rseli path: 3/4 cells, 9.0 s elapsed, about 3.0 s left" in text
    assert text.endswith("\r" + " " * len("seli path: 3/4 cells, 9.0 s elapsed, about 3.0 s left")
                         + "\r")


def test_progress_forced_into_a_file_writes_whole_lines():
    from seli_cli.progress import Progress

    log = io.StringIO()
    p = Progress("run", mode="always", stream=log, clock=ticking(0.0, 2.5, 2.6, 200.0))
    p(1, 3)
    p(2, 3)  # 0.1 s after the last line: skipped (at most one line a second)
    p(3, 3)
    assert log.getvalue().splitlines() == ["run: 1/3 cells, 2.5 s elapsed, about 5.0 s left",
                                           "run: 3/3 cells, 3 min 20 s elapsed"]


def test_library_reports_each_cell_to_the_callback():
    from seli_exact import step
    from seli_exact.regpath.rows import compute_path, fig3_rows

    calls = []
    compute_path(step(3, 2, "1/3", 1), [1e-1, 1e-2, 1e-3],
                 progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    fig3_rows([2, 5], [1e-1, 1e-2], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_path_progress_always_reaches_stderr(capsys, monkeypatch):
    import seli_cli.path as path_cli
    from seli_cli.progress import Progress

    class Eager(Progress):
        def __init__(self, label, mode="auto", **kw):
            super().__init__(label, mode, delay=0.0, **kw)

    monkeypatch.setattr(path_cli, "Progress", Eager)
    code, out, err = run(capsys, "path", "--lambdas", "1e-1,1e-2", "--progress", "always")
    assert code == 0 and "seli path: 2/2 cells" in err and "cells" not in out
    code, out, err = run(capsys, "path", "--lambdas", "1e-1,1e-2")  # auto, not a terminal
    assert code == 0 and err == ""


def test_check_only_checks_everything_and_does_nothing(tmp_path, capsys, monkeypatch):
    """main(check_only=True) runs each command's check_args: bad input is refused (2), good
    input passes (0) without a solve and without creating the output folder."""
    import seli_cli.reproduce.fig3 as fig3_cli
    import seli_cli.path as path_cli

    def no_work(*a, **kw):
        raise AssertionError("check_only must not compute")

    monkeypatch.setattr(path_cli, "compute_path", no_work)
    monkeypatch.setattr(fig3_cli, "fig3_rows", no_work)
    out = tmp_path / "new"
    assert main(["path", "--lambdas", "1e-2"], check_only=True) == 0
    assert main(["reproduce", "fig3", "--out", str(out)], check_only=True) == 0
    assert not out.exists()
    assert main(["path", "--lambdas", "1e-300"], check_only=True) == 2
    assert main(["path", "--counts", ",".join(["2"] * 41)], check_only=True) == 2
    assert main(["reproduce", "fig3", "--out", str(out), "--R", "2,2"], check_only=True) == 2
    capsys.readouterr()
