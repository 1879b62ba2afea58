"""Sec. 3.3, Eqs. (5)-(6): zero duality gap, tr(Zhat B_hat) = ||Zhat||_*.

tr(Zhat B) = sum_c n_c (B_class[c, c] - mean_j B_class[c, j]) for B = B_class[y], with B_class
seli_exact's G_M (float64, and mpmath at 50 digits), against ||Zhat||_* from routes that do not
use seli_exact: the dense route in float64 (LAPACK's eigh of P D P) and at 50 digits (mpmath's
eigsy), and the known answers of the instance catalogue (balanced, binary, the paper's printed
STEP singular values).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from seli_exact import ClassCounts, from_counts, seli_geometry, step
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import residual_row, to_mpf, verdict
from ..instances import certificate_instances
from ..lapack import reference

ID = "cert.duality_gap"
REFERENCE = "Sec. 3.3, Eqs. (5)-(6)"
STATEMENT = "tr(Zhat B_hat) = ||Zhat||_*: zero duality gap"
PROFILES = ("quick", "thorough")
ORDER = 100
ROUTES = ("structured_svd", "lapack")
NUCLEAR_ROUTES = ("dense float64", "dense 50 digits", "known answer")


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    counts: ClassCounts
    B_class: np.ndarray  # (k, k) seli_exact's G_M (float64 or mpmath)
    nuclear_norm: object  # ||Zhat||_* by `route`
    route: str  # one of NUCLEAR_ROUTES

    def __post_init__(self):
        if self.route not in NUCLEAR_ROUTES:
            raise ValueError(f"Case.route must be one of {NUCLEAR_ROUTES}, not {self.route!r}")


def trace(case: Case):
    """tr(Zhat B) = sum_c n_c (B[c, c] - mean_j B[c, j]), at 60 digits."""
    k = case.counts.k
    with mpmath.workdps(tolerances.DIGITS + 10):
        B = [[to_mpf(x) for x in row] for row in case.B_class]
        return mpmath.fsum(n * (B[c][c] - mpmath.fsum(B[c]) / k)
                           for c, n in enumerate(case.counts.counts))


def tolerance(case: Case) -> float:
    if case.route == "dense float64" or case.B_class.dtype != object:
        return tolerances.lapack(case.counts)  # the float64 side limits the comparison
    return tolerances.mp()


def instance_cases(inst) -> list[Case]:
    """One instance's cases: float64 and 50-digit B_class against the dense route, and against
    the instance's known answer if it has one. Any counts (thm1.any_counts uses it)."""
    c = inst.counts
    G = seli_geometry(c).M_gram
    out = [Case(inst.name, c, G, reference(c).nuclear_norm, "dense float64")]
    if inst.nuclear_norm is not None:
        out.append(Case(inst.name, c, G, inst.nuclear_norm, "known answer"))
    out.append(Case(inst.name, c, seli_geometry(c, "mpmath", tolerances.DIGITS).M_gram,
                    reference(c, tolerances.DIGITS).nuclear_norm, "dense 50 digits"))
    return out


def cases(profile: str) -> list[Case]:
    out = []
    for inst in certificate_instances(profile):
        out += instance_cases(inst)
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        tr = trace(case)
        with mpmath.workdps(tolerances.DIGITS + 10):
            nuc = to_mpf(case.nuclear_norm)
            gap = abs(tr - nuc) / abs(nuc)
        rows.append(residual_row(f"{case.name} vs {case.route}", float(gap), tolerance(case),
                                 trace=float(tr), nuclear_norm=float(nuc)))
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    G = seli_geometry(FIG1).M_gram
    nuc = 5 * np.sqrt(2) + np.sqrt(110) / 2 + np.sqrt(5)  # Sec. A's printed singular values
    Gm = seli_geometry(FIG1, "mpmath", tolerances.DIGITS).M_gram
    with mpmath.workdps(tolerances.DIGITS + 10):
        nudged = reference(FIG1, tolerances.DIGITS).nuclear_norm * (1 + mpmath.mpf(10) ** -30)
    return {
        "0.99 B_hat": [Case("0.99 B", FIG1, 0.99 * G, nuc, "known answer")],
        "a nuclear norm off by 1e-30 at 50 digits": [
            Case("nudged", FIG1, Gm, nudged, "dense 50 digits")],
    }


def undecided() -> dict[str, list[Case]]:
    c = from_counts([1, 1, 10**13])  # cond 1e13: float64 cannot resolve the comparison
    return {"an instance beyond float64's resolution": [
        Case("cond 1e13", c, seli_geometry(c).M_gram, reference(c).nuclear_norm, "dense float64")]}
