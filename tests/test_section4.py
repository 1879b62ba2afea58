"""Section 4 claims: the independent optimality check of (7), the calibration of the metric
library, and what the judges compute, beyond the planted inputs every module carries."""

import math

import mpmath
import numpy as np
import pytest
import sympy

from proofs_check import kkt7, tolerances
from proofs_check.calibration import calibrate, calibration_rows
from proofs_check.claims import lemmaA1v, margin_positive, prop2
from proofs_check.path_points import path_point, point_rows
from seli_exact import from_counts, step
from seli_exact.regpath import class_sel, linear_scale, min_margin, solve_regpath_point
from seli_exact.verdict import Status

FIG1 = step(4, 10, "1/2", 5)


# ------------------------------------------------------------------ optimality of (7), apart
@pytest.mark.parametrize("counts", [FIG1, from_counts([20, 9, 4, 2, 1]), step(3, 4, "1/3", 3)])
@pytest.mark.parametrize("lam", [1.0, 1e-2, 1e-6])
def test_kkt_vanishes_at_certified_solutions_and_sees_another_lam(counts, lam):
    p = solve_regpath_point(counts, lam)
    assert kkt7.residual(p.M, counts, lam) <= tolerances.kkt7(counts)  # the claims' tolerance
    assert kkt7.residual(p.M, counts, 1.01 * lam) > 1e-3  # the solution of another problem


def test_kkt_at_zero_solution():
    # lam >= sigma_max: M = 0 is optimal iff ||Zhat / lam||_2 <= 1
    sigma_max = np.linalg.svd(class_sel(4) * np.sqrt(np.asarray(FIG1.counts, float)), compute_uv=False)[0]
    zero = np.zeros((4, 4))
    assert kkt7.residual(zero, FIG1, 1.01 * sigma_max) == 0.0
    assert kkt7.residual(zero, FIG1, 0.5 * sigma_max) > 0.1


def test_kkt_agrees_with_the_solvers_own_residual_where_both_are_small():
    p = solve_regpath_point(FIG1, 1e-3)
    tol = tolerances.kkt7(FIG1)
    assert kkt7.residual(p.M, FIG1, 1e-3) <= tol and p.kkt_residual <= tol
    M = p.M * 1.001
    assert kkt7.residual(M, FIG1, 1e-3) > 1e-6


def test_uncertified_points_are_not_read():
    p = path_point(FIG1, 1e-2)
    from dataclasses import replace

    rows = point_rows(replace(p, relative_gap=1e-3))
    assert len(rows) == 1 and rows[0]["undecided"]


# ------------------------------------------------------------------ the metric library's reading
def test_calibration_reads_zero_at_seli():
    cal = calibrate(FIG1)
    # the dense route's SELI point read by the float64 metric library: within its accuracy
    assert max(cal.seli) <= tolerances.lapack(FIG1) and all(r["ok"] for r in calibration_rows(cal))
    assert min(cal.etf_expected) < 1e-12 < max(cal.etf_expected)  # logits coincide; the rest not


# ------------------------------------------------------------------ Lemma A.1 (v)
def test_symbolic_decision_is_exact_or_undecided():
    a = lemmaA1v.ALPHA
    e = sympy.exp(a / 3)
    assert lemmaA1v.symbolic_zero(e**2 / (e**3 + 2) - 1 / (e + 2 / e**2), 3) is True
    assert lemmaA1v.symbolic_zero(e**2 / (e**3 + 2) - 1 / (e + 2.0000001 / e**2), 3) is False
    assert lemmaA1v.symbolic_zero(sympy.sin(a), 3) is None  # not rational in exp(alpha/3)


def test_linear_scale_solves_the_papers_equation_at_50_digits():
    """Independent route: the root of lam alpha = k / (e^alpha + k - 1) by mpmath.findroot."""
    for k, lam in ((4, 0.1), (3, 1e-4), (10, 2.0)):
        with mpmath.workdps(50):
            ref = mpmath.findroot(lambda a: lam * a - k / (mpmath.exp(a) + k - 1), 1.0)
        # brentq's stopping rule in linear_scale: rtol = 4 eps = 8 units of roundoff
        assert abs(linear_scale(k, lam) - float(ref)) <= 8 * tolerances.UNIT_ROUNDOFF * float(ref)


# ------------------------------------------------------------------ margins, rates, minorities
def test_min_margin_matches_the_dense_margins_of_Z():
    """Independent route: margins over all n columns of Z = M Y."""
    for case in margin_positive.cases("quick")[:4]:
        c, M = case.point.counts, case.point.M
        Z = M[:, c.labels()]
        y, cols = c.labels(), np.arange(c.n)
        others = Z.copy()
        others[y, cols] = -np.inf
        dense = float(np.min(Z[y, cols] - others.max(axis=0)))
        # differences of the same float64 entries of M: exact, whatever the order
        assert dense == min_margin(M) == margin_positive.own_margin(M)


def test_prop2_accepts_a_clean_power_law(monkeypatch):
    base = prop2.series(10)
    L = np.log(1 / np.asarray(prop2.LAMS))
    errors = 0.2 / L  # exponents all 1
    # the dense route's direction errors made to agree, so that the rate alone decides
    lookup = {id(p.M): e for p, e in zip(base.points, errors)}
    monkeypatch.setattr(prop2.path_reference, "direction_error", lambda M, c: lookup[id(M)])
    v = prop2.judge([prop2._with_errors(base, errors)])
    assert v.status is Status.VERIFIED
    assert "log(1/lam)^" in [r for r in v.evidence["instances"] if "fitted_rate" in r][0]["fitted_rate"]


def test_minority_cosine_tends_to_formula_4_as_lam_vanishes():
    """Independent route: at small lam the minority cosine approaches the SELI value (4)."""
    R = 100
    formula = (-2 + math.sqrt((R + 1) / 2)) / (4 - 2 + math.sqrt((R + 1) / 2))
    G = [solve_regpath_point(step(4, R, "1/2", 5), lam).grams()[0] for lam in (1e-4, 1e-8)]
    cos = [g[2, 3] / math.sqrt(g[2, 2] * g[3, 3]) for g in G]
    assert abs(cos[1] - formula) < abs(cos[0] - formula) < 0.1


@pytest.mark.parametrize("lam", [1.0, 1e-2, 1e-4])
def test_linear_stationarity_bounds_the_true_error(lam):
    """Strong convexity: ||Xi - Xi_lam|| <= ||grad L(Xi) + lam Xi|| / lam. At Xi = Xi_lam + delta the
    reported relative bound must cover the true relative error ||delta|| / ||Xi||, and the
    residual must be the gradient's, from scipy's softmax (not the library's)."""
    from scipy.special import softmax

    from seli_exact.regpath import linear_solution, linear_stationarity

    counts = from_counts([9, 4, 1])
    exact = linear_solution(counts, lam)
    delta = 1e-3 * np.random.default_rng(0).standard_normal(exact.shape) * np.linalg.norm(exact) / exact.size**0.5
    Xi = exact + delta
    got = linear_stationarity(Xi, counts, lam)
    Y = np.eye(counts.k)[:, counts.labels()]
    residual = np.linalg.norm(softmax(Xi, axis=0) - Y + lam * Xi)
    assert got["residual"] == pytest.approx(residual, rel=1e-9)
    true = np.linalg.norm(delta) / np.linalg.norm(Xi)
    assert true <= got["relative_error_bound"] <= (1 + 1 / lam) * true * 1.01  # L-smooth, L <= 1


# ------------------------------------------------------------------ sec4.path: every branch
def test_the_quick_profile_runs_every_branch_of_the_solver():
    """sec4.path's quick cases: each branch of seli_exact.regpath's solver produces a point, the
    factored Newton at rank-deficient points, and zero both above sigma_max and through the
    rank-deficient route (iterations > 0)."""
    from proofs_check.claims import sec4_path
    from seli_exact.regpath.solver import METHODS

    points = [c.point.solution for c in sec4_path.cases("quick")
              if isinstance(c, sec4_path.BranchCase)]
    assert {p.method for p in points} == set(METHODS) - {"auto"}
    assert any(p.method == "factored-newton" and p.rank < p.counts.k - 1 for p in points)
    zeros = [p for p in points if p.method == "zero"]
    assert any(p.iterations == 0 for p in zeros) and any(p.iterations > 0 for p in zeros)
