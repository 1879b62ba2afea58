"""The derivations against independent routes: seli_exact's numbers (float64 and 50-digit mpmath),
the paper's printed formulas, explicit matrices; and checks that a wrong formula is refuted."""

import os
import resource
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import example, given

from derivations import NAMES, closed_forms, closed_forms_in_counts, positive_parametrization, symbols
from derivations.checks import (
    raw_forms,
    verify_against_seli_exact,
    verify_class_mean_gram_signs,
    verify_eq_4,
    verify_etf_reduction,
    verify_gradient_identity,
    verify_lemma_3_1,
    verify_limits,
    verify_monotonicity,
    verify_norm_order,
    verify_secular_against_seli_exact,
    verify_secular_identity,
    verify_step_spectrum,
    verify_tidying,
)
from derivations.gradient import ce_gradient_multiplier
from derivations.verify import NUMERIC_TOL, decide_sign, float64_tol, mp_tol, outcome, verify_identity, verify_sign
from seli_exact.verdict import Status, Verdict
from seli_exact import SeliInputError, from_counts, sel_matrix, step

from .strategies import any_counts, step_params

FIG1 = (4, Fraction(10), Fraction(1, 2), 5)
k, R, rho, n_min = symbols()


def _altered(name: str, factor=sympy.Rational(1000001, 1000000)) -> dict:
    forms = dict(closed_forms())
    forms[name] = forms[name] * factor
    return forms


# --- every formula equals seli_exact's numbers -------------------------------------------

@given(step_params())
@example(FIG1)
@example((2, Fraction(7), Fraction(1, 2), 3))  # binary: m = s = 1
@example((5, Fraction(1), Fraction(2, 5), 2))  # balanced
def test_closed_forms_match_seli_exact_float64(params):
    # the default tolerance follows float64: 2^-43 (k + 1), not a fixed 1e-10
    v = verify_against_seli_exact(step(*params), "float64")
    assert v.status is Status.VERIFIED, v
    assert v.evidence["tolerance"] == 2.0**-43 * (params[0] + 1)


@given(step_params(max_k=8))
@example(FIG1)
def test_closed_forms_match_seli_exact_mpmath_50_digits(params):
    v = verify_against_seli_exact(step(*params), "mpmath", digits=50)
    assert v.status is Status.VERIFIED, v
    assert v.worst <= 1e-45


def test_pair_entries_are_compared_only_when_the_pair_exists():
    v = verify_against_seli_exact(step(3, 4, "1/3", 2))  # m = 2, s = 1
    assert "h_majmaj" in v.evidence["compared"] and "h_minmin" not in v.evidence["compared"]
    assert "sigma_min" not in v.evidence["compared"]  # multiplicity s - 1 = 0
    assert set(verify_against_seli_exact(step(*FIG1)).evidence["compared"]) == set(NAMES)


def test_an_altered_formula_is_refuted_against_seli_exact():
    for name in ("h_majmaj", "cos_w_minmin", "sigma_mix", "cos_align_min"):
        v = verify_against_seli_exact(step(*FIG1), forms=_altered(name))
        assert v.status is Status.REFUTED and v.evidence["worst"] == name, v
        v = verify_against_seli_exact(step(*FIG1), "mpmath", 50, forms=_altered(name, 1 + sympy.Rational(1, 10**30)))
        assert v.status is Status.REFUTED, v


def test_non_step_counts_are_rejected():
    with pytest.raises(SeliInputError, match=r"`counts` must be a \(R, rho\)-STEP model; got 'counts'"):
        verify_against_seli_exact(from_counts("5,3,1"))


# --- 1. eigenstructure --------------------------------------------------------------------

def test_step_spectrum_verified_by_substitution_and_explicit_matrices():
    v = verify_step_spectrum(max_block=6)
    assert v.status is Status.VERIFIED, v.evidence


def test_spectrum_against_dense_sel_matrix_numpy():
    import numpy as np

    from derivations import step_spectrum
    from derivations.symbols import m, s

    sp = step_spectrum()
    c = step(7, 3, "3/7", 2)  # m = 4, s = 3
    Z = sel_matrix(c)
    dense = np.sort(np.linalg.eigvalsh(Z @ Z.T))[1:]  # drop the zero eigenvalue
    sub = {m: 4, s: 3, R: 3, n_min: 2}
    mine = sorted(float(e.value.subs(sub)) for e in sp.spaces if e.name != "kernel"
                  for _ in range(int(e.multiplicity.subs(sub))))
    np.testing.assert_allclose(mine, dense, rtol=1e-12)


# --- 2. closed forms: tidying is an identity; signs of the certificate entries ------------

def test_every_tidied_closed_form_equals_its_spectral_sum():
    results = verify_tidying()
    bad = [r for r in results if not r.passed]
    assert not bad, bad
    assert {r.claim_id for r in results} == {f"tidy.{n}" for n in NAMES}


def test_an_altered_formula_is_refuted_by_the_tidying_check():
    forms = _altered("h_minmin", 1 + sympy.sqrt(R) / 10**6)
    results = {r.claim_id: r for r in verify_tidying(forms, names=("h_minmin", "h_majmaj"))}
    assert results["tidy.h_minmin"].status is Status.REFUTED
    assert results["tidy.h_majmaj"].status is Status.VERIFIED


def test_off_diagonal_class_mean_entries_are_negative():
    assert verify_class_mean_gram_signs().status is Status.VERIFIED
    wrong = dict(closed_forms())
    wrong["h_majmin"] = -wrong["h_majmin"]
    assert verify_class_mean_gram_signs(wrong).status is Status.REFUTED
    cf = closed_forms()
    for name in ("h_majmaj", "h_minmin", "h_majmin"):
        assert verify_sign(name, cf[name], -1).status is Status.VERIFIED
        assert closed_forms_in_counts()[name].is_negative  # visible in m, s > 0 directly
    flipped = verify_sign("flipped", -cf["h_majmaj"], -1)
    assert flipped.status is Status.REFUTED


def test_names_and_symbols():
    cf = closed_forms()
    assert tuple(cf) == NAMES and len(NAMES) == 24
    assert all(e.free_symbols <= {k, R, rho, n_min} for e in cf.values())
    assert all(x.is_positive for x in symbols())


# --- 3. the paper's printed formulas ------------------------------------------------------

def test_lemma_3_1_and_eq_4_recovered_at_rho_half():
    assert verify_lemma_3_1().status is Status.VERIFIED
    assert verify_eq_4().status is Status.VERIFIED


def test_altered_formula_is_refuted_against_the_paper():
    assert verify_eq_4(_altered("cos_w_minmin")).status is Status.REFUTED
    assert verify_lemma_3_1(_altered("h_norm_ratio")).status is Status.REFUTED


def test_norm_order_with_equality_iff_R_1_or_k_2():
    v = verify_norm_order()
    assert v.status is Status.VERIFIED, v.evidence
    # equality cases hold exactly, and a strict case is strict (numbers, by an independent route)
    cf = closed_forms()
    d = (cf["w_maj_sq"] - cf["w_min_sq"]).subs(rho, sympy.Rational(1, 2))
    assert sympy.simplify(d.subs(R, 1)) == 0 and sympy.simplify(d.subs(k, 2)) == 0
    assert d.subs({k: 4, R: 10, n_min: 5}).evalf() > 0


# --- 4. monotonicity, limits, ETF ---------------------------------------------------------

def test_eq_4_monotone_in_R():
    v = verify_monotonicity()
    assert v.status is Status.VERIFIED, v.evidence


def test_monotonicity_check_can_fail():
    # a formula that increases with R where Eq. (4) says the majority cosine decreases
    forms = dict(closed_forms())
    forms["cos_w_majmaj"] = -forms["cos_w_majmaj"]
    assert verify_monotonicity(forms).status is Status.REFUTED


def test_minority_collapse_limit_and_rate():
    v = verify_limits()
    assert v.status is Status.VERIFIED, v.evidence
    # numbers: 1 - cos at R = 10^12 against k sqrt(2) / sqrt(R) (rho = 1/2, k = 4); the next
    # order is relatively (k - 2)/sqrt(R/2) ~ 3e-6
    c = closed_forms()["cos_w_minmin"].subs({rho: sympy.Rational(1, 2), k: 4, R: 10**12})
    assert abs(sympy.N((1 - c) * 10**6, 30) - 4 * sympy.sqrt(2)) < 1e-4


def test_etf_at_R_1_and_k_2():
    v = verify_etf_reduction()
    assert v.status is Status.VERIFIED, v.evidence


def test_etf_check_refutes_a_wrong_formula():
    assert verify_etf_reduction(_altered("cos_h_majmin", 2)).status is Status.REFUTED


# --- 5. Lemma A.1 (v) ---------------------------------------------------------------------

def test_gradient_identity():
    v = verify_gradient_identity()
    assert v.status is Status.VERIFIED, v.evidence


def test_gradient_multiplier_against_finite_differences():
    """Numbers, by a route independent of the derivation: autograd-free central differences."""
    import numpy as np

    kk, beta = 5, 0.7
    c = from_counts("3,2,2,1,4")
    Z = beta * sel_matrix(c)
    y = c.labels()

    def loss(Z):
        zy = Z[y, np.arange(Z.shape[1])]
        return np.sum(np.log(np.sum(np.exp(Z - zy), axis=0)))

    G = np.zeros_like(Z)
    h = 1e-6
    for i in range(Z.shape[0]):
        for j in range(Z.shape[1]):
            E = np.zeros_like(Z)
            E[i, j] = h
            G[i, j] = (loss(Z + E) - loss(Z - E)) / (2 * h)
    mult = float(ce_gradient_multiplier(sympy.Float(beta)).subs(k, kk))
    np.testing.assert_allclose(G, -mult * sel_matrix(c), atol=1e-8)


# --- 6. secular equation ------------------------------------------------------------------

def test_secular_identity():
    assert verify_secular_identity().status is Status.VERIFIED


@given(any_counts(max_k=8, max_count=200))
@example(from_counts("50,50,5,5"))
@example(from_counts("7,7,7"))
def test_secular_roots_match_seli_exact(c):
    v = verify_secular_against_seli_exact(c, digits=50)
    assert v.status is Status.VERIFIED, v


# --- verification machinery ---------------------------------------------------------------

def test_undecided_is_never_verified():
    # true, but outside what reduction modulo radicals can prove: undecided, not verified
    v = verify_identity("trig", sympy.sin(R) ** 2 + sympy.cos(R) ** 2, 1)
    assert v.status is Status.UNDECIDED and v.worst < 1e-40
    assert not v.passed


def test_one_verdict_type():
    # the derivations return the suite's one verdict type (seli_exact.verdict), nothing of their own
    v = outcome("x", Status.VERIFIED, 0.0, {"method": "demo"})
    assert isinstance(v, Verdict) and v.passed and "verified" in v.summary()
    assert isinstance(verify_identity("demo", R, R), Verdict)
    with pytest.raises(ValueError):
        outcome("x", "maybe", 0.0, {})
    import derivations

    assert not hasattr(derivations, "Verification")
    import subprocess

    code = "import sys, derivations; derivations.verify_all; assert 'proofs_check' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_numeric_refutation_threshold_boundary():
    """verify_identity refutes a difference above 10^-(50 - 5) at its sample points, and calls
    one below it undecided (never verified): mp_tol(50), stated independently here."""
    assert NUMERIC_TOL == mp_tol(50) == 10.0**-45
    inside = verify_identity("tiny", R + sympy.sin(R) ** 2 + sympy.cos(R) ** 2 - 1 + sympy.Rational(1, 2 * 10**45) * sympy.sin(R) ** 2, R)
    assert inside.status is Status.UNDECIDED
    outside = verify_identity("small", R + sympy.Rational(2, 10**45) * (1 + sympy.sin(R) ** 2), R)
    assert outside.status is Status.REFUTED


def test_float64_tolerance_boundary_against_seli_exact():
    """verify_against_seli_exact at float64: 2^10 u (k + 1), stated independently here."""
    bound = 2.0**-53 * 2**10 * (FIG1[0] + 1)
    assert float64_tol(FIG1[0]) == bound
    for rel, status in ((0.5 * bound, Status.VERIFIED), (4 * bound, Status.REFUTED)):
        # every closed form scaled by 1 + rel (relative errors below 1 + |value| scale)
        forms = {n: e * (1 + sympy.Float(rel, 30)) for n, e in closed_forms().items()}
        v = verify_against_seli_exact(step(*FIG1), forms=forms)
        assert v.status is status, (rel, v.worst)


def test_sign_refuted_when_samples_disagree():
    x = sympy.sin(R)  # sign changes: sampled points disagree -> refuted for either sign
    assert verify_sign("s", x, 1).status is Status.REFUTED
    assert verify_sign("s", x, -1).status is Status.REFUTED
    assert decide_sign(sympy.sqrt(R) + 1) == 1


def test_sign_undecided_without_proof():
    # positive on the domain but not provable from assumptions: samples agree, so undecided
    x = 2 + sympy.sin(R)
    v = verify_sign("s", x, 1)
    assert v.status is Status.UNDECIDED and not v.passed


def test_numeric_fallback_scales_by_the_rhs_in_the_paper_symbols(monkeypatch):
    # the residual is relative to |rhs| evaluated at the sample points, so the scale must be in
    # k, R, rho, n_min (not in the parametrization's a, b, r, which would leave no number)
    import derivations.verify as dv

    seen = []

    def spy(diff, points, scale=None):
        seen.append(scale)
        return 0.0, None

    monkeypatch.setattr(dv, "numeric_residual", spy)
    v = dv.verify_identity("trig", R * (sympy.sin(R) ** 2 + sympy.cos(R) ** 2), R)
    assert v.status is Status.UNDECIDED
    assert seen and seen[0].free_symbols <= {k, R, rho, n_min} and seen[0] == R


def test_positive_parametrization_covers_the_domain():
    sub, (a, b, r) = positive_parametrization()
    pt = {a: 2, b: 1, r: 9}  # m = 3, s = 2, R = 10
    assert (k.subs(sub).subs(pt), rho.subs(sub).subs(pt), R.subs(sub).subs(pt)) == (5, sympy.Rational(2, 5), 10)


def test_raw_forms_are_the_spectral_sums():
    # untidied sums at Fig 1's case against LAPACK's eigen-decomposition of P D P
    from proofs_check.lapack import reference

    raw = raw_forms()
    assert set(raw) == set(NAMES)
    c = step(*FIG1)
    ref = reference(c)
    pt = {k: 4, R: 10, rho: sympy.Rational(1, 2), n_min: 5}
    want = {
        "nuclear_norm": ref.nuclear_norm,
        "w_maj_sq": ref.G_W[0, 0], "w_majmaj": ref.G_W[0, 1], "w_majmin": ref.G_W[0, 2],
        "w_min_sq": ref.G_W[2, 2], "w_minmin": ref.G_W[2, 3],
        "h_maj_sq": ref.G_M[0, 0], "h_majmaj": ref.G_M[0, 1], "h_majmin": ref.G_M[0, 2],
        "h_min_sq": ref.G_M[2, 2], "h_minmin": ref.G_M[2, 3],
    }
    for name, value in want.items():
        got = float(sympy.N(raw[name].subs(pt), 30))
        assert abs(got - value) <= ref.tol * max(1.0, abs(value)), name


def test_whole_derivation_is_fast():
    """Fresh process: derive the spectrum and every closed form within 30 s of CPU time."""
    code = "import derivations; derivations.closed_forms()"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300,
                   env={**os.environ, "PYTHONHASHSEED": "0"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 30, f"derivation took {cpu:.1f} s of CPU"
