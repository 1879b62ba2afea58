"""Soundness of the Section 4 checks: each judge refutes a planted wrong input, and the
true inputs pass (the registered checks themselves run in proofs_check/test_claims.py)."""

import math

import numpy as np
import pytest
import sympy

from proofs_check.checks import section4 as s4
from seli_exact.verdict import Status
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


def test_prop1_refutes_a_path_within_solver_accuracy_of_seli():
    """A distance of 1e-12 is SELI up to the solver's accuracy: it must not count as "not SELI"."""
    cases = s4._prop1_cases("quick")
    cases[2]["dist_max"][-1] = 1e-12
    v = s4.judge_prop1(cases)
    assert v.status is Status.REFUTED and v.evidence["failing"]["min_dist_seli"] == 1e-12


def test_prop1_pipeline_sees_a_seli_point():
    """End to end: the distance prop1 measures is ~0 at a SELI point (a multiple of the SEL
    matrix put in place of the solution), so the judge can fail on real solver output too."""
    import dataclasses

    from seli_exact.regpath import path_metrics

    cases = s4._prop1_cases("quick")
    p = solve_regpath_point(s4.PAPER, 1e-2)
    seli = path_metrics(dataclasses.replace(p, M=7.0 * class_sel(4))).dist_seli
    cases[0]["dist_max"][1] = max(float(seli.classifiers), float(seli.embeddings),
                                  float(seli.logits))
    assert cases[0]["dist_max"][1] < 1e-14
    assert s4.judge_prop1(cases).status is Status.REFUTED


def test_prop1_refutes_equal_singular_values():
    """Balanced data: Lemma A.3's premise fails, the proof's step must not pass."""
    cases = s4._prop1_cases("quick")
    cases[0]["sigma"] = [str(math.sqrt(5))] * 3
    assert s4.judge_prop1(cases).status is Status.REFUTED


def test_prop1_does_not_verify_an_undefined_distance():
    """A NaN distance (min() would skip it depending on its position) cannot count as not-SELI."""
    for pos in (0, -1):
        cases = s4._prop1_cases("quick")
        cases[0]["dist_max"][pos] = float("nan")
        assert s4.judge_prop1(cases).status is not Status.VERIFIED


def test_prop1_undecided_without_a_certificate():
    cases = s4._prop1_cases("quick")
    cases[1]["gap"] = 1e-3
    assert s4.judge_prop1(cases).status is Status.UNDECIDED
    cases[1]["gap"] = float("nan")
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


@pytest.mark.parametrize("formula", [flipped_alpha_prime, lambda a, k: 0 * a,
                                     lambda a, k: 2 * s4.alpha_prime_paper(a, k)])
def test_lemmaA1v_numeric_part_alone_refutes_wrong_formulas(formula):
    """Without the symbolic part (ks=()): a flipped sign, a zero or a doubled alpha' must fail
    the 80-digit comparison too (the residual is scaled by the gradient, not by alpha')."""
    v = s4.judge_lemmaA1v(formula, ks=(), alphas=("1",))
    assert v.status is Status.REFUTED and v.worst > 0.1


def test_lemmaA1v_symbolic_part_alone_refutes_a_wrong_formula():
    """Exact decision (rational in exp(alpha/k)), not sampling: the numeric part is skipped."""
    v = s4.judge_lemmaA1v(wrong_alpha_prime, ks=(4,), alphas=(), counts_list=[s4.PAPER])
    assert v.status is Status.REFUTED and v.evidence["k"] == 4


def test_lemmaA1v_symbolic_decision_is_exact_or_undecided():
    a = sympy.Symbol("alpha", positive=True)
    e = sympy.exp(a / 3)
    assert s4._symbolic_zero(e**2 / (e**3 + 2) - 1 / (e + 2 / e**2), a, 3) is True
    assert s4._symbolic_zero(e**2 / (e**3 + 2) - 1 / (e + 2.0000001 / e**2), a, 3) is False
    assert s4._symbolic_zero(sympy.sin(a), a, 3) is None  # not rational in exp(alpha/3)


def test_lemmaA1v_true_formula_verified():
    assert s4.judge_lemmaA1v(s4.alpha_prime_paper, ks=(2, 3, 5)).status is Status.VERIFIED


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


@pytest.mark.parametrize("stall", ["creep", "slow_power", "offset"])
def test_prop2_refutes_stalled_sequences(stall):
    """Strictly decreasing but not converging to 0 (or not at a usable rate): refuted.
    creep: 0.05 - 1e-10 j (local exponents ~1e-9 that *grow* along the grid);
    slow_power: 0.1 log(1/lam)^-0.05; offset: 0.02 + 0.1 / log(1/lam) (exponents decay)."""
    series = s4._prop2_series("quick")
    L = np.log(1 / np.asarray(series[0]["lams"]))
    series[0]["direction_error"] = {
        "creep": [0.05 - 1e-10 * j for j in range(len(L))],
        "slow_power": list(0.1 * L**-0.05),
        "offset": list(0.02 + 0.1 / L),
    }[stall]
    assert all(np.diff(series[0]["direction_error"]) < 0)
    assert s4.judge_prop2(series).status is Status.REFUTED


def test_prop2_accepts_a_clean_power_law_and_errors_on_a_short_grid():
    lams = [10.0**-j for j in range(1, 9)]
    err = list(0.2 / np.log(1 / np.asarray(lams)))  # err ~ log(1/lam)^-1: exponents all 1
    good = [{"name": "x", "lams": lams, "direction_error": err}]
    assert s4.judge_prop2(good).status is Status.VERIFIED
    short = [{"name": "x", "lams": lams[:2], "direction_error": good[0]["direction_error"][:2]}]
    assert s4.judge_prop2(short).status is Status.ERROR


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
             "G_M": G_M, "Z": point.Z(), "relative_gap": point.relative_gap,
             "labels": counts.labels()}]


def test_thm2_verified_when_lams_agree():
    assert s4.judge_thm2(thm2_runs(0.2)).status is Status.VERIFIED


def test_thm2_refutes_grams_of_the_wrong_lambda():
    assert s4.judge_thm2(thm2_runs(0.21)).status is Status.REFUTED


def test_thm2_refutes_grams_of_a_slightly_wrong_lambda():
    """A relative change of 1e-5 in lam moves (8)'s Grams by ~1e-5, far above the tolerance."""
    v = s4.judge_thm2(thm2_runs(0.2 * (1 + 1e-5)))
    assert v.status is Status.REFUTED and v.worst > 1e-7


def test_thm2_undecided_when_gd_did_not_converge():
    runs = thm2_runs(0.2)
    runs[0]["grad_norm"] = 1e-6
    assert s4.judge_thm2(runs).status is Status.UNDECIDED
    runs[0]["grad_norm"] = float("nan")
    assert s4.judge_thm2(runs).status is Status.UNDECIDED


def test_thm2_undecided_when_7_is_not_certified():
    runs = thm2_runs(0.2)
    runs[0]["relative_gap"] = 1e-6
    assert s4.judge_thm2(runs).status is Status.UNDECIDED


def test_sec44_and_no_minority_collapse_undecided_without_certificates():
    c = step(4, 10, "1/2", 5)
    from seli_exact.regpath import linear_solution

    cases = sec44_case(linear_solution(c, 0.1), c)
    cases[0]["two_layer_gap"] = 1e-6
    assert s4.judge_sec44(cases).status is Status.UNDECIDED
    finite, vanishing = s4._minority_inputs("quick")
    vanishing[0]["relative_gap"] = float("nan")
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.UNDECIDED


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

    p = solve_regpath_point(counts, lam)
    return [{"name": "x", "lam": lam, "counts": counts, "Xi": Xi,
             "two_layer_direction_error": direction_error(p.M, counts),
             "two_layer_gap": p.relative_gap}]


def test_sec44_true_inputs_verified():
    assert s4.judge_sec44(s4._sec44_cases("quick")).status is Status.VERIFIED


def test_sec44_refutes_a_wrong_scale():
    c = step(4, 10, "1/2", 5)
    from seli_exact import sel_matrix

    Xi = 1.01 * linear_scale(4, 0.1) * sel_matrix(c)
    assert s4.judge_sec44(sec44_case(Xi, c)).status is Status.REFUTED


def test_sec44_refutes_a_scale_wrong_by_one_part_in_a_million():
    c = step(4, 10, "1/2", 5)
    from seli_exact import sel_matrix

    Xi = (1 + 1e-6) * linear_scale(4, 0.1) * sel_matrix(c)
    v = s4.judge_sec44(sec44_case(Xi, c))
    assert v.status is Status.REFUTED and v.worst > 1e-8


def test_linear_scale_solves_the_paper_equation_at_50_digits():
    """Independent route: the root of lam alpha = k / (e^alpha + k - 1) by mpmath.findroot."""
    import mpmath

    for k, lam in ((4, 0.1), (3, 1e-4), (10, 2.0)):
        with mpmath.workdps(50):
            ref = mpmath.findroot(lambda a: lam * a - k / (mpmath.exp(a) + k - 1), 1.0)
        assert abs(linear_scale(k, lam) - float(ref)) <= 4e-16 * float(ref)


def test_sec44_refutes_a_contrast_on_balanced_data():
    """Balanced data: the two-layer model must be on the SEL direction; a planted 1e-3 fails."""
    c = step(4, 1, "1/2", 5)
    from seli_exact.regpath import linear_solution

    cases = sec44_case(linear_solution(c, 0.1), c)
    assert s4.judge_sec44(cases).status is Status.VERIFIED
    cases[0]["two_layer_direction_error"] = 1e-3
    assert s4.judge_sec44(cases).status is Status.REFUTED


def test_sec44_does_not_verify_nan_inputs():
    c = step(4, 10, "1/2", 5)
    from seli_exact.regpath import linear_solution

    cases = sec44_case(linear_solution(c, 0.1), c)
    cases[0]["two_layer_direction_error"] = float("nan")
    assert s4.judge_sec44(cases).status is Status.REFUTED
    cases = sec44_case(np.full((4, c.n), np.nan), c)
    assert s4.judge_sec44(cases).status is Status.REFUTED


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


def test_margin_positive_refutes_a_zero_margin():
    """A tie (margin exactly 0) is not a strictly positive margin."""
    pts = s4._margin_points("quick")[:2]
    tie = 5 * class_sel(4)
    tie[3, 2] = tie[2, 2]  # class 3's logit equals class 2's on class 2's examples
    pts.append({"name": "tie", "lam": 1e-3, "M": tie, "relative_gap": 0.0})
    v = s4.judge_margin_positive(pts)
    assert v.status is Status.REFUTED and v.worst == 0.0


def test_min_margin_matches_the_dense_margins_of_Z():
    """Independent route: margins over all n columns of Z = M Y."""
    for p in s4._margin_points("quick")[:4]:
        c = step(4, int(p["name"][2:]), "1/2", 5)
        Z = p["M"][:, c.labels()]
        y, cols = c.labels(), np.arange(c.n)
        others = Z.copy()
        others[y, cols] = -np.inf
        dense = float(np.min(Z[y, cols] - others.max(axis=0)))
        assert dense == pytest.approx(s4.min_margin(p["M"]), rel=1e-14)


def test_margin_positive_undecided_without_a_certificate():
    pts = s4._margin_points("quick")[:2]
    pts[0]["relative_gap"] = 1e-4
    assert s4.judge_margin_positive(pts).status is Status.UNDECIDED
    pts[0]["relative_gap"] = float("nan")  # a broken certificate is no certificate
    assert s4.judge_margin_positive(pts).status is Status.UNDECIDED


# --- no_minority_collapse ------------------------------------------------------------------

def test_no_minority_collapse_verified():
    assert s4.judge_no_minority_collapse(*s4._minority_inputs("quick")).status is Status.VERIFIED


def test_no_minority_collapse_refutes_collapsed_minorities():
    finite, vanishing = s4._minority_inputs("quick")
    finite[1]["minority_cosine"] = 1.0
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.REFUTED


def test_no_minority_collapse_refutes_a_cosine_within_rounding_of_one():
    finite, vanishing = s4._minority_inputs("quick")
    finite[-1]["minority_cosine"] = 1.0 - 1e-14
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.REFUTED


def test_no_minority_collapse_errors_on_lam_not_below_one_half():
    finite, vanishing = s4._minority_inputs("quick")
    finite[0]["lam"] = 0.5
    assert s4.judge_no_minority_collapse(finite, vanishing).status is Status.ERROR


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

