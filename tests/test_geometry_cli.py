"""`seli geometry`: JSON schema, digits, table, and one-sentence errors with exit status 2."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from seli_cli.main import main

KEYS = {"class_counts", "singular_values", "nuclear_norm", "W_gram", "M_gram", "logits",
        "classifier_norms", "embedding_norms", "classifier_cosines", "embedding_cosines", "alignment",
        "route", "error"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_fig1(capsys):
    code, out, err = run(capsys, "geometry", "--k", "4", "--R", "10", "--rho", "0.5", "--n-min", "5", "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    assert set(obj) == KEYS
    assert obj["class_counts"] == [50, 50, 5, 5]
    assert obj["singular_values"] == pytest.approx([math.sqrt(50), math.sqrt(27.5), math.sqrt(5)], rel=1e-15)
    assert obj["logits"][0] == pytest.approx([0.75, -0.25, -0.25, -0.25])
    assert len(obj["W_gram"]) == 4 and all(len(r) == 4 for r in obj["W_gram"])
    # p* = trace(G_W) = trace(G_H) (Theorem 1)
    assert sum(obj["W_gram"][i][i] for i in range(4)) == pytest.approx(obj["nuclear_norm"], rel=1e-14)


@pytest.mark.parametrize("digits", [None, "30"])
def test_three_routes_agree(capsys, digits):
    """`--route`: the structured SVD, a dense eigen-decomposition of P D P and the quadrature of
    Theorem 1's integrals are three independent computations of one geometry."""
    extra = [] if digits is None else ["--digits", digits]
    got = {}
    for route in ("secular", "dense", "integral"):
        code, out, err = run(capsys, "geometry", "--counts", "500,120,40,9,3,3", "--json",
                             "--route", route, *extra)
        assert code == 0 and err == ""
        got[route] = json.loads(out)
        assert got[route]["route"] == route
    tol = 1e-12 if digits is None else 1e-25
    for route in ("dense", "integral"):
        for key in ("M_gram", "W_gram", "singular_values"):
            a = np.array(got[route][key], dtype=float if digits is None else object)
            b = np.array(got["secular"][key], dtype=float if digits is None else object)
            if digits is not None:  # decimal strings at 30 digits: compare as mpmath numbers
                import mpmath
                with mpmath.workdps(40):
                    diff = max(abs(mpmath.mpf(x) - mpmath.mpf(y)) for x, y in zip(a.ravel(), b.ravel()))
                assert diff < tol * 30, (route, key, diff)
            else:
                assert np.abs(a - b).max() < tol * max(1.0, np.abs(b).max()), (route, key)
    assert got["integral"]["error"]["G_M_rel"] < (1e-14 if digits is None else 1e-29)
    assert got["secular"]["error"] is None


def test_json_digits_are_decimal_strings(capsys):
    code, out, _ = run(capsys, "geometry", "--counts", "50,50,5,5", "--digits", "40", "--json")
    assert code == 0
    obj = json.loads(out)
    s = obj["singular_values"][0]
    assert isinstance(s, str)
    # sqrt(50) to 40 significant digits, computed independently by Python's decimal module
    from decimal import Decimal, getcontext

    getcontext().prec = 40
    assert s == str(Decimal(50).sqrt())
    assert isinstance(obj["class_counts"][0], int)


def test_json_low_digits_are_floats(capsys):
    code, out, _ = run(capsys, "geometry", "--digits", "12", "--json")
    assert code == 0 and isinstance(json.loads(out)["nuclear_norm"], float)


def test_table(capsys):
    code, out, _ = run(capsys, "geometry")
    assert code == 0
    assert "majority" in out and "minority" in out and "117.3220" in out  # Eq. (4) at R=10: 117.32 deg
    code, out, _ = run(capsys, "geometry", "--counts", "5,3,3,1")
    assert code == 0 and "angles between classifiers" in out


@pytest.mark.parametrize(
    "argv, sentence",
    [
        (["--k", "1"], "`k` must be in [2, 100000]; got k=1"),
        (["--R", "0.5"], "`R` must be at least 1"),
        (["--rho", "1.5"], "`rho` must lie strictly between 0 and 1"),
        (["--rho", "0.3"], "`rho` * `k` must be a whole number of minority classes"),
        (["--n-min", "0"], "`n_min` must be at least 1"),
        (["--counts", "3,0,1"], "got 0 for class 1"),
        (["--counts", "3,x"], "got 'x' for class 1"),
        (["--k", "abc"], "`k` must be a whole number; got the text 'abc'"),
        (["--digits", "zero"], "`--digits` must be a whole number"),
        (["--digits", "0"], "`--digits` must be in [1, 300]; got --digits=0"),
        (["--digits", "100000"], "`--digits` must be in [1, 300]; got --digits=100000"),
        (["--k", "1e400"], "`k` must be a whole number with an exponent of at most 300"),
        (["--R", ""], "`R` must be a number; got empty text"),
        (["--counts", ""], "`counts` must be a comma-separated list of class sizes; got ''"),
        (["--counts", "1,1e300"], "every class count must be at most 2^52 = 4503599627370496"),
        (["--R", "1e300"], "`R` * `n_min` must be at most 2^52"),
        (["--rho", "0.333333", "--k", "3"],
         "got rho=0.333333, k=3 (0.999999 classes). Try rho=1/3 or rho=2/3."),
        (["--counts", "5,5,2", "--profile", "exp:k=4:ratio=10"],
         "--counts and --profile both give the class counts"),
        (["--k", "4", "--profile", "exp:k=4:ratio=10"], "`--profile` replaces the STEP model"),
        (["--profile", "exp:k=4"], "`profile` 'exp:k=4' lacks ratio"),
        (["--counts-file", "/nonexistent/c.txt"], "`counts-file` '/nonexistent/c.txt' does not exist"),
        (["--counts-file", "/dev/zero"], "is not a regular file"),
        (["--counts", "3,2", "--k", "4"], "`--counts` replaces the STEP model"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_errors_one_sentence_exit_2(capsys, argv, sentence):
    code, out, err = run(capsys, "geometry", *argv)
    assert code == 2
    assert out == ""
    assert sentence in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_status():
    p = subprocess.run([sys.executable, "-m", "seli_cli.main", "geometry", "--k", "0"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "`k` must be in [2, " in p.stderr


def test_geometry_does_not_import_torch():
    code = "import sys; from seli_cli.main import main; main(['geometry','--json']); " \
           "import seli_exact, proofs_check; assert 'torch' not in sys.modules, 'torch imported'"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("argv, what", [
    (["--k", "100000"], "the geometry of 100,000 classes (2 distinct counts) needs an estimated"),
    (["--counts", ",".join(map(str, range(1, 20001)))],
     "the geometry of 20,000 classes (20,000 distinct counts)"),  # memory or time, by machine
    (["--counts", ",".join(map(str, range(1, 501))), "--digits", "50"],
     "the geometry of 500 classes (500 distinct counts) at 50 digits would take an estimated"),
])
def test_resource_estimate_refuses_before_allocating(capsys, argv, what):
    code, out, err = run(capsys, "geometry", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert what in err and "more than the limit of" in err


def test_estimates_grow_as_measured():
    """The estimate of a case the limits refuse is far above the limit, and one they accept is
    below it; both come from the same constants as the refusal (seli_cli.limits)."""
    from seli_cli.limits import TIME_LIMIT_S, geometry_cost, memory_limit
    from seli_exact import from_counts, step

    assert geometry_cost(step(100000, 10, "1/2", 5)).bytes > 10 * memory_limit()
    small = geometry_cost(from_counts([500, 120, 40, 9, 3]), 60, json=True)
    assert small.bytes < 1e7 and small.seconds < 1
    mid = geometry_cost(step(1000, 10, "1/2", 5), json=True)
    assert mid.bytes < memory_limit() and mid.seconds < TIME_LIMIT_S


def test_rho_decimal_that_is_a_whole_number_of_classes(capsys):
    code, out, err = run(capsys, "geometry", "--rho", "0.3333333333333333", "--k", "3", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["class_counts"] == [50, 50, 5]  # rho = 1/3: one minority of 5


def test_counts_file_and_profile(capsys, tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("# counts\n500\n120\n\n40\n")
    code, out, _ = run(capsys, "geometry", "--counts-file", str(f), "--json")
    assert code == 0 and json.loads(out)["class_counts"] == [500, 120, 40]
    code, out, _ = run(capsys, "geometry", "--profile", "exp:k=10:ratio=100", "--json")
    # CIFAR-10-LT's published counts (Cao et al.)
    assert json.loads(out)["class_counts"] == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]


def test_json_matrix_rows_one_per_line(capsys):
    code, out, _ = run(capsys, "geometry", "--counts", "5,3,3,1", "--json")
    lines = out.splitlines()
    start = lines.index('  "W_gram": [')
    assert all(line.startswith("    [") for line in lines[start + 1:start + 5])
    assert json.loads(out)["W_gram"][0][0] == pytest.approx(json.loads(out)["classifier_norms"][0] ** 2)


def test_large_table_matches_json(capsys):
    """The vectorized table of angles agrees with acos of the JSON cosines."""
    code, out, _ = run(capsys, "geometry", "--counts", "9,7,4,2,1", "--json")
    C = json.loads(out)["classifier_cosines"]
    code, table, _ = run(capsys, "geometry", "--counts", "9,7,4,2,1")
    rows = table.split("angles between classifiers [deg]:")[1].splitlines()[1:6]
    assert float(rows[0].split()[1]) == pytest.approx(math.degrees(math.acos(C[0][1])), abs=1e-4)


def test_version(capsys):
    from importlib.metadata import version

    code, out, err = run(capsys, "--version")
    assert code == 0 and out == f"seli {version('seli')}\n" and err == ""


def test_check_only_hook_stops_before_work(capsys, monkeypatch):
    """main(check_only=True) runs the checks (a refusal is exit 2) and nothing after them."""
    import seli_cli.geometry as geometry

    monkeypatch.setattr(geometry, "seli_geometry", lambda *a, **k: pytest.fail("work ran"))
    assert main(["geometry", "--counts", "5,5,2"], check_only=True) == 0
    assert main(["geometry", "--k", "100000"], check_only=True) == 2
    assert "needs an estimated" in capsys.readouterr().err


def test_start_up_imports_stay_light():
    """`seli geometry` (float64) imports neither SymPy nor mpmath nor gmpy2 (start-up time,
    benchmarks/bench_startup.py); the public API of seli_exact is unchanged."""
    code = ("import sys; from seli_cli.main import main; main(['geometry','--counts','5,5,2',"
            "'--json']); heavy = sorted(m for m in ('sympy', 'mpmath', 'gmpy2', 'matplotlib', "
            "'scipy', 'torch') if m in sys.modules); print(heavy)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    heavy = eval(p.stdout.strip().splitlines()[-1])
    assert not {"matplotlib", "scipy", "torch"} & set(heavy), heavy
    # mpmath and gmpy2 come only with SymPy (which imports them), never on their own
    assert "sympy" in heavy or not {"mpmath", "gmpy2"} & set(heavy), heavy
    import seli_exact

    for name in seli_exact.__all__:
        assert getattr(seli_exact, name) is not None
    from seli_exact import arithmetic

    assert callable(arithmetic) and arithmetic("mpmath", 20).digits == 20


def test_help_comes_from_the_checks_constants(capsys):
    """The limits the help states are the ones the checks apply (one source for both)."""
    from seli_cli.args import MAX_DIGITS
    from seli_cli.limits import TIME_LIMIT_S
    from seli_exact.counts import PROFILE_HELP

    assert main(["geometry", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"1 to {MAX_DIGITS}" in text and f"{TIME_LIMIT_S / 60:g} min" in text
    assert " ".join(PROFILE_HELP.split()) in text
    code, _, err = run(capsys, "geometry", "--digits", str(MAX_DIGITS + 1))
    assert code == 2 and f"in [1, {MAX_DIGITS}]" in err
