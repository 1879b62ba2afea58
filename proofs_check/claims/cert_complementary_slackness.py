"""Sec. 3.3: complementary slackness. B_hat's multipliers are strictly positive, so every margin
constraint of (5) is active at the optimum; at Zhat all margins equal 1.

Per class, (5)'s constraint "class c beats class j" has multiplier lam[c, j] = -B_class[c, j]
(j != c) and slack Z[c, c] - Z[j, c] - 1. With B_class seli_exact's G_M (itself checked to be
U V^T from numpy's dense SVD, so the multipliers judged are B_hat's), the smallest multiplier
must be > 0 and every slack and every product must vanish, at Zhat itself and at the ADMM
solution of (5) (judged at the accuracy ADMM's stopping rule certifies).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, seli_geometry, simplex_gram, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from .. import tolerances
from ..evidence import residual_row, undecided_row, verdict
from ..instances import certificate_instances
from ..lapack import DENSE_MAX_N, dense_polar

ID = "cert.complementary_slackness"
REFERENCE = "Sec. 3.3"
STATEMENT = ("B_hat's multipliers are strictly positive, so every margin constraint of (5) is "
             "active at the optimum; at Zhat all margins equal 1")
PROFILES = ("quick", "thorough")
ORDER = 110
ROUTES = ("structured_svd", "lapack", "ufsvm")
SOURCES = ("Zhat", "ADMM")


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    counts: ClassCounts
    Z_class: np.ndarray  # (k, k): Zhat per class, or ADMM's solution of (5)
    source: str  # "Zhat" or "ADMM"
    converged: bool  # ADMM's stopping rule was met (True for Zhat)
    B_class: np.ndarray  # (k, k) seli_exact's G_M
    dense: np.ndarray | None  # (n, k) U V^T from numpy's dense SVD; None when n is too large


def slackness(case: Case) -> dict[str, float]:
    """The smallest multiplier, the largest |multiplier * slack| and |slack|, and the distance of
    B_class[y] from the dense U V^T."""
    k = case.counts.k
    off = ~np.eye(k, dtype=bool)
    lam = -np.asarray(case.B_class, dtype=float)  # lam[c, j]: class c's constraint against j
    Z = np.asarray(case.Z_class, dtype=float)
    slack = (np.diagonal(Z)[None, :] - Z).T - 1.0  # slack[c, j] = Z[c, c] - Z[j, c] - 1
    out = {"min multiplier": float(lam[off].min()),
           "max |multiplier * slack|": float(np.abs(lam * slack)[off].max()),
           "max |slack|": float(np.abs(slack[off]).max())}
    if case.dense is not None:
        B = np.asarray(case.B_class, float)[case.counts.labels()]
        out["B_class[y] vs dense U V^T"] = float(np.abs(case.dense - B).max())
    return out


def instance_cases(inst) -> list[Case]:
    """One instance's cases: at Zhat and at ADMM's solution of (5). Any counts
    (thm1.any_counts uses it)."""
    c = inst.counts
    B = seli_geometry(c).M_gram
    dense = dense_polar(c) if c.n <= DENSE_MAX_N else None
    r = cand.admm(c)
    return [Case(f"{inst.name} at Zhat", c, simplex_gram(c.k), "Zhat", True, B, dense),
            Case(f"{inst.name} at ADMM's solution", c, r.Z_class, "ADMM", r.converged, B, dense)]


def cases(profile: str) -> list[Case]:
    out = []
    for inst in certificate_instances(profile):
        out += instance_cases(inst)
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if not case.converged:
            rows.append(undecided_row(case.name, "ADMM did not converge"))
            continue
        ev = slackness(case)
        tol = tolerances.float64(case.counts.k) if case.source == "Zhat" else tolerances.admm()
        residual = max(ev["max |slack|"], ev["max |multiplier * slack|"])
        row = residual_row(case.name, residual, tol, **ev)
        dense_ok = ev.get("B_class[y] vs dense U V^T", 0.0) <= tolerances.lapack(case.counts)
        row["ok"] = row["ok"] and ev["min multiplier"] > 0 and dense_ok
        rows.append(row)
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def _zhat_case() -> Case:
    return Case("fig1 at Zhat", FIG1, simplex_gram(4), "Zhat", True, seli_geometry(FIG1).M_gram,
                dense_polar(FIG1))


def planted() -> dict[str, list[Case]]:
    good = _zhat_case()
    flipped = good.B_class.copy()
    flipped[0, 1] = -flipped[0, 1]  # a negative multiplier
    return {
        "margins 1.1 where the multipliers are positive": [replace(good, Z_class=1.1 * good.Z_class)],
        "a flipped sign in B (a negative multiplier)": [replace(good, B_class=flipped, dense=None)],
        "B that is not U V^T (1.01 B)": [replace(good, B_class=1.01 * good.B_class)],
    }


def undecided() -> dict[str, list[Case]]:
    good = _zhat_case()
    return {"ADMM that did not converge": [
        replace(good, Z_class=1.1 * good.Z_class, source="ADMM", converged=False)]}
