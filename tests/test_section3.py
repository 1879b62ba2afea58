"""Section 3 claims: each judge verifies the true input and refutes a planted wrong one."""

import math

import numpy as np
import pytest
import sympy

from proofs_check import Status, evidence, get_claim
from proofs_check import printed_formulas as pf
from proofs_check import proof_steps as ps
from proofs_check import theorem1 as t1
from proofs_check.certificate import sign_certificate
from proofs_check.sign_proof import SignProof, prove_step_signs, step_closed_forms
from seli_exact import arithmetic, etf_geometry, factorize, sel_svd, seli_geometry, step

FIG1 = step(4, 10, "1/2", 5)
TOL = evidence.RTOL64 * 100


def fig1_solution(d=4):
    W, M = factorize(sel_svd(FIG1), d, seed=1)
    return W, M[:, FIG1.labels()]


SECTION3_IDS = [
    "thm1",
    "cor1.1",
    "cor1.2",
    "cor1.3",
    "lemma3.1",
    "eq4",
    "remark3.2",
    "cert.dual_feasible",
    "cert.strict_sign",
    "cert.duality_gap",
    "cert.complementary_slackness",
    "relax.optimum",
    "relax.tight",
    "conj.strict_sign_any_counts",
]


def test_claims_registered_with_references():
    for cid in SECTION3_IDS:
        c = get_claim(cid)
        assert c.reference and c.statement
        assert "quick" in c.profiles


# ----------------------------------------------------------------------------- Theorem 1
def test_thm1_verifies_factorization():
    W, H = fig1_solution()
    assert t1.judge_thm1([("fig1", FIG1, W, H, TOL)]).status is Status.VERIFIED


def test_thm1_refutes_unbalanced_scaling():
    # W^T H and every margin unchanged, but ||W||_F^2 != ||H||_F^2 and the cost exceeds p*
    W, H = fig1_solution()
    v = t1.judge_thm1([("scaled", FIG1, 1.01 * W, H / 1.01, TOL)])
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["worst_statement"] in (
        "(ii) W^T W",
        "(iii) R R^T = I",
        "(ii) H^T H",
        "p* = ||W||_F^2",
        "(iii) W",
        "(iii) H",
    )


def test_thm1_refutes_perturbed_embedding():
    W, H = fig1_solution()
    H = H.copy()
    H[:, 0] *= 1.05
    assert t1.judge_thm1([("moved", FIG1, W, H, TOL)]).status is Status.REFUTED


# ----------------------------------------------------------------------------- Corollary 1.1
def test_nc_verifies_and_refutes():
    W, H = fig1_solution()
    assert t1.judge_nc([("fig1", FIG1, W, H, TOL)]).status is Status.VERIFIED
    H2 = H.copy()
    H2[:, 3] += 0.01  # one example leaves its class mean
    v = t1.judge_nc([("not collapsed", FIG1, W, H2, TOL)])
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["evidence"]["within-class spread"] > 1e-4


def test_nc_refutes_collapsed_but_wrong_means():
    # collapsed embeddings that are not the per-example minimizers for this W
    W, H = fig1_solution()
    assert t1.judge_nc([("scaled means", FIG1, W, 1.2 * H, TOL)]).status is Status.REFUTED


# ----------------------------------------------------------------------------- Corollary 1.2
def test_seli_verifies_and_refutes_etf():
    W, H = fig1_solution()
    assert t1.judge_seli([("fig1", FIG1, W, H, TOL)]).status is Status.VERIFIED
    # the ETF geometry (balanced answer) planted on imbalanced data
    g = etf_geometry(4)
    vals, vecs = np.linalg.eigh(g.W_gram)
    F = (vecs[:, 1:] * np.sqrt(vals[1:])).T  # (3, 4) with F^T F = I - 11^T/4
    v = t1.judge_seli([("ETF", FIG1, F, F[:, FIG1.labels()], TOL)])
    assert v.status is Status.REFUTED


def test_seli_refutes_negative_scaling():
    W, H = fig1_solution()
    v = t1.judge_seli([("flipped", FIG1, W, -H, TOL)])
    assert v.status is Status.REFUTED


# ----------------------------------------------------------------------------- Corollary 1.3
def test_etf_symbolic_proofs_hold():
    assert all(t1.etf_symbolic().values())


def test_etf_refutes_seli_of_imbalanced_data():
    W, M = factorize(sel_svd(FIG1), 4, seed=0)
    assert t1.judge_etf([("fig1 is not ETF", W, M, TOL)]).status is Status.REFUTED
    W2, M2 = factorize(sel_svd(step(4, 1, "1/2", 5)), 4, seed=0)
    assert t1.judge_etf([("balanced", W2, M2, TOL)]).status is Status.VERIFIED
    assert t1.judge_etf([("balanced", W2, M2, TOL)], {"bad proof": False}).status is Status.REFUTED


# ----------------------------------------------------------------------------- Lemma 3.1, Eq. (4)
def test_lemma31_refutes_perturbed_formula():
    def wrong(k, R):  # (1 - 2/k) misprinted as (1 - 1/k) in the classifier ratio
        x = sympy.sqrt((R + 1) / sympy.Integer(2))
        a = 1 - sympy.Integer(1) / k
        return (a * sympy.sqrt(R) + x / k) / (a + x / k), pf.paper_lemma31(k, R)[1]

    def wrong_h(k, R):
        w, h = pf.paper_lemma31(k, R)
        return w, h * (1 + sympy.Rational(1, 10**6))

    assert pf.judge_lemma31(wrong_h, symbolic=False).status is Status.REFUTED
    v = pf.judge_lemma31(wrong, symbolic=False)
    assert v.status is Status.REFUTED


def test_eq4_refutes_flipped_sign():
    def flipped(k, R):
        x = sympy.sqrt((R + 1) / sympy.Integer(2))
        return ((2 * sympy.sqrt(R) + x) / ((k - 2) * sympy.sqrt(R) + x), (-2 + x) / (k - 2 + x))

    v = pf.judge_eq4(flipped, symbolic=False)
    assert v.status is Status.REFUTED


def test_remark32_refutes_a_formula_without_collapse():
    v = pf.judge_remark32(lambda k, R: pf.paper_eq4(k, R)[0])  # the majority cosine
    assert v.status is Status.REFUTED


# ----------------------------------------------------------------------------- the certificate
def test_dual_feasible_refutes_mis_scaled_certificate():
    G = seli_geometry(FIG1).M_gram
    f64 = evidence.F64
    assert ps.judge_dual_feasible([("ok", FIG1, G, f64, TOL)]).status is Status.VERIFIED
    v = ps.judge_dual_feasible([("1.01 B", FIG1, 1.01 * G, f64, TOL)])
    assert v.status is Status.REFUTED
    assert abs(v.evidence["failing"][0]["spectral_norm"] - 1.01) < 1e-12
    shifted = G + 0.001  # rows no longer sum to zero
    assert ps.judge_dual_feasible([("B 1 != 0", FIG1, shifted, f64, TOL)]).status is Status.REFUTED


def test_dual_feasible_exact():
    ex = arithmetic("exact")
    c = step(3, 2, "1/3", 2)
    G = seli_geometry(c, ex).M_gram
    assert ps.judge_dual_feasible([("exact", c, G, ex, 0.0)]).status is Status.VERIFIED
    assert ps.judge_dual_feasible([("exact x2", c, 2 * G, ex, 0.0)]).status is Status.REFUTED


def test_strict_sign_refutes_flipped_gram():
    good = sign_certificate(FIG1)
    flipped = sign_certificate(FIG1, transform=lambda kind, x: -x if kind == "off" else x)
    assert ps.judge_strict_sign([good], None).status is Status.VERIFIED
    v = ps.judge_strict_sign([good, flipped], None)
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["float64_margin"] < 0


def test_strict_sign_refutes_wrong_closed_form():
    forms = dict(step_closed_forms())
    forms["h_majmin"] = -forms["h_majmin"]  # a flipped sign in the formula
    proofs = prove_step_signs(forms)
    assert not proofs["h_majmin"].proven
    v = ps.judge_strict_sign([], proofs, ps.step_formula_rows(forms), forms=forms)
    assert v.status is Status.REFUTED
    bad = [r for r in v.evidence["failing"] if "wrong_sign_at" in r]
    assert bad, v.evidence["failing"]


def test_strict_sign_refutes_perturbed_closed_form_by_substitution():
    from derivations import symbols

    k, R, rho, n_min = symbols()
    forms = dict(step_closed_forms())
    forms["h_minmin"] = forms["h_minmin"] * (1 + (R - 1) / 10**8)  # still negative, but wrong
    v = ps.judge_strict_sign([], prove_step_signs(forms), ps.step_formula_rows(forms), forms=forms)
    assert v.status is Status.REFUTED


def test_strict_sign_undecided_when_proof_does_not_close():
    forms = dict(step_closed_forms())
    proofs = dict(prove_step_signs(forms))
    proofs["h_majmaj"] = SignProof(False, (), "sign of the term x undecided")
    v = ps.judge_strict_sign([], proofs, forms=forms)
    assert v.status is Status.UNDECIDED


def test_duality_gap_refutes_mis_scaled_certificate():
    G = seli_geometry(FIG1).M_gram
    nuc = 5 * math.sqrt(2) + math.sqrt(110) / 2 + math.sqrt(5)  # Sec. A's printed singular values
    assert ps.judge_duality_gap([("ok", FIG1, G, nuc, TOL)]).status is Status.VERIFIED
    assert ps.judge_duality_gap([("0.99 B", FIG1, 0.99 * G, nuc, TOL)]).status is Status.REFUTED


def test_complementary_slackness_refutes():
    B = seli_geometry(FIG1).M_gram
    P = np.eye(4) - 0.25
    assert ps.judge_complementary_slackness([("Zhat", P, B, TOL)]).status is Status.VERIFIED
    # margins 1.1 > 1 where the multipliers are positive: not an optimum
    assert (
        ps.judge_complementary_slackness([("1.1 Zhat", 1.1 * P, B, TOL)]).status is Status.REFUTED
    )
    Bf = B.copy()
    Bf[0, 1] = -Bf[0, 1]  # a flipped sign: a negative multiplier
    v = ps.judge_complementary_slackness([("flipped", P, Bf, TOL)])
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["min multiplier"] < 0


def test_relax_optimum_refutes_wrong_value_and_minimizer():
    from seli_exact.solvers import solve_ufsvm

    r = solve_ufsvm(FIG1)
    nuc = evidence.Reference(FIG1).nuclear_norm
    case = ("fig1", FIG1, "ADMM", r.Z_class, r.objective, r.lower_bound, nuc, 1e-8)
    assert ps.judge_relax_optimum([case]).status is Status.VERIFIED
    wrong_value = case[:6] + (1.001 * nuc, 1e-8)
    assert ps.judge_relax_optimum([wrong_value]).status is Status.REFUTED
    wrong_Z = case[:3] + (r.Z_class + 1e-3,) + case[4:]
    assert ps.judge_relax_optimum([wrong_Z]).status is Status.REFUTED


def test_relax_tight_refutes():
    W, H = fig1_solution()
    nuc = evidence.Reference(FIG1).nuclear_norm
    ok = ps.judge_relax_tight([("fig1", FIG1, W, H, TOL)], [("run", FIG1, nuc * (1 + 1e-9), 1.0)])
    assert ok.status is Status.VERIFIED
    better = ps.judge_relax_tight([], [("too good", FIG1, 0.99 * nuc, 1.0)])
    assert better.status is Status.REFUTED
    # an infeasible run is rescaled to feasibility before it is compared: 0.99 p* at margin 0.98
    rescaled = ps.judge_relax_tight([], [("infeasible", FIG1, 0.99 * nuc, 0.98)])
    assert rescaled.status is Status.VERIFIED
    scaled = ps.judge_relax_tight([("1.1 W", FIG1, 1.1 * W, H, TOL)], [])
    assert scaled.status is Status.REFUTED


def test_conjecture_reports_counterexample():
    flipped = sign_certificate(FIG1, transform=lambda kind, x: -x if kind == "off" else x)
    v = ps.judge_sign_any_counts([flipped], None, 0)
    assert v.status is Status.REFUTED
    v = ps.judge_sign_any_counts(
        [], FIG1, 10
    )  # a "found" counterexample is re-proven: it is not one
    assert v.status is Status.VERIFIED
    assert v.evidence["counterexample_shrunk_by_hypothesis"]["proven"]


# ------------------------------------------------------------------------ the registered checks
@pytest.mark.parametrize(
    "cid", ["cor1.3", "relax.tight", "cert.complementary_slackness", "cert.duality_gap"]
)
def test_fast_claims_verified(cid):
    v = get_claim(cid).run("quick")
    assert v.status is Status.VERIFIED, v.evidence


def test_counterexample_search_finds_and_shrinks_a_planted_failure():
    # a planted "margin" that fails once some class exceeds 10 examples among >= 3 classes
    def planted(c):
        return -1.0 if c.k >= 3 and max(c.counts) > 10 else 1.0

    found = ps.search_sign_counterexample(200, margin=planted)
    assert found is not None
    assert found.k == 3 and sorted(found.counts) == [1, 1, 11]  # hypothesis' shrunk case
    assert ps.search_sign_counterexample(30) is None
