"""`seli path` and `seli reproduce fig3`: JSON schema, table, errors (exit 2), figure files."""

import csv
import json
import math

import pytest

from seli_cli.main import main

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
    for p in obj["points"]:
        assert POINT_KEYS <= set(p)
        assert set(p["dist_seli"]) == DIST_KEYS and set(p["dist_etf"]) == DIST_KEYS
        assert 0 <= p["duality_gap"] < 1e-12 * p["objective"] + 1e-30
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
    assert "1.00e-02" in out


@pytest.mark.parametrize("argv,match", [
    (["--lambdas", "logspace:1:2"], "logspace:A:B:N"),
    (["--lambdas", "-1"], "positive finite"),
    (["--lambdas", "1e-2", "--counts", "5,0"], "whole number >= 1"),
    (["--solver", "mosek"], "invalid choice"),
])
def test_path_errors_exit_2_with_one_sentence(capsys, argv, match):
    code, out, err = run(capsys, "path", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert match in err


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
        assert abs(float(r["relative_gap"])) < 1e-12


def test_fig3_bad_R(tmp_path, capsys):
    code, _, err = run(capsys, "reproduce", "fig3", "--out", str(tmp_path), "--R", "0")
    assert code == 2 and "`R` must be at least 1" in err


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
