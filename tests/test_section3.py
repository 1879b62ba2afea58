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
from seli_exact import arithmetic, etf_geometry, factorize, sel_matrix, sel_svd, seli_geometry, step

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


@pytest.mark.parametrize("scale", [1e-8, 1e-3, 1e3])
def test_seli_is_judged_up_to_scaling_only(scale):
    # Definition 3 holds for some alpha > 0: the true solution at any scale is SELI, and a wrong
    # geometry stays wrong however small it is (no absolute tolerance to hide under)
    W, H = fig1_solution()
    assert t1.judge_seli([("scaled", FIG1, scale * W, scale * H, TOL)]).status is Status.VERIFIED
    g = etf_geometry(4)
    vals, vecs = np.linalg.eigh(g.W_gram)
    F = scale * (vecs[:, 1:] * np.sqrt(vals[1:])).T
    v = t1.judge_seli([("small ETF", FIG1, F, F[:, FIG1.labels()], TOL)])
    assert v.status is Status.REFUTED and v.worst > 0.1


# ----------------------------------------------------------------------------- Corollary 1.3
def test_etf_symbolic_proofs_hold():
    assert all(t1.etf_symbolic().values())


def test_etf_refutes_seli_of_imbalanced_data():
    W, M = factorize(sel_svd(FIG1), 4, seed=0)
    assert t1.judge_etf([("fig1 is not ETF", W, M, TOL)]).status is Status.REFUTED
    W2, M2 = factorize(sel_svd(step(4, 1, "1/2", 5)), 4, seed=0)
    assert t1.judge_etf([("balanced", W2, M2, TOL)]).status is Status.VERIFIED
    assert t1.judge_etf([("balanced", W2, M2, TOL)], {"bad proof": False}).status is Status.REFUTED
    # scale-invariant both ways: a tiny ETF is an ETF, a tiny SELI of imbalanced data is not
    assert t1.judge_etf([("tiny", 1e-8 * W2, 1e-8 * M2, TOL)]).status is Status.VERIFIED
    assert t1.judge_etf([("tiny fig1", 1e-8 * W, 1e-8 * M, TOL)]).status is Status.REFUTED
    # W = M + E with E off the ETF, at a tiny scale: the W = a M part must still see E
    E = np.random.default_rng(0).standard_normal(W2.shape) * 1e-3
    assert t1.judge_etf([("W != a M", 1e-8 * (W2 + E), 1e-8 * W2, TOL)]).status is Status.REFUTED
    assert t1.judge_etf([("W = -M", -M2, M2, TOL)]).status is Status.REFUTED  # a > 0 required


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


def _row(verdict, prefix):
    """The evidence row whose instance name starts with `prefix` (every row, not only 5)."""
    rows = [r for r in verdict.evidence["instances"] if str(r["instance"]).startswith(prefix)]
    assert rows, [r["instance"] for r in verdict.evidence["instances"]]
    return rows


def test_lemma31_symbolic_and_order_parts_can_fail():
    def wrong_h(k, R):
        w, h = pf.paper_lemma31(k, R)
        return w, h * (1 + sympy.Rational(1, 10**6))

    v = pf.judge_lemma31(wrong_h)
    assert v.status is Status.REFUTED
    assert not _row(v, "symbolic: h_norm_ratio")[0]["ok"]
    assert _row(v, "symbolic: w_norm_ratio")[0]["ok"]

    def swapped(k, R):  # classifier and embedding ratios exchanged: the order is reversed
        w, h = pf.paper_lemma31(k, R)
        return h, w

    v = pf.judge_lemma31(swapped, symbolic=False)
    order = _row(v, "order k=4, R=10")
    assert v.status is Status.REFUTED and not order[0]["ok"]
    assert _row(v, "order k=2, R=10")[0]["ok"]  # k = 2: both ratios are 1, swapped or not


def test_eq4_refutes_flipped_sign():
    def flipped(k, R):
        x = sympy.sqrt((R + 1) / sympy.Integer(2))
        return ((2 * sympy.sqrt(R) + x) / ((k - 2) * sympy.sqrt(R) + x), (-2 + x) / (k - 2 + x))

    v = pf.judge_eq4(flipped, symbolic=False)
    assert v.status is Status.REFUTED


def test_lemma31_symbolic_match_never_verified_without_a_proof():
    # true (sin^2 + cos^2 = 1), but outside what reduction modulo radicals proves: undecided
    def disguised(k, R):
        w, h = pf.paper_lemma31(k, R)
        return w * (sympy.sin(R) ** 2 + sympy.cos(R) ** 2), h

    v = pf.judge_lemma31(disguised, profile="quick")
    assert v.status is Status.UNDECIDED and not v.passed
    assert any("w_norm_ratio" in u for u in v.evidence["undecided"])


def test_eq4_monotonicity_and_symbolic_parts_can_fail():
    def swapped(k, R):  # both are -1/(k-1) at R = 1, but each moves the other way in R
        cmaj, cmin = pf.paper_eq4(k, R)
        return cmin, cmaj

    v = pf.judge_eq4(swapped)
    assert v.status is Status.REFUTED
    assert _row(v, "majority at R = 1")[0]["ok"] and _row(v, "minority at R = 1")[0]["ok"]
    assert not _row(v, "majority decreasing in R")[0]["ok"]
    assert not _row(v, "minority increasing in R")[0]["ok"]
    assert not _row(v, "symbolic: cos_w_majmaj")[0]["ok"]


def test_remark32_refutes_a_formula_without_collapse():
    v = pf.judge_remark32(lambda k, R: pf.paper_eq4(k, R)[0])  # the majority cosine
    assert v.status is Status.REFUTED


def test_remark32_refutes_a_collapse_at_the_wrong_rate():
    # Cos -> 1, but 1 - Cos ~ 2 sqrt(2) k / sqrt(R): twice the stated rate
    def twice(k, R):
        return 1 - 2 * k / (k - 2 + sympy.sqrt((R + 1) / sympy.Integer(2)))

    v = pf.judge_remark32(twice)
    assert v.status is Status.REFUTED
    assert _row(v, "symbolic: lim")[0]["ok"]
    assert not _row(v, "symbolic: sqrt(R) (1 - Cos) -> sqrt(2) k")[0]["ok"]
    ok = pf.judge_remark32()
    assert ok.status is Status.VERIFIED
    assert _row(ok, "symbolic: sqrt(R) (1 - Cos) -> sqrt(2) k")[0]["ok"]


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


def test_dual_feasible_row_fact_catches_swapped_rows():
    # rows of two majority classes (equal counts) swapped: B^T B = P and B 1 = 0 still hold, but
    # B_class[y] is no longer U V^T
    G = seli_geometry(FIG1).M_gram
    swapped = G[[1, 0, 2, 3]]
    f64 = evidence.F64
    assert ps.judge_dual_feasible([("swapped", FIG1, swapped, f64, TOL)]).status is Status.VERIFIED
    ok_rows = [("fig1", FIG1, G, evidence.reference(FIG1).tol)]
    assert ps.judge_dual_feasible([], ok_rows).status is Status.VERIFIED
    v = ps.judge_dual_feasible([], [("swapped", FIG1, swapped, evidence.reference(FIG1).tol)])
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["residual"] > 0.1


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


def test_strict_sign_reads_the_sign_off_U_V_T():
    # the paper's B_hat = U V^T from numpy's dense SVD: its sign margin is that of G_M (row fact)
    tol = evidence.reference(FIG1).tol
    row = ps.dense_sign_row("fig1", FIG1, None, tol)
    assert row["ok"]
    G = seli_geometry(FIG1).M_gram
    assert abs(row["margin"] - sign_certificate(FIG1).float64_margin) < 1e-12
    B = ps.dense_certificate(FIG1)
    assert np.abs(B - G[FIG1.labels()]).max() < tol
    assert ps.judge_strict_sign([], None, dense_rows=[row]).status is Status.VERIFIED
    # one example's certificate entry against another class flipped to positive
    Bf = B.copy()
    Bf[7, 2] = -Bf[7, 2]
    bad = ps.dense_sign_row("flipped entry", FIG1, Bf, tol)
    v = ps.judge_strict_sign([], None, dense_rows=[row, bad])
    assert v.status is Status.REFUTED and v.evidence["failing"][0]["margin"] < 0
    # a certificate whose label entries vanish has margin 0: not strictly positive
    Bz = B * (1 - np.sign(sel_matrix(FIG1).T).clip(0))
    assert not ps.dense_sign_row("zero labels", FIG1, Bz, tol)["ok"]


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
    # a bracket [lower bound, objective] that contains p* but is wide proves nothing
    loose = case[:5] + (0.5 * nuc, nuc, 1e-8)
    assert ps.judge_relax_optimum([loose]).status is Status.REFUTED


def test_relax_optimum_judges_every_column_of_a_full_solution():
    nuc = evidence.Reference(FIG1).nuclear_norm
    Z = sel_matrix(FIG1)  # (k, n)
    case = ("full", FIG1, "full", Z, nuc, nuc, nuc, 1e-8)
    assert ps.judge_relax_optimum([case]).status is Status.VERIFIED
    Z2 = Z.copy()
    Z2[:, 3] += 1e-3  # one example off Zhat; its class mean moves by only 1e-3 / 50
    v = ps.judge_relax_optimum([case[:3] + (Z2,) + case[4:]])
    assert v.status is Status.REFUTED
    assert v.evidence["failing"][0]["distance_to_Zhat"] >= 1e-3 * (1 - 1e-9)


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
    # a run that ended with a negative margin is no point of (2): no evidence either way
    lost = ps.judge_relax_tight([], [("run", FIG1, nuc, 1.0), ("lost", FIG1, 0.5 * nuc, -0.2)])
    assert lost.status is Status.VERIFIED


def test_conjecture_reports_counterexample():
    flipped = sign_certificate(FIG1, transform=lambda kind, x: -x if kind == "off" else x)
    v = ps.judge_sign_any_counts([flipped], None, 0)
    assert v.status is Status.REFUTED
    v = ps.judge_sign_any_counts(
        [], FIG1, 10
    )  # a "found" counterexample is re-proven: it is not one
    assert v.status is Status.VERIFIED
    assert v.evidence["counterexample_shrunk_by_hypothesis"]["proven"]
    # the dense B_hat * Zhat^T rows are judged for the conjecture too
    B = -ps.dense_certificate(FIG1)
    bad = ps.dense_sign_row("-B", FIG1, B, 1e-12)
    assert ps.judge_sign_any_counts([], None, 0, dense_rows=[bad]).status is Status.REFUTED


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
