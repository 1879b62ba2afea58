"""Soundness of the Section 4 checks: each judge refutes a planted wrong input, and the
true inputs pass (the registered checks themselves run in proofs_check/test_claims.py)."""

import math

import numpy as np
import pytest
import sympy

from proofs_check.checks import section4 as s4
from proofs_check.verdict import Status
from seli_exact import from_counts, step
from seli_exact.regpath import class_sel, linear_scale, solve_regpath_point


def test_section4_ids_are_registered():
    from proofs_check.registry import all_claims

    ids = {c.id for c in all_claims()}
    assert {"prop1", "lemmaA1v", "prop2", "thm2", "sec4.4", "margin_positive",
            "no_minority_collapse"} <= ids


# --- prop1 ---------------------------------------------------------------------------------

def test_prop1_true_inputs_verified():
    assert s4.judge_prop1(s4._prop1_cases("quick")).status is Status.VERIFIED


def test_prop1_refutes_a_path_that_reaches_seli():
    cases = s4._prop1_cases("quick")
    cases[0]["dist_max"][2] = 0.0  # a planted lam at which the solution is SELI
    assert s4.judge_prop1(cases).status is Status.REFUTED


def test_prop1_refutes_equal_singular_values():
    """Balanced data: Lemma A.3's premise fails, the proof's step must not pass."""
    cases = s4._prop1_cases("quick")
    cases[0]["sigma"] = [str(math.sqrt(5))] * 3
    assert s4.judge_prop1(cases).status is Status.REFUTED


def test_prop1_undecided_without_a_certificate():
    cases = s4._prop1_cases("quick")
    cases[1]["gap"] = 1e-3
    assert s4.judge_prop1(cases).status is Status.UNDECIDED


# --- lemmaA1v ------------------------------------------------------------------------------

def wrong_alpha_prime(alpha, k):
    """A perturbed formula: k / (exp(alpha) + k) instead of k / (exp(alpha) + k - 1)."""
    if isinstance(alpha, sympy.Basic):
        return k / (sympy.exp(alpha) + k)
    return k / (alpha.context.exp(alpha) + k)


def flipped_alpha_prime(alpha, k):
    return -s4.alpha_prime_paper(alpha, k)


@pytest.mark.parametrize("formula", [wrong_alpha_prime, flipped_alpha_prime])
def test_lemmaA1v_refutes_wrong_formulas(formula):
    v = s4.judge_lemmaA1v(formula, ks=(3,), alphas=("1",))
    assert v.status is Status.REFUTED


def test_lemmaA1v_numeric_part_alone_refutes_a_tiny_perturbation():
    """A formula wrong by a relative 1e-20 passes no 80-digit comparison."""

    def nudged(alpha, k):
        if isinstance(alpha, sympy.Basic):
            return s4.alpha_prime_paper(alpha, k)
        return s4.alpha_prime_paper(alpha, k) * (1 + alpha.context.mpf(10) ** -20)

    assert s4.judge_lemmaA1v(nudged, ks=(2,), alphas=("2",)).status is Status.REFUTED


# --- prop2 ---------------------------------------------------------------------------------

def test_prop2_true_series_verified_with_reported_rate():
    v = s4.judge_prop2(s4._prop2_series("quick"))
    assert v.status is Status.VERIFIED
    assert "log(1/lam)^" in v.evidence["series"][0]["fitted_rate"]


def test_prop2_refutes_a_plateau():
    """A direction error that stalls at 0.05 (no convergence to Zhat) is refuted."""
    series = s4._prop2_series("quick")
    series[0]["direction_error"] = [e + 0.05 for e in series[0]["direction_error"]]
    assert s4.judge_prop2(series).status is Status.REFUTED


def test_prop2_refutes_a_non_monotone_path():
    series = s4._prop2_series("quick")
    err = series[0]["direction_error"]
    err[-1] = err[-3]
    assert s4.judge_prop2(series).status is Status.REFUTED


# --- thm2 ----------------------------------------------------------------------------------

def thm2_runs(lam_for_grams):
    from seli_exact.regpath import gd_ufm

    counts = from_counts([3, 2, 1])
    point = solve_regpath_point(counts, lam_for_grams)
    G_W, G_M, _ = point.grams()
    g = gd_ufm(counts, 0.2, d=3, seed=4)
    return [{"name": "x", "W": g.W, "H": g.H, "grad_norm": g.grad_norm, "G_W": G_W,
             "G_M": G_M, "Z": point.Z(), "labels": counts.labels()}]


def test_thm2_verified_when_lams_agree():
    assert s4.judge_thm2(thm2_runs(0.2)).status is Status.VERIFIED


def test_thm2_refutes_grams_of_the_wrong_lambda():
    assert s4.judge_thm2(thm2_runs(0.21)).status is Status.REFUTED


def test_thm2_refutes_the_seli_grams():
    """Proposition 1 in another guise: the UF-SVM's Gram matrices are not GD's at finite lam."""
    runs = thm2_runs(0.2)
    counts = from_counts([3, 2, 1])
    from seli_exact import seli_geometry

    g = seli_geometry(counts)
    scale = np.trace(runs[0]["G_W"]) / np.trace(g.W_gram)
    runs[0].update(G_W=scale * g.W_gram, G_M=scale * g.M_gram)
    assert s4.judge_thm2(runs).status is Status.REFUTED


# --- sec4.4 --------------------------------------------------------------------------------

def sec44_case(Xi, counts, lam=0.1):
    from seli_exact.regpath import direction_error

    return [{"name": "x", "lam": lam, "counts": counts, "Xi": Xi,
             "two_layer_direction_error": direction_error(solve_regpath_point(counts, lam).M, counts)}]


def test_sec44_true_inputs_verified():
    assert s4.judge_sec44(s4._sec44_cases("quick")).status is Status.VERIFIED


def test_sec44_refutes_a_wrong_scale():
    c = step(4, 10, "1/2", 5)
    from seli_exact import sel_matrix

    Xi = 1.01 * linear_scale(4, 0.1) * sel_matrix(c)
    assert s4.judge_sec44(sec44_case(Xi, c)).status is Status.REFUTED


def test_sec44_refutes_the_two_layer_solution_as_linear_solution():
    """Z_lam of (7) (the two-layer model) is not the linear model's solution under imbalance."""
    c = step(4, 10, "1/2", 5)
    Z = solve_regpath_point(c, 0.1).Z()
    Xi = Z * (linear_scale(4, 0.1) * np.linalg.norm(class_sel(4)) / np.linalg.norm(Z))
    assert s4.judge_sec44(sec44_case(Xi, c)).status is Status.REFUTED


def test_sec44_refutes_a_missing_contrast():
    c = step(4, 10, "1/2", 5)
    from seli_exact.regpath import linear_solution

    cases = sec44_case(linear_solution(c, 0.1), c)
    cases[0]["two_layer_direction_error"] = 0.0  # planted: the two-layer model on the SEL direction
    assert s4.judge_sec44(cases).status is Status.REFUTED


# --- margin_positive -----------------------------------------------------------------------

def test_margin_positive_verified_and_refuted():
    pts = s4._margin_points("quick")
    assert s4.judge_margin_positive(pts).status is Status.VERIFIED
    bad = class_sel(4).copy()
    bad[:, [2, 3]] = bad[:, [3, 2]]  # two minority classes swapped: margin -1
    pts.append({"name": "planted", "lam": 1e-3, "M": 5 * bad, "relative_gap": 0.0})
    v = s4.judge_margin_positive(pts)
    assert v.status is Status.REFUTED and v.worst < 0


def test_margin_positive_undecided_without_a_certificate():
    pts = s4._margin_points("quick")[:2]
    pts[0]["relative_gap"] = 1e-4
    assert s4.judge_margin_positive(pts).status is Status.UNDECIDED


# --- no_minority_collapse ------------------------------------------------------------------

def test_no_minority_collapse_verified():
    assert s4.judge_no_minority_collapse(*s4._minority_inputs("quick")).status is Status.VERIFIED


def test_no_minority_collapse_refutes_collapsed_minorities():
    finite, vanishing = s4._minority_inputs("quick")
    finite[1]["minority_cosine"] = 1.0
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.REFUTED


def test_no_minority_collapse_refutes_a_cosine_that_does_not_grow_with_R():
    finite, vanishing = s4._minority_inputs("quick")
    vanishing[-1]["minority_cosine"] = vanishing[1]["minority_cosine"]
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.REFUTED


def test_minority_cosine_tends_to_formula_4_as_lam_vanishes():
    """Independent route: at small lam the minority cosine approaches the SELI value (4)."""
    R = 100
    formula = (-2 + math.sqrt((R + 1) / 2)) / (4 - 2 + math.sqrt((R + 1) / 2))
    G = [solve_regpath_point(step(4, R, "1/2", 5), lam).grams()[0] for lam in (1e-4, 1e-8)]
    cos = [g[2, 3] / math.sqrt(g[2, 2] * g[3, 3]) for g in G]
    assert abs(cos[1] - formula) < abs(cos[0] - formula) < 0.1

