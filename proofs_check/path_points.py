"""Solutions of (7) from seli_exact.regpath, as the Section 4 claims use them.

A PathPoint is what the solver returns at one lam: the class matrix M (k, k) (Z_lam = M Y) and
the relative duality gap of its certificate (reduction.certify: a 40-digit dual point, apart
from the iteration). Two rows judge every point before a claim reads anything off it:

* certified: a relative gap above tolerances.gap7() leaves the point undecided;
* optimal: the first-order conditions of (7) at the claimed lam, checked on the full (k, n)
  problem by proofs_check.kkt7 (no reduction, no certificate), within tolerances.kkt7. A solver
  that answers another lam, or another problem, is refuted here even with a clean certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seli_exact import ClassCounts
from seli_exact.regpath import solver as regpath_solver

from . import kkt7, tolerances
from .cache import memo
from .evidence import residual_row, undecided_row


@dataclass(frozen=True, eq=False)
class PathPoint:
    counts: ClassCounts
    lam: float
    M: np.ndarray  # (k, k): Z_lam = M Y
    relative_gap: float  # the solver's certificate
    solution: object = None  # the RegPathPoint itself, for the library's measurements

    @property
    def name(self) -> str:
        return f"{list(self.counts.counts)} lam={self.lam:g}"


@memo
def path_point(counts: ClassCounts, lam: float) -> PathPoint:
    """solve_regpath_point(counts, lam), looked up at call time (the route tests replace it)."""
    p = regpath_solver.solve_regpath_point(counts, lam)
    return PathPoint(counts, float(lam), p.M, float(p.relative_gap), p)


def certified(point: PathPoint) -> bool:
    return bool(abs(point.relative_gap) <= tolerances.gap7())


def point_rows(point: PathPoint) -> list[dict]:
    """The certificate gate and the independent optimality check of one point."""
    if not certified(point):
        return [undecided_row(point.name, f"certified relative gap {point.relative_gap:.3g} "
                                          f"above {tolerances.gap7():.3g}")]
    r = kkt7.residual(point.M, point.counts, point.lam)
    return [residual_row(f"{point.name}: optimality of (7) (full-problem KKT)", r,
                         tolerances.kkt7(point.counts))]
