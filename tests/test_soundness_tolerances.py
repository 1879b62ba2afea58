"""Every tolerance of proofs_check.tolerances at its boundary, in a judge that uses it.

Just inside (half the tolerance) must be verified; just outside must be refuted (or, for a gate,
undecided). "Outside" is twice a bound stated here independently of tolerances.py, from float64's
unit roundoff u = 2^-53 with the growth factor each tolerance documents, or from the solver's
own stopping rule; so a tolerance loosened even 3x (let alone 1000x) fails a test here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from proofs_check import tolerances
from proofs_check.claims import (
    cert_complementary_slackness,
    cert_duality_gap,
    lemmaA1v,
    margin_positive,
    no_minority_collapse,
    prop1,
    prop2,
    relax_optimum,
    relax_tight,
    remark3_2,
    sec4_4,
    sec5_metrics,
    thm1_any_counts,
    thm2,
)
from proofs_check.evidence import residual_row, verdict
from proofs_check.lapack import reference
from proofs_check.path_points import path_point
from seli_exact import from_counts, seli_geometry, sel_matrix, simplex_gram, step
from seli_exact.verdict import Status

U = 2.0**-53  # float64 unit roundoff
RTOL64 = 2**10 * U  # the suite's float64 tolerance: ten bits over one rounding
FIG1 = step(4, 10, "1/2", 5)
V, R, D = Status.VERIFIED, Status.REFUTED, Status.UNDECIDED


def _status(module, cases):
    return module.judge(cases).status


def test_the_stated_units():
    assert tolerances.UNIT_ROUNDOFF == U == np.finfo(float).eps / 2
    assert tolerances.RTOL64 == RTOL64


# ------------------------------------------------------------------ float64 and the dense route
def test_lapack_tolerance_boundary():
    """cert.duality_gap against the float64 dense route: RTOL64 (k + 1) cond."""
    k, cond = FIG1.k, 10
    bound = RTOL64 * (k + 1) * cond
    G = seli_geometry(FIG1).M_gram
    nuc = reference(FIG1).nuclear_norm

    def case(rel):
        return cert_duality_gap.Case("fig1", FIG1, G, nuc * (1 + rel), "dense float64")

    assert _status(cert_duality_gap, [case(0.5 * tolerances.lapack(FIG1))]) is V
    assert _status(cert_duality_gap, [case(2 * bound)]) is R


def test_float64_tolerance_boundary():
    """cert.complementary_slackness at Zhat: a slack of one entry; RTOL64 (k + 1)."""
    base = cert_complementary_slackness._zhat_case()
    bound = RTOL64 * (FIG1.k + 1)

    def case(delta):
        Z = simplex_gram(4).copy()
        Z[1, 0] -= delta  # class 0's margin over class 1 becomes 1 + delta
        return replace(base, Z_class=Z)

    assert _status(cert_complementary_slackness, [case(0.5 * tolerances.float64(4))]) is V
    assert _status(cert_complementary_slackness, [case(2 * bound)]) is R


def test_mp_tolerance_boundary():
    """cert.duality_gap against the 50-digit dense route: 10^-(50 - 5)."""
    Gm = seli_geometry(FIG1, "mpmath", 50).M_gram
    with mpmath.workdps(70):
        nuc = reference(FIG1, 50).nuclear_norm

        def case(rel):
            return cert_duality_gap.Case("fig1", FIG1, Gm, nuc * (1 + mpmath.mpf(rel)), "dense 50 digits")

        inside, outside = case(0.5 * tolerances.mp()), case(2 * 10.0**-45)
    assert _status(cert_duality_gap, [inside]) is V
    assert _status(cert_duality_gap, [outside]) is R


def test_undecidable_boundary():
    """A comparison whose tolerance exceeds 10^-3 decides nothing: undecided, not verified."""
    assert tolerances.decidable(0.5e-3) and not tolerances.decidable(2e-3)
    assert verdict("x", [residual_row("a", 0.0, 0.5e-3)]).status is V
    assert verdict("x", [residual_row("a", 0.0, 2e-3)]).status is D
    # in a judge: counts whose condition number puts the dense route's tolerance there
    def counts_at(tol):  # RTOL64 (k + 1) cond = tol with k = 3, counts (1, 1, N)
        return from_counts([1, 1, round(tol / (RTOL64 * 4))])

    for tol, status in ((0.5e-3, V), (2e-3, D)):
        c = counts_at(tol)
        case = cert_duality_gap.Case("x", c, seli_geometry(c).M_gram, reference(c).nuclear_norm, "dense float64")
        assert _status(cert_duality_gap, [case]) is status, tol


# ------------------------------------------------------------------ solvers
def test_admm_tolerance_boundary():
    """relax.optimum on ADMM's solution: solve_ufsvm's own stopping rule times 10^3."""
    from seli_exact.solvers import solve_ufsvm

    stop = inspect.signature(solve_ufsvm).parameters["tol"].default
    assert stop == tolerances.ADMM_STOP
    base = relax_optimum._fig1()
    zhat = simplex_gram(4)

    def case(delta):
        Z = zhat.copy()
        Z[1, 0] += delta  # distance to Zhat delta, a margin 1 - delta
        return replace(base, Z=Z)

    assert _status(relax_optimum, [case(0.5 * tolerances.admm())]) is V
    assert _status(relax_optimum, [case(2 * stop * 1e3)]) is R


def test_local_tolerance_boundary():
    """relax.tight's best run: the square root of local_search's own ftol."""
    from proofs_check.local_search import local_search

    ftol = inspect.signature(local_search).parameters["ftol"].default
    assert ftol == tolerances.SLSQP_FTOL
    base = relax_tight._fig1()

    def case(rel):  # (W, H) scaled by sqrt(1 + rel): margins 1 + rel, objective p* (1 + rel)
        s = math.sqrt(1 + rel)
        return relax_tight.RunsCase("x", FIG1, ((s * base.W, s * base.H, True),), base.p_star)

    assert _status(relax_tight, [case(0.5 * tolerances.local())]) is V
    assert _status(relax_tight, [case(2 * math.sqrt(ftol))]) is R


def test_not_below_p_star_boundary():
    """relax.tight: a run below p* by more than RTOL64 (n k + 1) is a point of (2) beating p*."""
    base = relax_tight._fig1()
    bound = RTOL64 * (FIG1.n * FIG1.k + 1)

    def case(rel):  # an optimal run against a p* higher by rel: the run "beats" it by rel
        return relax_tight.RunsCase("x", FIG1, ((base.W, base.H, True),), base.p_star * (1 + rel))

    assert _status(relax_tight, [case(0.5 * tolerances.float64(FIG1.n * FIG1.k))]) is V
    v = relax_tight.judge([case(2 * bound)])
    assert any("not below p*" in r["instance"] for r in v.evidence["failing"])


def test_scs_tolerance_boundary():
    """relax.optimum on a full (k, n) solution: SCS's default eps 1e-4, asked for a decade better."""
    nuc = reference(FIG1).nuclear_norm

    def case(rel):
        return relax_optimum.Case("full", FIG1, "cvxpy/SCS", (1 + rel) * sel_matrix(FIG1), None,
                                  True, nuc, "dense route")

    assert _status(relax_optimum, [case(0.5 * tolerances.SCS)]) is V
    assert _status(relax_optimum, [case(2 * 1e-4 / 10)]) is R


# ------------------------------------------------------------------ the regularization path
def test_gap7_gate_boundary():
    """A solution of (7) counts as certified below 10^3 RTOL64; above, undecided."""
    base = margin_positive.build(10, 1e-3)

    def case(gap):
        return replace(base, point=replace(base.point, relative_gap=gap))

    assert _status(margin_positive, [case(0.5 * tolerances.gap7())]) is V
    assert _status(margin_positive, [case(2 * 1e3 * RTOL64)]) is D


def _kkt_case(target: float):
    """margin_positive's case at a point whose KKT residual at lam is about `target`: the
    solution of lam (1 + eps) with eps scaled to the target (the residual is linear in eps)."""
    from proofs_check import kkt7

    c, lam = step(4, 10, "1/2", 5), 1e-3
    probe = 1e-4
    r1 = kkt7.residual(path_point(c, lam * (1 + probe)).M, c, lam)
    eps = probe * target / r1
    M = path_point(c, lam * (1 + eps)).M
    got = kkt7.residual(M, c, lam)
    assert 0.7 * target < got < 1.4 * target, (got, target)
    from seli_exact.regpath import min_margin

    base = margin_positive.build(10, lam)
    return replace(base, point=replace(base.point, M=M, relative_gap=0.0), reported=min_margin(M))


def test_kkt7_tolerance_boundary():
    bound = 1e3 * RTOL64 * 10  # 10^3 RTOL64 cond, cond = R = 10
    assert _status(margin_positive, [_kkt_case(0.5 * tolerances.kkt7(FIG1))]) is V
    assert _status(margin_positive, [_kkt_case(2 * bound)]) is R


def test_distance_floor_boundary():
    """prop1: a distance to SELI must exceed 10^4 RTOL64 to count as "not SELI"."""
    base = prop1.path_case(FIG1, 1e-2)
    floor = 1e4 * RTOL64

    def case(d):
        return replace(base, dist_seli=(d, d, d))

    assert _status(prop1, [case(2 * tolerances.distance_floor())]) is V
    assert _status(prop1, [case(0.5 * floor)]) is R


def test_thm2_tolerance_boundary():
    """thm2: GD's Gram matrices vs (8)'s, relative, 10^5 RTOL64."""
    base = thm2._good()

    def case(rel):  # W^T W off by rel, W^T H by about rel / 2
        return replace(base, W=math.sqrt(1 + rel) * base.W)

    assert _status(thm2, [case(0.5 * tolerances.thm2())]) is V
    assert _status(thm2, [case(2 * 1e5 * RTOL64)]) is R


def test_gd_stationary_gate_boundary():
    base = thm2._good()
    assert _status(thm2, [replace(base, grad_norm=0.5 * tolerances.gd_stationary())]) is V
    assert _status(thm2, [replace(base, grad_norm=2 * 1e4 * RTOL64)]) is D


def test_sec44_tolerance_boundary():
    """sec4.4: the linear model's relative error bound, 10^3 RTOL64 (here with a balanced
    contrast, so the row judged is the linear model's)."""
    c = step(4, 10, "1/2", 5)
    base = sec4_4.build(c, 0.1)
    probe = 1e-6
    r1 = sec4_4.error_bound(replace(base, Xi=(1 + probe) * base.Xi))

    def case(target):
        eps = probe * target / r1
        out = replace(base, Xi=(1 + eps) * base.Xi)
        assert 0.7 * target < sec4_4.error_bound(out) < 1.4 * target
        return out

    assert _status(sec4_4, [case(0.5 * tolerances.sec44())]) is V
    assert _status(sec4_4, [case(2 * 1e3 * RTOL64)]) is R


def test_sec44_contrast_boundary(monkeypatch):
    """Under imbalance the two-layer model must be off the SEL direction by more than 10^6 RTOL64
    (the dense route's direction error is made to agree with each value tried, so that the
    contrast row alone decides)."""
    base = sec4_4.build(step(4, 10, "1/2", 5), 0.1)
    floor = 1e6 * RTOL64
    for value, status in ((2 * tolerances.sec44_contrast(), V), (0.5 * floor, R)):
        monkeypatch.setattr(sec4_4.path_reference, "direction_error", lambda M, c, v=value: v)
        assert _status(sec4_4, [replace(base, two_layer_direction_error=value)]) is status


def test_minority_floor_boundary():
    base = no_minority_collapse.finite_case(10, 0.1)
    floor = 1e4 * RTOL64
    assert _status(no_minority_collapse, [replace(base, minority_cosine=1 - 2 * tolerances.minority_floor())]) is V
    assert _status(no_minority_collapse, [replace(base, minority_cosine=1 - 0.5 * floor)]) is R


def test_prop2_exponent_boundary():
    """A direction error falling like log(1/lam)^-0.3 passes; like log(1/lam)^-0.2 it does not
    (slower than anything the path of (7) shows: measured exponents 0.43 .. 0.82)."""
    base = prop2.series(10)
    L = np.log(1 / np.asarray(prop2.LAMS))
    for errors, status in ((0.1 * L**-0.3, V), (0.1 * L**-0.2, R)):
        # the dense route's direction errors made to agree, so that the rate alone decides
        lookup = {id(p.M): e for p, e in zip(base.points, errors)}
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(prop2.path_reference, "direction_error", lambda M, c: lookup[id(M)])
            assert _status(prop2, [prop2._with_errors(base, errors)]) is status


# ------------------------------------------------------------------ high precision and limits
def test_lemma_a1v_tolerance_boundary():
    """80 digits, half of them kept: a multiplier off by 0.5e-40 passes, by 2e-40 does not."""
    c = from_counts([7, 3, 1])
    good = lemmaA1v.printed(3)

    def case(rel):
        return lemmaA1v.NumericCase(c, "1", good * (1 + sympy.Rational(rel)))

    assert _status(lemmaA1v, [case(sympy.Rational(1, 2) * sympy.Rational(1, 10**40))]) is V
    assert _status(lemmaA1v, [case(2 * sympy.Rational(1, 10**40))]) is R
    assert tolerances.lemma_a1v() == 1e-40


def test_remark32_tolerance_boundary():
    """The approach to sqrt(2) k at R = 10^8, k = 4: within 2 k / sqrt(R) (Eq. (4)'s next order)."""
    base = [c for c in remark3_2.cases("quick") if isinstance(c, remark3_2.ApproachCase)][0]
    k, top = base.k, 10 ** base.exponents[-1]
    target = math.sqrt(2) * k
    with mpmath.workdps(60):
        scaled = float(mpmath.mpf(base.one_minus_cos[-1]) * mpmath.sqrt(top))

    def case(err):  # every 1 - Cos scaled so the last one sits at relative error err
        f = target * (1 + err) / scaled
        return replace(base, one_minus_cos=tuple(g * mpmath.mpf(f) for g in base.one_minus_cos))

    assert _status(remark3_2, [case(0.5 * tolerances.remark32(k, top))]) is V
    assert _status(remark3_2, [case(2 * 2 * k / math.sqrt(top))]) is R


def test_nc1_tolerance_boundary():
    """sec5.metrics' NC1: O(d n) float64 products, RTOL64 (d n + 1)."""
    _, base, meas, _ = sec5_metrics._good()
    bound = RTOL64 * (base.H.size + 1)
    assert _status(sec5_metrics, [replace(base, reported=base.reported * (1 + 0.5 * tolerances.float64(base.H.size)))]) is V
    assert _status(sec5_metrics, [replace(base, reported=base.reported * (1 + 2 * bound))]) is R
    # `seli measure`'s streaming NC1 is held to the larger of the two bounds of its row
    tol = max(tolerances.lapack(meas.counts), tolerances.float64(meas.H.size))

    def scaled(f):
        return sec5_metrics.with_reported(meas, nc1=meas.reported["nc1"] * f)

    assert _status(sec5_metrics, [scaled(1 + 0.5 * tol)]) is V
    c = meas.counts.counts
    stated = max(RTOL64 * (meas.H.size + 1), RTOL64 * (len(c) + 1) * max(c) / min(c))
    assert _status(sec5_metrics, [scaled(1 + 2 * stated)]) is R


def test_measure_nc2_to_nc4_and_norms_boundary():
    """sec5.metrics' rows for the rest of `seli measure`'s report: the same bound as its
    distances; an NC4 disagreement is undecided only at a near tie (100 RTOL64 (d n + 1))."""
    _, _, meas, _ = sec5_metrics._good()
    tol = max(tolerances.lapack(meas.counts), tolerances.float64(meas.H.size))
    c = meas.counts.counts
    stated = max(RTOL64 * (meas.H.size + 1), RTOL64 * (len(c) + 1) * max(c) / min(c))
    flat = sec5_metrics.measure_reference.flatten(meas.reported)

    def moved(key, f):
        return sec5_metrics.with_reported(meas, **{key.replace(".", "__"): flat[key] + f})

    for key in ("nc3.measured", "nc3.seli", "nc2.embeddings.seli", "norms.classifiers.error_seli",
                "distance_to_etf.logits"):
        assert _status(sec5_metrics, [moved(key, 0.5 * tol)]) is V, key
        assert _status(sec5_metrics, [moved(key, 2 * stated)]) is R, key


def test_nc4_tie_gate_boundary(monkeypatch):
    _, _, meas, _ = sec5_metrics._good()
    want, _ = sec5_metrics.expected_measure(meas)
    off = sec5_metrics.with_reported(meas, nc4=want["nc4"] + 1 / meas.counts.n)
    stated = 100 * RTOL64 * (meas.H.size + 1)
    for tie, status in ((0.5 * tolerances.nc4_tie(meas.H.size), D), (2 * stated, R)):
        monkeypatch.setattr(sec5_metrics, "expected_measure", lambda case, t=tie: (want, t))
        assert _status(sec5_metrics, [off]) is status, tie


def test_every_tolerance_function_has_a_boundary_test_here():
    import pathlib

    text = pathlib.Path(__file__).read_text()
    names = [n for n, f in vars(tolerances).items()
             if inspect.isfunction(f) and f.__module__ == tolerances.__name__ and n != "condition"]
    untested = [n for n in names if f"tolerances.{n}(" not in text]
    assert not untested, untested


# ------------------------------------------------------------------ thm1.any_counts
def _part(part, case_list):
    """A part of thm1.any_counts judged alone, and the whole judge on the same cases (which
    must be refuted whenever the part is: a refuted step refutes the theorem)."""
    v = thm1_any_counts.part_verdict(part, case_list)
    if v.status is R:
        assert thm1_any_counts.judge(case_list).status is R
    return v.status


def _routes_case(scale64, scale_mp, counts):
    """thm1.any_counts' routes part with the dense route's G_M scaled (float64 / 50 digits)."""
    from proofs_check import any_counts_steps as steps

    def geometry(c, ar, route):
        g = seli_geometry(c, ar, route=route)
        if route != "dense":
            return g
        f = scale64 if g.M_gram.dtype != object else ar.number(scale_mp)
        return replace(g, M_gram=g.M_gram * f)

    return thm1_any_counts.StepCase("routes", steps.routes_agree([counts], geometry=geometry))


def test_any_counts_mp_tolerance_boundary():
    """Steps 3, 5 and the routes compare at 50 digits: 10^-(50 - 5), here on the routes part."""
    c = from_counts([9, 4, 4, 4, 2])
    inside = 1 + Fraction(0.5 * tolerances.mp())
    outside = 1 + 2 * Fraction(1, 10**45)
    assert _part("routes", [_routes_case(1.0, inside, c)]) is V
    assert _part("routes", [_routes_case(1.0, outside, c)]) is R


def test_any_counts_lapack_tolerance_boundary():
    """The routes part in float64 against LAPACK's dense route: RTOL64 (k + 1) cond."""
    c = from_counts([9, 4, 4, 4, 2])
    bound = RTOL64 * (c.k + 1) * 9 / 2
    assert _part("routes", [_routes_case(1 + 0.5 * tolerances.lapack(c), 1, c)]) is V
    assert _part("routes", [_routes_case(1 + 2 * bound, 1, c)]) is R


def test_slack_tightness_boundary(monkeypatch):
    """Step 6: the bound judged must come within 10^-6 of -G_M on the tightness family (whose
    closest member is 1 + 1.1e-9 from F_k, so F_k / (1 + rel) is at about rel). The rows that
    pin F_k to its integral are left out here, so that the tightness row alone decides."""
    from derivations.any_counts import slack_bound
    from proofs_check import any_counts_steps as steps

    monkeypatch.setattr(steps, "_bound_value_rows", lambda *bounds: [])

    def case(rel):
        return thm1_any_counts.StepCase("step6", steps.step6_slack(
            [], symbolic=False, bound=lambda k, a, b: slack_bound(k, a, b) / (1 + rel)))

    assert _part("step6", [case(0.5 * tolerances.slack_tightness())]) is V
    assert _part("step6", [case(2 * 1e-6)]) is R


def test_simple_bound_infimum_boundary():
    """Step 6: the simple bound's constant must be F_k's infimum within 10^-6 (read off F_k at
    n_i / n_j = 10^40, where F_k (sqrt n_i + sqrt n_j) sqrt(k (k-1)) is 1 + O(10^-20))."""
    from derivations.any_counts import simple_slack_bound
    from proofs_check import any_counts_steps as steps

    def case(rel):
        return thm1_any_counts.StepCase("step6", steps.step6_slack(
            [], symbolic=False, tightness=False,
            simple=lambda k, a, b: simple_slack_bound(k, a, b) / (1 + rel)))

    assert _part("step6", [case(0.5 * tolerances.slack_tightness())]) is V
    assert _part("step6", [case(2 * 1e-6)]) is R


def test_any_counts_admm_and_float64_boundaries_on_arbitrary_counts():
    """Step 7's parts keep their judges' tolerances on non-STEP counts: uniqueness at ADMM's
    stopping rule times 10^3, complementary slackness at RTOL64 (k + 1)."""
    from proofs_check.lapack import dense_polar

    c = from_counts([9, 4, 4, 4, 2])
    inst = thm1_any_counts._mixed()
    base = relax_optimum.admm_case(inst)
    zhat = simplex_gram(c.k)

    def uniq(delta):
        Z = zhat.copy()
        Z[1, 0] += delta
        return replace(base, Z=Z)

    assert _part("step7.uniqueness", [uniq(0.5 * tolerances.admm())]) is V
    assert _part("step7.uniqueness", [uniq(2 * 1e-11 * 1e3)]) is R
    G = seli_geometry(c).M_gram

    def slack(delta):
        Z = zhat.copy()
        Z[1, 0] -= delta
        return cert_complementary_slackness.Case("x", c, Z, "Zhat", True, G, dense_polar(c))

    assert _part("step7.complementary_slackness", [slack(0.5 * tolerances.float64(c.k))]) is V
    assert _part("step7.complementary_slackness", [slack(2 * RTOL64 * (c.k + 1))]) is R
