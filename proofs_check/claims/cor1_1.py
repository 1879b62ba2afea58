"""Corollary 1.1 (NC): UF-SVM embeddings collapse to their class means, irrespective of imbalance.

At candidate minimizers of (2) from three routes (proofs_check.candidates), on (R, rho)-STEP
instances and on arbitrary count vectors (three and more distinct counts, a long tail; Theorem 1
holds there too, proven for every count vector and checked step by step by thm1.any_counts).
Two facts are judged: the embeddings of each class coincide, and each equals the
per-example minimizer for the candidate's W (the paper's direct argument: for fixed W, the
problem in h_i is strongly convex and the same for the whole class, so its unique solution is
h* = A_c^T lam, lam = (A_c A_c^T)^{-1} 1 > 0, A_c stacking (w_c - w_j)^T). NC on a point that
is not a minimizer shows nothing, so the candidate's objective must also equal p* = ||Zhat||_*
by the dense route (proofs_check.lapack).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import factorize, sel_svd, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from ..evidence import residual_row, undecided_row, verdict
from ..lapack import Reference, reference

ID = "cor1.1"
REFERENCE = "Corollary 1.1 (NC)"
STATEMENT = "UF-SVM embeddings collapse to their class means, irrespective of imbalance"
PROFILES = ("quick", "thorough")
ORDER = 20
ROUTES = ("structured_svd", "lapack", "ufsvm", "local_search")


@dataclass(frozen=True, eq=False)
class Case:
    candidate: cand.Candidate
    reference: Reference  # float64 dense route: p* = ||Zhat||_*


def nc_evidence(case: Case) -> dict[str, float]:
    """Within-class spread, distance to the per-example minimizers, the smallest KKT multiplier,
    and |objective - p*| / p*; spreads relative to ||H||_F."""
    c = case.candidate
    W, H, y, k = c.W, c.H, c.counts.labels(), c.counts.k
    scale = max(float(np.linalg.norm(H)), 1.0)
    spread, kkt_gap, lam_min = 0.0, 0.0, math.inf
    for cls in range(k):
        Hc = H[:, y == cls]
        mu = Hc.mean(axis=1)
        spread = max(spread, float(np.abs(Hc - mu[:, None]).max()) / scale)
        A = (W[:, [cls]] - np.delete(W, cls, axis=1)).T  # (k-1, d)
        lam = np.linalg.solve(A @ A.T, np.ones(k - 1))
        h_star = A.T @ lam
        lam_min = min(lam_min, float(lam.min()))
        kkt_gap = max(kkt_gap, float(np.abs(Hc - h_star[:, None]).max()) / scale)
    nuc = case.reference.nuclear_norm
    objective = 0.5 * (float(np.sum(W * W)) + float(np.sum(H * H)))
    return {"within-class spread": spread, "distance to per-example minimizer": kkt_gap,
            "min KKT multiplier": lam_min, "objective vs p*": abs(objective - nuc) / nuc}


def cases(profile: str) -> list[Case]:
    return [Case(c, reference(c.counts)) for c in cand.minimizers(profile)]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        c = case.candidate
        if not c.converged:
            rows.append(undecided_row(c.name, f"{c.source} did not converge: no minimizer"))
            continue
        ev = nc_evidence(case)
        worst = max(ev["within-class spread"], ev["distance to per-example minimizer"],
                    ev["objective vs p*"])
        row = residual_row(c.name, worst, cand.tolerance(c.source, c.counts), evidence=ev)
        row["ok"] = row["ok"] and ev["min KKT multiplier"] > 0
        rows.append(row)
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def _fig1() -> Case:
    W, M = factorize(sel_svd(FIG1), 4, seed=1)
    return Case(cand.Candidate("fig1 d=4", FIG1, W, M[:, FIG1.labels()], "factorization"),
                reference(FIG1))


def _with(case: Case, **kw) -> Case:
    return replace(case, candidate=replace(case.candidate, **kw))


def planted() -> dict[str, list[Case]]:
    good = _fig1()
    W, H = good.candidate.W, good.candidate.H
    moved = H.copy()
    moved[:, 3] += 0.01  # one example leaves its class mean
    return {
        "one example off its class mean": [_with(good, H=moved)],
        "collapsed, but not the per-example minimizers (1.2 H)": [_with(good, H=1.2 * H)],
        # NC holds for (1.01 W, H / 1.01), but it is no minimizer: its cost exceeds p*
        "collapsed at a point that is no minimizer": [_with(good, W=1.01 * W, H=H / 1.01)],
    }


def undecided() -> dict[str, list[Case]]:
    good = _fig1()
    moved = good.candidate.H.copy()
    moved[:, 3] += 0.01
    return {"local search that did not converge": [
        _with(good, H=moved, source="local search", converged=False)]}
