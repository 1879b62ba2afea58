"""Fig 3b, Lemma D.4: the minimum margin of the solution of (7) (hence of (1)) is strictly
positive for small lam.

Along lam = 1e-2 .. 1e-8 on (R, 1/2)-STEP, k = 4 (seli_exact.regpath; every point certified and
checked for optimality apart from the solver, proofs_check.path_points), and on count vectors
with three or more distinct counts (beyond Fig 3b; the margins of different class pairs differ
there), the judge reads the margins off M itself, min over c and j != c of M[c, c] - M[j, c],
and requires seli_exact's reported min_margin (Fig 3b's curve) to equal it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import from_counts, step
from seli_exact.regpath import class_sel, min_margin
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import margin_row, residual_row, verdict
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "margin_positive"
REFERENCE = "Fig 3b, Lemma D.4"
STATEMENT = "the minimum margin of the solution of (1) is strictly positive for small lam"
PROFILES = ("quick", "thorough")
ORDER = 200
ROUTES = ("regpath",)


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    point: PathPoint
    reported: float  # seli_exact.regpath.min_margin of the point


def own_margin(M) -> float:
    M = np.asarray(M, dtype=float)
    k = M.shape[0]
    return float(min(M[c, c] - M[j, c] for c in range(k) for j in range(k) if j != c))


def counts_case(name: str, counts, lam) -> Case:
    p = path_point(counts, lam)
    return Case(name, p, min_margin(p.M))


def build(R, lam) -> Case:
    """Fig 3b's instance: (R, 1/2)-STEP, k = 4, n_min = 5."""
    return counts_case(f"R={R}", step(4, R, "1/2", 5), lam)


def cases(profile: str) -> list[Case]:
    Rs = (1, 10, 100) if profile == "quick" else (1, 2, 5, 10, 50, 100, 1000)
    lams = [10.0**-j for j in range(2, 9, 3 if profile == "quick" else 1)]
    out = [build(R, lam) for R in Rs for lam in lams]
    beyond = [from_counts(c) for c in ([50, 20, 5, 3], [30, 12, 7, 7, 2])]
    return out + [counts_case(f"counts {list(c.counts)}", c, lam) for c in beyond for lam in lams]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        rows += point_rows(case.point)
        if not certified(case.point):
            continue
        mine = own_margin(case.point.M)
        rows.append(margin_row(f"{case.point.name}: minimum margin", mine, 0.0))
        rows.append(residual_row(f"{case.point.name}: reported min_margin", abs(case.reported - mine)
                                 / max(abs(mine), 1.0), tolerances.float64(case.point.counts.k)))
    return verdict(ID, rows, kind="margin")


def _planted_point(M) -> Case:
    good = build(10, 1e-3)
    return Case("planted", replace(good.point, M=M, relative_gap=0.0), min_margin(M))


def planted() -> dict[str, list[Case]]:
    swapped = 5 * class_sel(4)
    swapped[:, [2, 3]] = swapped[:, [3, 2]]  # two minority classes swapped: margin -1
    tie = 5 * class_sel(4)
    tie[3, 2] = tie[2, 2]  # class 3's logit equals class 2's on class 2's examples
    good = build(10, 1e-3)
    return {
        "two minority classes swapped": [_planted_point(swapped)],
        "a tie (margin exactly 0)": [_planted_point(tie)],
        "a reported margin 1% high": [replace(good, reported=1.01 * good.reported)],
    }


def undecided() -> dict[str, list[Case]]:
    good = build(10, 1e-3)
    return {"an uncertified solution": [replace(good, point=replace(good.point, relative_gap=1e-4))],
            "a NaN certificate": [replace(good, point=replace(good.point, relative_gap=float("nan")))]}
