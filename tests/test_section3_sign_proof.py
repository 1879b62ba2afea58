"""The symbolic sign prover and the STEP proof of the strict sign condition."""

import sympy

from proofs_check.sign_proof import ENTRY_SIGNS, prove_positive, prove_step_signs, step_closed_forms

x, y = sympy.symbols("x y", nonnegative=True)
p = sympy.Symbol("p", positive=True)


def test_proves_by_squaring():
    assert prove_positive(1 + x - sympy.sqrt(x)).proven
    # (p + 1)^2 - (p^2 + 1) = 2p > 0
    assert prove_positive(p + 1 - sympy.sqrt(p**2 + 1)).proven


def test_never_proves_false_statements():
    assert not prove_positive(x - sympy.sqrt(x)).proven  # negative at x = 1/4
    assert not prove_positive(sympy.sqrt(x + y) - sympy.sqrt(x) - sympy.sqrt(y)).proven
    assert not prove_positive(-p).proven
    assert not prove_positive(x).proven  # zero at x = 0: not strictly positive


def test_quotients():
    assert prove_positive((1 + x) / (2 + sympy.sqrt(y))).proven
    assert prove_positive((-1 - x) / (-2 - y)).proven
    assert not prove_positive((1 + x) / (1 - y)).proven


def test_step_signs_proven_for_all_parameters():
    proofs = prove_step_signs()
    assert set(proofs) == set(ENTRY_SIGNS)
    assert all(pr.proven for pr in proofs.values()), proofs


def test_flipped_formula_not_proven():
    forms = dict(step_closed_forms())
    forms["h_minmin"] = -forms["h_minmin"]
    assert not prove_step_signs(forms)["h_minmin"].proven
