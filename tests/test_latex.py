"""`seli latex --out DIR`: formulas.tex compiles, formulas.json round-trips through sympify."""

import json
import os
import shutil
import subprocess

import pytest
import sympy

from derivations import NAMES, closed_forms, symbols
from derivations.export import formula_records, parse, to_latex
from derivations.checks import verify_against_seli_exact
from seli_exact.verdict import Status
from seli_cli.main import main
from seli_exact import step

REQUIRED = {
    "sigma_maj", "sigma_min", "sigma_mix", "nuclear_norm", "w_maj_sq", "w_min_sq", "w_majmaj",
    "w_minmin", "w_majmin", "h_maj_sq", "h_min_sq", "h_majmaj", "h_minmin", "h_majmin",
    "w_norm_ratio", "h_norm_ratio", "cos_w_majmaj", "cos_w_minmin", "cos_w_majmin", "cos_h_majmaj",
    "cos_h_minmin", "cos_h_majmin", "cos_align_maj", "cos_align_min",
}


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
    assert {r["name"] for r in records} >= REQUIRED
    k, R, rho, n_min = symbols()
    cf = closed_forms()
    for r in records:
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
    assert v.status is Status.REFUTED and v.detail["worst"] == "h_majmaj"


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
    for name in REQUIRED:
        assert name.replace("_", "\\_") in tex


def test_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["latex", "--out", str(f)]) == 2
    assert "`--out` must be a folder" in capsys.readouterr().err
