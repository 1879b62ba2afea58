"""`seli latex --out DIR`: formulas.tex compiles, formulas.json round-trips through sympify, and
every exported formula agrees with seli_exact (STEP closed forms and Theorem 1 for any counts)."""

import json
import os
import shutil
import subprocess

import mpmath
import pytest
import sympy

from derivations import NAMES, closed_forms, symbols
from derivations.any_counts import evaluate, formulas
from derivations.export import formula_records, parse, to_latex
from derivations.checks import verify_against_seli_exact
from seli_exact.verdict import Status
from seli_cli.main import main
from seli_exact import from_counts, seli_geometry, step

REQUIRED = {
    "sigma_maj", "sigma_min", "sigma_mix", "nuclear_norm", "w_maj_sq", "w_min_sq", "w_majmaj",
    "w_minmin", "w_majmin", "h_maj_sq", "h_min_sq", "h_majmaj", "h_minmin", "h_majmin",
    "w_norm_ratio", "h_norm_ratio", "cos_w_majmaj", "cos_w_minmin", "cos_w_majmin", "cos_h_majmaj",
    "cos_h_minmin", "cos_h_majmin", "cos_align_maj", "cos_align_min",
}

REQUIRED_ANY = {
    "any_L", "any_sigma", "any_resolvent_off", "any_resolvent_diag", "any_G_M_off",
    "any_G_M_diag", "any_G_W_off", "any_G_W_diag", "any_nuclear_norm", "any_slack_bound",
    "any_slack_bound_simple",
}
ANY_LOCALS = ("k", "t", "n", "i", "j", "c", "l")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("latex")
    assert main(["latex", "--out", str(d)]) == 0
    return d


def test_writes_three_files(out_dir, capsys):
    assert {p.name for p in out_dir.iterdir()} >= {"formulas.tex", "formulas.md", "formulas.json"}
    md = (out_dir / "formulas.md").read_text()
    assert all(f"`{name}`" in md for name in REQUIRED)


def test_json_records_round_trip_through_sympify(out_dir):
    records = json.loads((out_dir / "formulas.json").read_text())
    assert {r["name"] for r in records} >= REQUIRED | REQUIRED_ANY
    k, R, rho, n_min = symbols()
    cf = closed_forms()
    for r in records:
        if r["name"].startswith("any_"):
            continue  # the any-counts family: test_any_counts_records_* below
        assert set(r) == {"name", "latex", "sympy", "description", "reference"}
        assert r["description"] and r["reference"] and r["latex"]
        # with plain (assumption-free) symbols, as a reader of the file would parse it
        plain = sympy.sympify(r["sympy"], locals={n: sympy.Symbol(n) for n in ("k", "R", "rho", "n_min")})
        assert {s.name for s in plain.free_symbols} <= {"k", "R", "rho", "n_min"}
        parsed = parse(r)
        assert parsed == cf[r["name"]], r["name"]
        # and the same value at the paper's Fig 1 case
        pt = {"k": 4, "R": 10, "rho": sympy.Rational(1, 2), "n_min": 5}
        a = plain.subs({sympy.Symbol(n): v for n, v in pt.items()})
        b = cf[r["name"]].subs({k: 4, R: 10, rho: sympy.Rational(1, 2), n_min: 5})
        assert abs(sympy.N(a - b, 30)) < 1e-25


def test_an_altered_record_is_refuted():
    rec = dict(formula_records()[NAMES.index("h_majmaj")])
    altered = rec["sympy"].replace("-R*rho - 1", "-R*rho - 2")
    assert altered != rec["sympy"]
    rec["sympy"] = altered
    forms = dict(closed_forms())
    forms["h_majmaj"] = parse(rec)
    assert forms["h_majmaj"] != closed_forms()["h_majmaj"]
    v = verify_against_seli_exact(step(4, 10, "1/2", 5), forms=forms)
    assert v.status is Status.REFUTED and v.evidence["worst"] == "h_majmaj"


def _plain_any_locals() -> dict:
    """The documented names bound to assumption-free objects, as a reader of the file would."""
    out = {name: sympy.Symbol(name) for name in ANY_LOCALS}
    out["n"] = sympy.IndexedBase("n")
    return out


def test_any_counts_records_parse_with_the_documented_locals(out_dir):
    records = [r for r in json.loads((out_dir / "formulas.json").read_text())
               if r["name"].startswith("any_")]
    assert {r["name"] for r in records} == REQUIRED_ANY
    forms = formulas()
    for r in records:
        assert set(r) == {"name", "latex", "sympy", "description", "reference"}
        assert r["description"] and r["reference"] and r["latex"]
        plain = sympy.sympify(r["sympy"], locals=_plain_any_locals())
        names = {str(s) for s in plain.free_symbols}
        indexed = {s for s in names if s.startswith("n[")}
        assert names - indexed <= set(ANY_LOCALS), (r["name"], names)
        assert indexed <= {f"n[{x}]" for x in ("i", "j", "c", "l")}, (r["name"], indexed)
        assert parse(r) == forms[r["name"]][1], r["name"]
    # sums over classes use the indexed count n[c]
    by_name = {r["name"]: r for r in records}
    assert "Sum(" in by_name["any_sigma"]["sympy"] and "n[c]" in by_name["any_sigma"]["sympy"]


# (record, class i, class j, what seli_exact says): counts (50, 50, 5, 7), 1-based classes
ANY_COUNTS = [50, 50, 5, 7]


@pytest.fixture(scope="module")
def reference_geometry():
    return seli_geometry(from_counts(ANY_COUNTS), "mpmath", 30)


@pytest.mark.parametrize("name, i, j", [
    ("any_G_M_off", 1, 3), ("any_G_M_off", 1, 2), ("any_G_M_diag", 3, None),
    ("any_G_W_off", 2, 4), ("any_G_W_diag", 4, None), ("any_nuclear_norm", None, None),
])
def test_any_counts_integral_records_equal_seli_exact(name, i, j, reference_geometry):
    """The exported integral formulas, evaluated by quadrature, against the secular SVD."""
    g = reference_geometry
    want = {
        "any_G_M_off": lambda: g.M_gram[i - 1, j - 1], "any_G_M_diag": lambda: g.M_gram[i - 1, i - 1],
        "any_G_W_off": lambda: g.W_gram[i - 1, j - 1], "any_G_W_diag": lambda: g.W_gram[i - 1, i - 1],
        "any_nuclear_norm": lambda: g.nuclear_norm,
    }[name]()
    got = evaluate(formulas()[name][1], ANY_COUNTS, i, j, digits=25)
    with mpmath.workdps(40):
        assert abs(got - want) <= mpmath.mpf(10) ** -20 * abs(want)


def test_any_counts_L_and_resolvent_records_by_hand():
    """L and the resolvent at the counts (50, 50, 5, 7) and t = 1/3, against numpy's inverses."""
    import numpy as np

    n = np.array(ANY_COUNTS, dtype=float)
    P = np.eye(4) - 1 / 4
    L = np.linalg.pinv(P @ np.diag(n) @ P)
    R = np.linalg.inv(L + np.eye(4) / 3)
    F = formulas()
    assert float(evaluate(F["any_L"][1], ANY_COUNTS, 1, 3)) == pytest.approx(L[0, 2], rel=1e-12)
    assert float(evaluate(F["any_L"][1], ANY_COUNTS, 4, 4)) == pytest.approx(L[3, 3], rel=1e-12)
    assert float(evaluate(F["any_resolvent_off"][1], ANY_COUNTS, 2, 3, at_t="1/3")) == \
        pytest.approx(R[1, 2], rel=1e-12)
    assert float(evaluate(F["any_resolvent_diag"][1], ANY_COUNTS, 3, None, at_t="1/3")) == \
        pytest.approx(R[2, 2], rel=1e-12)
    assert float(evaluate(F["any_sigma"][1], ANY_COUNTS, at_t="1/3")) == pytest.approx(
        sum(1 / (1 + v / 3) for v in ANY_COUNTS), rel=1e-14)


def test_any_counts_slack_records_bound_seli_exact(reference_geometry):
    g = reference_geometry
    F = formulas()
    for i, j in ((1, 2), (1, 3), (3, 4)):
        neg = -g.M_gram[i - 1, j - 1]
        tight = evaluate(F["any_slack_bound"][1], ANY_COUNTS, i, j)
        simple = evaluate(F["any_slack_bound_simple"][1], ANY_COUNTS, i, j)
        assert neg > tight > simple > 0


def test_an_altered_any_counts_record_is_refuted(reference_geometry):
    """A record with 1/pi turned into 2/pi no longer matches seli_exact's G_M."""
    rec = dict(next(r for r in formula_records() if r["name"] == "any_G_M_off"))
    assert rec["sympy"].endswith("/pi")
    rec["sympy"] = rec["sympy"][: -len("/pi")] + "*2/pi"
    got = evaluate(parse(rec), ANY_COUNTS, 1, 3, digits=25)
    want = reference_geometry.M_gram[0, 2]
    with mpmath.workdps(40):
        assert abs(got - want) > abs(want) / 2


def test_tex_compiles_with_pdflatex(out_dir, tmp_path):
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is missing, and CI is set: install texlive-latex-base")
        pytest.skip("pdflatex not installed (CI installs texlive-latex-base and runs this)")
    shutil.copy(out_dir / "formulas.tex", tmp_path / "formulas.tex")
    run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "formulas.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "formulas.pdf").stat().st_size > 1000
    log = (tmp_path / "formulas.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log


def test_tex_is_standalone_and_names_every_formula():
    tex = to_latex(formula_records())
    assert tex.startswith("\\documentclass") and tex.rstrip().endswith("\\end{document}")
    for name in REQUIRED | REQUIRED_ANY:
        assert name.replace("_", "\\_") in tex
    assert "extends the paper" in tex


def test_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["latex", "--out", str(f)]) == 2
    assert "`--out` must be a folder" in capsys.readouterr().err
