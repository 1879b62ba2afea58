"""Sec. 4.4: ridge-regularized CE on the linear model Xi has solution alpha_lam Zhat for every lam
and every class-count vector, unlike the two-layer model (7) under imbalance.

The linear model's candidate is seli_exact.regpath.linear_solution (alpha_lam from Lemma A.1 (v)
by brentq). The problem is lam-strongly convex, so the judge's own stationarity residual
r = grad L(Xi) + lam Xi (gradient from seli_exact.simplex.softmax_ce) bounds the error:
||Xi - Xi_lam|| <= ||r|| / lam, relative to ||Xi|| within tolerances.sec44. The contrast: the
two-layer solution of (7) at the same lam (seli_exact.regpath, certified and checked for
optimality, proofs_check.path_points) is off the SEL direction under imbalance (direction error
> tolerances.sec44_contrast) and on it for balanced or binary data; the direction error
seli_exact reports must equal its definition on the dense (k, n) matrices
(proofs_check.path_reference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, from_counts, sel_matrix, softmax_ce, step
from seli_exact.regpath import direction_error, linear_scale, linear_solution
from seli_exact.verdict import Verdict

from .. import path_reference, tolerances
from ..evidence import margin_row, residual_row, verdict
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "sec4.4"
REFERENCE = "Sec. 4.4"
STATEMENT = ("ridge-regularized CE on the linear model Xi has solution alpha_lam Zhat for every lam, "
             "unlike the two-layer model (7) under imbalance")
PROFILES = ("quick", "thorough")
ORDER = 190
ROUTES = ("regpath",)


@dataclass(frozen=True, eq=False)
class Case:
    counts: ClassCounts
    lam: float
    Xi: np.ndarray  # (k, n) the linear model's candidate
    point: PathPoint  # the two-layer solution of (7) at lam
    two_layer_direction_error: float  # seli_exact.regpath.direction_error of it


def error_bound(case: Case) -> float:
    """||grad L(Xi) + lam Xi|| / (lam ||Xi||): the relative distance to the solution."""
    Xi = np.asarray(case.Xi, float)
    y = case.counts.labels()
    _, S, q = softmax_ce(Xi, y)
    G = S.copy()
    G[y, np.arange(Xi.shape[1])] = -q
    return float(np.linalg.norm(G + case.lam * Xi) / (case.lam * np.linalg.norm(Xi)))


def build(counts: ClassCounts, lam: float, Xi=None) -> Case:
    p = path_point(counts, lam)
    Xi = linear_solution(counts, lam) if Xi is None else Xi
    return Case(counts, lam, Xi, p, direction_error(p.M, counts))


def cases(profile: str) -> list[Case]:
    counts = [step(4, 10, "1/2", 5), step(4, 1, "1/2", 5), from_counts([9, 4, 1])]
    lams = (1.0, 1e-2, 1e-4) if profile == "quick" else (1.0, 0.3, 1e-1, 1e-2, 1e-4, 1e-6, 1e-8)
    return [build(c, lam) for c in counts for lam in lams]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        name = f"{list(case.counts.counts)} lam={case.lam:g}"
        rows.append(residual_row(f"{name}: linear model at alpha_lam Zhat", error_bound(case),
                                 tolerances.sec44()))
        rows += point_rows(case.point)
        if not certified(case.point):
            continue
        contrast = case.two_layer_direction_error
        dense = path_reference.direction_error(case.point.M, case.counts)
        rows.append(residual_row(f"{name}: two-layer direction error = definition",
                                 abs(contrast - dense), tolerances.lapack(case.counts),
                                 reported=contrast, dense=dense))
        if case.counts.is_balanced or case.counts.k == 2:
            rows.append(residual_row(f"{name}: two-layer model on the SEL direction (balanced)",
                                     contrast, tolerances.sec44()))
        else:
            rows.append(margin_row(f"{name}: two-layer model off the SEL direction (imbalanced)",
                                   contrast, tolerances.sec44_contrast()))
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    good = build(FIG1, 0.1)
    balanced = build(step(4, 1, "1/2", 5), 0.1)
    scale = linear_scale(4, 0.1)
    Z = good.point.M[:, FIG1.labels()]
    two_layer = Z * (scale * np.linalg.norm(sel_matrix(FIG1)) / np.linalg.norm(Z))
    return {
        "alpha_lam 1% high": [replace(good, Xi=1.01 * scale * sel_matrix(FIG1))],
        "alpha_lam one part in a million high": [replace(good, Xi=(1 + 1e-6) * scale * sel_matrix(FIG1))],
        "the two-layer solution as the linear one": [replace(good, Xi=two_layer)],
        "a two-layer model on the SEL direction under imbalance": [replace(good, two_layer_direction_error=0.0)],
        "a two-layer model off the SEL direction when balanced": [replace(balanced, two_layer_direction_error=1e-3)],
        "NaN inputs": [replace(good, Xi=np.full_like(good.Xi, np.nan))],
    }


def undecided() -> dict[str, list[Case]]:
    good = build(FIG1, 0.1)
    return {"an uncertified two-layer solution": [
        replace(good, point=replace(good.point, relative_gap=1e-6), two_layer_direction_error=0.0)]}
