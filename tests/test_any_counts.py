"""Theorem 1 for every count vector: each step's verification, and a planted wrong version of each
that its judge refutes (derivations/any_counts.py, proofs_check/any_counts_steps.py)."""

import math
from dataclasses import replace

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import example, given, note, settings

from derivations import any_counts as ac
from derivations.any_counts import ClassMatrix, S_INV, SIGMA, t, x
from proofs_check import any_counts_steps as steps
from seli_exact import Status, from_counts, seli_geometry

from .strategies import any_counts

QUICK_KS = (2, 3, 4)


# --- the SymPy side, per k and general ------------------------------------------------------
@pytest.mark.parametrize("fn", [ac.verify_step1, ac.verify_step2, ac.verify_step4])
@pytest.mark.parametrize("kk", [None, 2, 3, 4, 5])
def test_matrix_identities_hold(fn, kk):
    v = fn(kk)
    assert v.status is Status.VERIFIED, v.evidence


@pytest.mark.slow
@pytest.mark.parametrize("fn", [ac.verify_step1, ac.verify_step2, ac.verify_step4])
@pytest.mark.parametrize("kk", [6, 7, 8])
def test_matrix_identities_hold_up_to_k8(fn, kk):
    assert fn(kk).status is Status.VERIFIED


def test_general_k_algebra_by_hand():
    """The class-matrix algebra against explicit k = 3 matrices at numeric counts."""
    counts = (2, 3, 7)
    M = ClassMatrix.pdp().matmul(ClassMatrix.L())
    off, diag = M.entries()
    explicit = ac.explicit(3)
    sub = dict(zip(explicit["counts"], counts))
    dense = (explicit["P"] @ explicit["D"] @ explicit["P"] @ explicit["L"]).subs(sub)
    concrete = {x: 2, sympy.Symbol("y", positive=True): 3}
    k3 = {ac.k: 3, S_INV: sympy.Rational(1, 2) + sympy.Rational(1, 3) + sympy.Rational(1, 7),
          ac.N_SUM: 12}
    assert sympy.simplify(off.subs({**concrete, **k3}) - dense[0, 1]) == 0
    assert sympy.simplify(diag.subs({**concrete, **k3}) - dense[0, 0]) == 0
    assert ac.class_sum(1 / (x * (1 + t * x))) == S_INV - t * SIGMA


def test_planted_step1_is_refuted():
    for kk in (3, None):
        v = ac.verify_step1(kk, claimed=lambda P, D: P @ D if kk else P.matmul(D))
        assert v.status is Status.REFUTED and v.evidence["witness"]


def test_planted_step2_is_refuted():
    m = ac.explicit(4)
    d = sympy.Matrix([1 / v for v in m["counts"]])
    wrong = sympy.diag(*d) - d * d.T / sum(m["counts"])  # s = sum 1/n_c replaced by n
    assert ac.verify_step2(4, L=wrong).status is Status.REFUTED
    wrong_general = ClassMatrix(1 / x, ((-1 / ac.k, 1 / x, 1 / x),))
    v = ac.verify_step2(None, L=wrong_general)
    assert v.status is Status.REFUTED and v.evidence["witness"]["L 1"]["counts"] == [1, 2, 5]


def test_planted_step4_sign_flip_is_refuted():
    m = ac.explicit(3)
    u = m["u"]
    flipped = sympy.diag(*[v / (1 + t * v) for v in m["counts"]]) - u * u.T / (t * m["sigma"])
    assert ac.verify_step4(3, resolvent=flipped).status is Status.REFUTED
    uu = 1 / (1 + t * x)
    general = ClassMatrix(x / (1 + t * x), ((-1 / (t * SIGMA), uu, uu),))
    assert ac.verify_step4(None, resolvent=general).status is Status.REFUTED


def test_step5_scalar_integrals_and_a_wrong_constant():
    assert ac.verify_step5_scalar().status is Status.VERIFIED
    v = ac.verify_step5_scalar(constant=2 / sympy.pi)
    assert v.status is Status.REFUTED and "sqrt(x)" in v.evidence["witness"]


def test_step5_integrands_and_planted_ones():
    v = ac.verify_step5_integrands()
    assert v.status is Status.VERIFIED and all(v.evidence["signs"].values())
    wrong = dict(ac.step5_integrands())
    wrong["G_W_off"] = wrong["G_W_off"] * 2
    assert ac.verify_step5_integrands(wrong).status is Status.REFUTED


def test_step6_symbolic_chain_and_a_wrong_closed_form():
    assert ac.verify_step6_symbolic().status is Status.VERIFIED
    v = ac.verify_step6_symbolic(bound=lambda kk, a, b: 1 / ((kk - 1) * (sympy.sqrt(a) + sympy.sqrt(b))))
    assert v.status is Status.REFUTED and v.evidence["witness"]["k"] == 3


# --- proofs_check: each step as a Verdict ------------------------------------------------------
def test_step1_verdict_and_plant():
    assert steps.step1_gram(QUICK_KS).status is Status.VERIFIED
    v = steps.step1_gram((3,), general=False, claimed=lambda P, D: P @ D if hasattr(P, "rows")
                         else P.dot(D))
    assert v.status is Status.REFUTED
    assert any("exact SEL matrix" in r["instance"] and not r["ok"] for r in v.evidence["instances"])


def test_step2_verdict_and_plant():
    assert steps.step2_pseudoinverse(QUICK_KS).status is Status.VERIFIED

    def wrong(m):
        d = sympy.Matrix([1 / v for v in m["counts"]])
        return sympy.diag(*d) - d * d.T / sum(m["counts"])

    v = steps.step2_pseudoinverse((3,), L=wrong, L_general=ClassMatrix(1 / x, ((-1 / ac.k, 1 / x, 1 / x),)))
    assert v.status is Status.REFUTED and len(v.evidence["failing"]) == 2


def test_step4_verdict_and_plant():
    assert steps.step4_resolvent(QUICK_KS).status is Status.VERIFIED

    def flipped(m):
        u = m["u"]
        return sympy.diag(*[v / (1 + t * v) for v in m["counts"]]) - u * u.T / (t * m["sigma"])

    assert steps.step4_resolvent((2, 3), general=False, resolvent=flipped).status is Status.REFUTED


INSTANCES = [from_counts([50, 50, 5, 5]), from_counts([1, 2, 3, 50, 7, 1000]), from_counts([9, 4, 4, 4, 2])]


def test_step3_verdict_and_plants():
    v = steps.step3_square_root(INSTANCES[:2])
    assert v.status is Status.VERIFIED and v.worst < 1e-45
    # G_M := L itself, and G_M := G_W: both fail G_M^2 = L
    as_L = steps.step3_square_root(INSTANCES[:1], G_M=lambda c, ar: steps.L_matrix(c, ar))
    as_W = steps.step3_square_root(INSTANCES[:1], G_M=lambda c, ar: seli_geometry(c, ar).W_gram)
    for bad in (as_L, as_W):
        assert bad.status is Status.REFUTED
        assert any(r["instance"].endswith("G_M^2 = L") for r in bad.evidence["failing"])


def test_step5_verdict_and_a_wrong_constant():
    assert steps.step5_integral(INSTANCES[:2]).status is Status.VERIFIED
    v = steps.step5_integral(INSTANCES[:1], constant=2 / sympy.pi)
    assert v.status is Status.REFUTED
    # the symbolic and the numeric parts both catch it
    failing = {r["instance"] for r in v.evidence["failing"]}
    assert "scalar integrals (SymPy)" in failing and any("integral = secular" in f for f in failing)


def test_step6_verdict_tightness_and_too_strong_bounds():
    v = steps.step6_slack(INSTANCES)
    assert v.status is Status.VERIFIED
    tight = next(r for r in v.evidence["instances"] if r["instance"].startswith("tightness"))
    assert tight["residual"] < 1e-6  # -G_M / F_k comes within 10^-6 of 1 on the family
    # F_k enlarged by 0.1 %: refuted by the tightness family, in interval arithmetic
    too_strong = steps.step6_slack(INSTANCES, symbolic=False,
                                   bound=lambda kk, a, b: ac.slack_bound(kk, a, b) * 1.001)
    assert too_strong.status is Status.REFUTED
    # the simple bound's constant sqrt(k (k-1)) replaced by k - 1: also refuted, by the
    # enclosures of the family, by F_k and by its infimum
    k_minus_1 = steps.step6_slack([], symbolic=False, simple=lambda kk, a, b: (
        ac.simple_slack_bound(kk, a, b) * math.sqrt(kk / (kk - 1))))
    assert k_minus_1.status is Status.REFUTED
    failing = {r["instance"].split(",")[0] for r in k_minus_1.evidence["failing"]}
    assert "simple bound <= F_k" in failing
    # the first bound, 1/(k (sqrt a + sqrt b)), holds (in its own place) but is not F_k
    first = steps.one_over_k_bound
    assert steps.step6_slack(INSTANCES, symbolic=False, tightness=False,
                             one_over_k=first).status is Status.VERIFIED
    as_F_k = steps.step6_slack(INSTANCES, symbolic=False, tightness=False, bound=first)
    assert as_F_k.status is Status.REFUTED
    # refuted by its value (and by the simple bound above it), never by an enclosure
    assert all(r["instance"].startswith(("F_k = its integral", "F_2 = -G_M", "simple bound <= F_k"))
               for r in as_F_k.evidence["failing"])


@given(any_counts(max_k=9, max_count=2000))
@example(from_counts([50, 50, 5, 5]))
@example(from_counts([1, 10**6]))
@settings(max_examples=25)
def test_slack_bound_against_certified_G_M_on_hypothesis_counts(c):
    """-G_M[i, j] >= F_k(n_i, n_j) >= simple bound > 1/(k (...)), decided on enclosures."""
    v = steps.step6_slack([c], symbolic=False, tightness=False, digits=30)
    row = next(r for r in v.evidence["instances"] if "interval arithmetic" in r["instance"])
    note(f"counts {c.counts}: {row.get('ratios')}")
    assert v.status is Status.VERIFIED
    r = row["ratios"]
    assert r["F_k"] >= 1 and r["simple"] >= r["F_k"] and r["one_over_k"] >= r["simple"]
    if c.k == 2:  # an equality for two classes
        assert abs(r["F_k"] - 1) < 1e-25


def test_slack_bound_tightness_ratios_decrease_to_one():
    """On (N, N, 1, 1, 1): -G_M[0, 1] / F_k - 1 falls like 1/N (F_k is the infimum)."""
    gaps = []
    for N in (10**2, 10**4, 10**6):
        c = from_counts([N, N, 1, 1, 1])
        g = seli_geometry(c, "mpmath", 40)
        with mpmath.workdps(45):
            gaps.append((-g.M_gram[0, 1]) / ac.slack_bound(5, mpmath.mpf(N), mpmath.mpf(N)) - 1)
    assert gaps[0] > gaps[1] > gaps[2] > 0 and gaps[2] < 1e-5


def test_routes_agree_verdict():
    v = steps.routes_agree(INSTANCES[:2])
    assert v.status is Status.VERIFIED


def test_the_proof_is_written_down_with_numbered_steps():
    doc = ac.__doc__
    for n in range(1, 8):
        assert f"Step {n}." in doc
    assert "ONLY place STEP is used" in doc and "extends the paper" in doc


def test_sign_condition_follows_numerically_on_a_long_tail():
    """The theorem's conclusion on CIFAR-10-LT in float64 (the certificate proves it)."""
    g = seli_geometry(steps.default_instances()[1])
    G = g.M_gram
    assert (np.diag(G) > 0).all() and (G[~np.eye(10, dtype=bool)] < 0).all()


def test_step5_an_integral_sympy_leaves_unevaluated_is_undecided_not_refuted(monkeypatch):
    """A residual that did not simplify refutes only where it is visibly nonzero: with SymPy
    unable to integrate or simplify (integrals left unevaluated: true, but not shown), step 5's
    scalar part is undecided; with a wrong constant it is still refuted."""
    monkeypatch.setattr(sympy, "integrate", lambda f, *limits: sympy.Integral(f, *limits))
    monkeypatch.setattr(sympy, "simplify", lambda e, **kwargs: e)
    v = ac.verify_step5_scalar()
    assert v.status is Status.UNDECIDED and not v.evidence["witness"]
    assert ac.verify_step5_scalar(constant=2 / sympy.pi).status is Status.REFUTED


def test_routes_agree_refutes_a_route_wrong_below_float64():
    c = INSTANCES[0]

    def nudged(counts, ar, route):
        g = seli_geometry(counts, ar, route=route)
        if route == "integral" and g.M_gram.dtype == object:
            return replace(g, M_gram=g.M_gram * ar.number(1 + sympy.Rational(1, 10**30)))
        return g

    v = steps.routes_agree([c], geometry=nudged)
    assert v.status is Status.REFUTED
    assert [r["instance"] for r in v.evidence["failing"]] == [
        f"counts {list(c.counts)}, mpmath: M_gram integral = secular"]


def test_step6_tightness_row_judges_the_bound_itself(monkeypatch):
    """A valid but weaker bound is refuted by the tightness row (not the best possible); the
    row's tolerance is tolerances.slack_tightness(). (The rows pinning F_k to its integral,
    which refute it too, are left out here.)"""
    from proofs_check import tolerances

    monkeypatch.setattr(steps, "_bound_value_rows", lambda *bounds: [])
    weaker = steps.step6_slack([], symbolic=False,
                               bound=lambda kk, a, b: ac.slack_bound(kk, a, b) / 1.001)
    assert weaker.status is Status.REFUTED
    (row,) = weaker.evidence["failing"]
    assert row["instance"].startswith("tightness") and row["tol"] == tolerances.slack_tightness()
    assert row["F_k_ratio"] < 1 + 1e-8  # F_k itself is nearly attained on the family


def test_step6_symbolic_bound_is_read_off_the_quadratic():
    """Link (d) compares the bound with the closed form at the quadratic's own coefficients:
    F_k with k - 1 and k - 2 swapped in its first term is refuted."""
    def swapped(kk, a, b):
        return 1 / sympy.sqrt(kk * ((kk - 2) * (a + b) + 2 * sympy.sqrt(kk * (kk - 2) * a * b)))

    v = ac.verify_step6_symbolic(bound=swapped)
    assert v.status is Status.REFUTED
    assert v.evidence["failing"] == ["F_k = the closed form at the pair's quadratic"]
