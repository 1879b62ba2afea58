"""Table 1, Sec. H, Remark 3.2: for finite R and lam < 1/2 the minority classifiers of the
solution of (1) stay distinct; at vanishing lam their cosine grows toward 1 as R grows.

From (8) at the solutions of (7) (seli_exact.regpath, every point certified and checked for
optimality apart from the solver, proofs_check.path_points): seli_exact's minority cosine
(path_metrics) must stay below 1 by more than tolerances.minority_floor at every finite R and
lam < 1/2, and at lam = 1e-8 the cosine between two minority classifiers must grow strictly with R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import step
from seli_exact.regpath import path_metrics
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import failed_row, margin_row, verdict
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "no_minority_collapse"
REFERENCE = "Table 1, Sec. H, Remark 3.2"
STATEMENT = ("finite R and lam < 1/2: minority classifiers stay distinct; at vanishing lam their "
             "cosine grows toward 1 as R grows")
PROFILES = ("quick", "thorough")
ORDER = 210
ROUTES = ("regpath",)


@dataclass(frozen=True, eq=False)
class FiniteCase:
    point: PathPoint
    minority_cosine: float  # seli_exact.regpath.path_metrics(...).minority_cosine


@dataclass(frozen=True, eq=False)
class GrowthCase:
    Rs: tuple  # ascending
    points: tuple[PathPoint, ...]  # at the smallest lam
    minority_cosines: tuple[float, ...]  # cos(w_a, w_b) of two minority classes from (8)'s G_W


Case = FiniteCase | GrowthCase


def finite_case(R, lam) -> FiniteCase:
    p = path_point(step(4, R, "1/2", 5), lam)
    return FiniteCase(p, float(path_metrics(p.solution).minority_cosine))


def growth_case(Rs) -> GrowthCase:
    pts, cos = [], []
    for R in Rs:
        p = path_point(step(4, R, "1/2", 5), 1e-8)
        G_W = p.solution.grams()[0]
        a, b = 2, 3  # step() lists the rho k = 2 minority classes last (also at R = 1)
        pts.append(p)
        cos.append(float(G_W[a, b] / math.sqrt(G_W[a, a] * G_W[b, b])))
    return GrowthCase(tuple(Rs), tuple(pts), tuple(cos))


def cases(profile: str) -> list[Case]:
    Rs = (2, 10, 100) if profile == "quick" else (2, 5, 10, 100, 1000, 10**4)
    lams = (0.49, 0.1, 1e-4) if profile == "quick" else (0.49, 0.3, 0.1, 1e-2, 1e-4, 1e-6, 1e-8)
    out: list[Case] = [finite_case(R, lam) for R in Rs for lam in lams]
    out.append(growth_case((1, 2, 10, 100, 1000) + (() if profile == "quick" else (10**4, 10**5))))
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, FiniteCase):
            rows += point_rows(case.point)
            if not certified(case.point):
                continue
            if not case.point.lam < 0.5:
                rows.append(failed_row(case.point.name, "lam is not below 1/2: outside the claim"))
                continue
            rows.append(margin_row(f"{case.point.name}: 1 - minority cosine", 1.0 - case.minority_cosine,
                                   tolerances.minority_floor()))
            continue
        for p in case.points:
            rows += point_rows(p)
        if all(certified(p) for p in case.points):
            steps = np.diff(case.minority_cosines)
            rows.append(margin_row("minority cosine at lam = 1e-8 grows with R",
                                   float(steps.min()) if len(steps) else math.nan, 0.0,
                                   R=[str(R) for R in case.Rs], minority_cosine=list(case.minority_cosines)))
    return verdict(ID, rows, kind="margin")


def planted() -> dict[str, list[Case]]:
    finite = finite_case(10, 0.1)
    growth = growth_case((1, 2, 10, 100))
    cos = list(growth.minority_cosines)
    cos[-1] = cos[1]
    return {
        "collapsed minorities (cosine 1)": [replace(finite, minority_cosine=1.0)],
        "a cosine within rounding of 1": [replace(finite, minority_cosine=1.0 - 1e-14)],
        "a cosine that does not grow with R": [replace(growth, minority_cosines=tuple(cos))],
        "lam = 1/2, outside the claim": [finite_case(10, 0.5)],
    }


def undecided() -> dict[str, list[Case]]:
    finite = finite_case(10, 0.1)
    return {"an uncertified solution": [replace(finite, point=replace(finite.point, relative_gap=float("nan")))]}
