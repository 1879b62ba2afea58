"""Proposition 2 (and Proposition 3, Sec. D): Z_lam / ||Z_lam||_* -> Zhat / ||Zhat||_* as lam -> 0.

On (R, 1/2)-STEP, k = 4, along lam = 1e-1 .. 1e-8 (seli_exact.regpath; every point certified and
checked for optimality apart from the solver, proofs_check.path_points), the direction error
(seli_exact.regpath.direction_error, which must equal the definition on the dense (k, n) matrices,
proofs_check.path_reference) must decrease strictly and keep falling like a power of
log(1/lam): its local exponent p_j = -d log err / d log log(1/lam) stays above
tolerances.PROP2_MIN_EXPONENT and does not decay along the tail (a plateau err -> a > 0 drives it
to 0). The fitted rate is reported; the paper states none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import step
from seli_exact.regpath import direction_error
from seli_exact.verdict import Verdict

from .. import path_reference, tolerances
from ..evidence import failed_row, margin_row, residual_row, verdict
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "prop2"
REFERENCE = "Proposition 2, Proposition 3 (Sec. D)"
STATEMENT = "Z_lam / ||Z_lam||_* -> Zhat / ||Zhat||_* as lam -> 0 (rate estimated and reported)"
PROFILES = ("quick", "thorough")
ORDER = 170
ROUTES = ("regpath",)
LAMS = tuple(10.0**-j for j in range(1, 9))


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    points: tuple[PathPoint, ...]  # decreasing lam
    direction_error: tuple[float, ...]  # seli_exact's, at each point


def series(R, lams=LAMS) -> Case:
    c = step(4, R, "1/2", 5)
    pts = tuple(path_point(c, lam) for lam in lams)
    return Case(f"R={R}", pts, tuple(direction_error(p.M, c) for p in pts))


def cases(profile: str) -> list[Case]:
    return [series(R) for R in ((10,) if profile == "quick" else (2, 10, 100))]


def _series_rows(case: Case) -> list[dict]:
    lams = np.array([p.lam for p in case.points])
    err = np.asarray(case.direction_error, float)
    if (len(lams) < 4 or len(err) != len(lams) or not np.all(np.diff(lams) < 0)
            or not (lams[0] < 1 and lams[-1] > 0) or not np.all(err > 0)):
        return [failed_row(case.name, "need >= 4 decreasing lams in (0, 1) and as many positive errors")]
    L = np.log(1 / lams)
    p = -np.diff(np.log(err)) / np.diff(np.log(L))
    fit = np.polyfit(np.log(L), np.log(err), 1)
    decreasing = bool(np.all(np.diff(err) < 0))
    tail = p[len(p) // 2:]
    margin = float(min(tail.min() - tolerances.PROP2_MIN_EXPONENT, tail[-1] - 0.9 * tail[0]))
    row = margin_row(f"{case.name}: error falls like a power of log(1/lam)", margin, 0.0,
                     direction_error=err.tolist(), local_exponents=p.tolist(), decreasing=decreasing,
                     fitted_rate=f"err ~ {math.exp(fit[1]):.3g} * log(1/lam)^{fit[0]:.3f}")
    row["ok"] = row["ok"] and decreasing
    return [row]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        for p in case.points:
            rows += point_rows(p)
        for p, err in zip(case.points, case.direction_error):
            if certified(p):  # from numpy's SVD of the dense Z: the dense route's accuracy
                dense = path_reference.direction_error(p.M, p.counts)
                rows.append(residual_row(f"{case.name}, {p.name}: direction error = definition",
                                         abs(err - dense), tolerances.lapack(p.counts),
                                         reported=err, dense=dense))
        if all(certified(p) for p in case.points):
            rows += _series_rows(case)
    return verdict(ID, rows, kind="margin", extra={"min_exponent": tolerances.PROP2_MIN_EXPONENT})


def _with_errors(case: Case, err) -> Case:
    return replace(case, direction_error=tuple(float(e) for e in err))


def _class_matrix_error(p: PathPoint) -> float:
    """|| M/||M||_* - P/||P||_* ||_F on the k x k class matrices: each class weighted as one
    example instead of its n_c (still decreasing toward 0, so only the definition tells)."""
    P = np.eye(p.counts.k) - 1.0 / p.counts.k
    nm, npp = (np.linalg.svd(A, compute_uv=False).sum() for A in (p.M, P))
    return float(np.linalg.norm(p.M / nm - P / npp))


def planted() -> dict[str, list[Case]]:
    good = series(10)
    err = np.asarray(good.direction_error)
    L = np.log(1 / np.asarray(LAMS))
    bumped = err.copy()
    bumped[-1] = bumped[-3]
    return {
        "a plateau at 0.05": [_with_errors(good, err + 0.05)],
        "a creep 0.05 - 1e-10 j (exponents ~1e-9)": [_with_errors(good, [0.05 - 1e-10 * j for j in range(len(L))])],
        "a slow power 0.1 log(1/lam)^-0.05": [_with_errors(good, 0.1 * L**-0.05)],
        "an offset 0.02 + 0.1 / log(1/lam)": [_with_errors(good, 0.02 + 0.1 / L)],
        "a non-monotone path": [_with_errors(good, bumped)],
        "the direction error on the class matrices, without the D^{1/2} weighting": [
            _with_errors(good, [_class_matrix_error(p) for p in good.points])],
        "a grid of two lams": [replace(good, points=good.points[:2], direction_error=good.direction_error[:2])],
        "the solutions of 1.01 lam": [replace(good, points=tuple(
            replace(p, M=path_point(p.counts, 1.01 * p.lam).M) for p in good.points))],
    }


def undecided() -> dict[str, list[Case]]:
    good = series(10)
    pts = list(good.points)
    pts[3] = replace(pts[3], relative_gap=1e-4)
    return {"an uncertified point on the path": [replace(good, points=tuple(pts))]}
