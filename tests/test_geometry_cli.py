"""`seli geometry`: JSON schema, digits, table, and one-sentence errors with exit status 2."""

import json
import math
import subprocess
import sys

import pytest

from seli_cli.main import main

KEYS = {"class_counts", "singular_values", "nuclear_norm", "W_gram", "M_gram", "logits",
        "classifier_norms", "embedding_norms", "classifier_cosines", "embedding_cosines", "alignment"}


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
        (["--k", "1"], "`k` must be at least 2; got k=1"),
        (["--R", "0.5"], "`R` must be at least 1"),
        (["--rho", "1.5"], "`rho` must lie strictly between 0 and 1"),
        (["--rho", "0.3"], "`rho` * `k` must be a whole number of minority classes"),
        (["--n-min", "0"], "`n_min` must be at least 1"),
        (["--counts", "3,0,1"], "got 0 for class 1"),
        (["--counts", "3,x"], "got 'x' for class 1"),
        (["--k", "abc"], "`k` must be a whole number; got the text 'abc'"),
        (["--digits", "zero"], "`digits` must be a whole number"),
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
    assert p.returncode == 2 and "Traceback" not in p.stderr and "`k` must be at least 2" in p.stderr


def test_geometry_does_not_import_torch():
    code = "import sys; from seli_cli.main import main; main(['geometry','--json']); " \
           "import seli_exact, proofs_check; assert 'torch' not in sys.modules, 'torch imported'"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
