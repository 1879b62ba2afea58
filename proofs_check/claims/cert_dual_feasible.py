"""Sec. 3.3, Eq. (6): the certificate B_hat = U V^T is dual feasible, ||B_hat||_2 = 1 and
B_hat 1_k = 0, and its rows are those of G_M.

B_hat has row i equal to G_M[y_i, :] (G_M = V Lam^{-1} V^T), so the checks work per class with
B_class = seli_exact's G_M (float64, 50-digit mpmath, and exact SymPy on small instances):
B^T B = sum_c n_c B_class[c]^T B_class[c] must be the projector P = I - 11^T/k (then every
nonzero singular value of B is 1) and B_class 1 = 0. Dual feasibility alone does not pin B_hat
down (it survives swapping the rows of two classes with equal counts), so the row fact is judged
too: B_class[y] against U V^T from numpy's dense SVD of Zhat^T.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy

from seli_exact import ClassCounts, arithmetic, seli_geometry, simplex_gram, step
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import failed_row, proven_row, residual_row, to_mpf, undecided_row, verdict
from ..instances import certificate_instances
from ..lapack import DENSE_MAX_N, dense_polar

ID = "cert.dual_feasible"
REFERENCE = "Sec. 3.3, Eq. (6)"
STATEMENT = "B_hat = U V^T has ||B_hat||_2 = 1 and B_hat 1_k = 0"
PROFILES = ("quick", "thorough")
ORDER = 80
ROUTES = ("structured_svd", "lapack")


@dataclass(frozen=True, eq=False)
class FeasibilityCase:
    name: str
    counts: ClassCounts
    B_class: np.ndarray  # (k, k) seli_exact's G_M, in `arithmetic`
    arithmetic: str  # "float64", "mpmath" or "exact"


@dataclass(frozen=True, eq=False)
class RowCase:
    name: str
    counts: ClassCounts
    B_class: np.ndarray  # (k, k) seli_exact's float64 G_M
    dense: np.ndarray  # (n, k) U V^T from numpy's dense SVD of Zhat^T


Case = FeasibilityCase | RowCase


def feasibility_residuals(case: FeasibilityCase) -> tuple[np.ndarray, np.ndarray]:
    """(B^T B - P (k, k), B_class 1 (k,)) in the case's arithmetic."""
    ar = arithmetic(case.arithmetic, tolerances.DIGITS if case.arithmetic == "mpmath" else None)
    B = case.B_class
    n = np.array([ar.number(v) for v in case.counts.counts], dtype=ar.dtype)
    BtB = (B.T * n[None, :]) @ B
    return BtB - simplex_gram(case.counts.k, ar), B.sum(axis=1)


def _feasibility_row(case: FeasibilityCase) -> dict:
    E, sums = feasibility_residuals(case)
    entries = list(E.ravel()) + list(sums)
    name = f"{case.name} {case.arithmetic}"
    if case.arithmetic == "exact":  # zero when SymPy shows it; a visible nonzero value refutes
        rest = [x for x in (sympy.simplify(e) for e in entries) if x != 0]
        if not rest:
            return proven_row(name)
        with mpmath.workdps(tolerances.DIGITS + 10):
            worst = max(abs(to_mpf(x)) for x in rest)
        if worst > tolerances.mp():
            return failed_row(name, "B^T B != P or B 1 != 0", residual=float(worst))
        return undecided_row(name, f"not simplified to 0; |value| <= {float(worst):.3g}")
    with mpmath.workdps(tolerances.DIGITS + 10):
        worst = max(abs(to_mpf(x)) for x in entries)
    tol = tolerances.lapack(case.counts) if case.arithmetic == "float64" else tolerances.mp()
    return residual_row(name, float(worst), tol)


def row_residual(case: RowCase) -> float:
    return float(np.abs(case.dense - np.asarray(case.B_class, float)[case.counts.labels()]).max())


def instance_cases(inst) -> list[Case]:
    """One instance's cases: B_class in float64 and at 50 digits, and the row fact against the
    dense SVD (n <= DENSE_MAX_N). Any counts (thm1.any_counts uses it on non-STEP instances)."""
    c = inst.counts
    G = seli_geometry(c).M_gram
    out: list[Case] = [FeasibilityCase(inst.name, c, G, "float64"),
                       FeasibilityCase(inst.name, c, seli_geometry(c, "mpmath", tolerances.DIGITS).M_gram,
                                       "mpmath")]
    if c.n <= DENSE_MAX_N:
        out.append(RowCase(inst.name, c, G, dense_polar(c)))
    return out


def cases(profile: str) -> list[Case]:
    out: list[Case] = []
    for inst in certificate_instances(profile):
        out += instance_cases(inst)
    for c in (step(4, 10, "1/2", 5), step(3, 2, "1/3", 2)):
        out.append(FeasibilityCase(str(list(c.counts)), c, seli_geometry(c, "exact").M_gram, "exact"))
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, FeasibilityCase):
            rows.append(_feasibility_row(case))
        else:
            rows.append(residual_row(f"{case.name}: U V^T = B_class[y] (dense SVD)",
                                     row_residual(case), tolerances.lapack(case.counts)))
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    G = seli_geometry(FIG1).M_gram
    Gx = seli_geometry(step(3, 2, "1/3", 2), "exact").M_gram
    return {
        "1.01 B_hat (spectral norm 1.01)": [FeasibilityCase("1.01 B", FIG1, 1.01 * G, "float64")],
        "rows not summing to zero": [FeasibilityCase("B + 0.001", FIG1, G + 0.001, "float64")],
        "2 B_hat, exactly": [FeasibilityCase("2 B", step(3, 2, "1/3", 2), 2 * Gx, "exact")],
        # dual feasibility survives swapping two majority rows; the row fact does not
        "rows of two classes swapped": [RowCase("swapped", FIG1, G[[1, 0, 2, 3]], dense_polar(FIG1))],
    }


def undecided() -> dict[str, list[Case]]:
    c = step(3, 2, "1/3", 2)
    Gx = seli_geometry(c, "exact").M_gram.copy()
    Gx[0, 0] = Gx[0, 0] + sympy.Rational(1, 10**70)  # below what 50 digits can see
    return {"an exact B_hat wrong below the working precision": [FeasibilityCase("tiny", c, Gx, "exact")]}
