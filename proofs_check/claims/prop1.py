"""Proposition 1 (with Lemma A.3): under imbalance with k > 2, no lam > 0 gives SELI.

Along the regularization path of (7) (seli_exact.regpath, each point certified and checked for
optimality apart from the solver, proofs_check.path_points), the distance to SELI of the
classifiers, class means and logits of (8) (seli_exact's metric library, calibrated first at the
dense route's SELI point, proofs_check.calibration) stays above tolerances.distance_floor at every
lam. The proof's step, Lemma A.3: the singular values of Zhat are not all equal (seli_exact's
at 30 digits, which must agree with the dense route's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import mpmath
import numpy as np

from seli_exact import ClassCounts, from_counts, sel_svd, step
from seli_exact.regpath import path_metrics
from seli_exact.verdict import Verdict

from .. import tolerances
from ..calibration import Calibration, calibrate, calibration_rows
from ..evidence import margin_row, max_rel_error, residual_row, verdict
from ..lapack import reference
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "prop1"
REFERENCE = "Proposition 1, Lemma A.3"
STATEMENT = "imbalanced, k > 2: no lam > 0 gives SELI; the singular values of Zhat are not all equal"
PROFILES = ("quick", "thorough")
ORDER = 150
ROUTES = ("regpath", "structured_svd", "lapack")


@dataclass(frozen=True, eq=False)
class PathCase:
    point: PathPoint
    dist_seli: tuple[float, float, float]  # metrics: classifiers, class means, logits


@dataclass(frozen=True, eq=False)
class SigmaCase:
    counts: ClassCounts
    sigma: tuple  # seli_exact's singular values of Zhat, 30 digits
    sigma_dense: np.ndarray  # the dense route's, float64


Case = PathCase | SigmaCase | Calibration


def _counts(profile: str) -> list[ClassCounts]:
    out = [step(4, 10, "1/2", 5), step(3, 4, "1/3", 3), from_counts([20, 9, 4, 2, 1])]
    if profile == "thorough":
        out += [step(6, 100, "1/2", 2), step(4, 2, "1/4", 7)]
    return out


def path_case(counts: ClassCounts, lam: float) -> PathCase:
    p = path_point(counts, lam)
    d = path_metrics(p.solution).dist_seli
    return PathCase(p, (float(d.classifiers), float(d.embeddings), float(d.logits)))


def cases(profile: str) -> list[Case]:
    lams = [10.0**-j for j in range(0, 9, 2 if profile == "quick" else 1)]
    out: list[Case] = []
    for c in _counts(profile):
        out.append(SigmaCase(c, tuple(sel_svd(c, "mpmath", 30).sigma), reference(c).sigma))
        out += [path_case(c, lam) for lam in lams]
        out.append(calibrate(c))
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, Calibration):
            rows += calibration_rows(case)
        elif isinstance(case, SigmaCase):
            with mpmath.workdps(40):
                sig = [mpmath.mpf(s) for s in case.sigma]
                spread = float((max(sig) - min(sig)) / max(sig))
            name = f"{case.counts.describe()}: singular values"
            rows.append(margin_row(f"{name} not all equal (Lemma A.3)", spread, 0.0))
            rows.append(residual_row(f"{name} vs the dense route",
                                     max_rel_error(np.array([float(s) for s in case.sigma]), case.sigma_dense),
                                     tolerances.lapack(case.counts)))
        else:
            rows += point_rows(case.point)
            if certified(case.point):
                # "not SELI": the geometry differs in classifiers, class means or logits
                rows.append(margin_row(f"{case.point.name}: distance to SELI",
                                       _largest(case.dist_seli), tolerances.distance_floor(),
                                       dist_seli=list(case.dist_seli)))
    return verdict(ID, rows, kind="margin")


def _largest(values) -> float:
    """max, with NaN (an undefined distance) winning: it can never count as "not SELI"."""
    return float("nan") if any(v != v for v in values) else max(values)


FIG1 = step(4, 10, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    good = path_case(FIG1, 1e-2)
    sigma = SigmaCase(FIG1, tuple(sel_svd(FIG1, "mpmath", 30).sigma), reference(FIG1).sigma)
    cal = calibrate(FIG1)
    return {
        "a path point at SELI": [replace(good, dist_seli=(0.0, 0.0, 0.0))],
        "a path point within the solver's accuracy of SELI": [replace(good, dist_seli=(1e-12, 1e-12, 1e-12))],
        "an undefined (NaN) distance": [replace(good, dist_seli=(float("nan"),) * 3)],
        "equal singular values (balanced data)": [replace(sigma, sigma=(mpmath.sqrt(5),) * 3)],
        "the solution of another lam (1.01 lam)": [
            replace(good, point=replace(good.point, M=path_point(FIG1, 1.01e-2).M))],
        "a metric library that misreads the SELI point": [replace(cal, seli=(0.01, 0.0, 0.0))],
    }


def undecided() -> dict[str, list[Case]]:
    good = path_case(FIG1, 1e-2)
    return {"an uncertified solution": [replace(good, point=replace(good.point, relative_gap=1e-3))]}
