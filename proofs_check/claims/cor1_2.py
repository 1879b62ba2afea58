"""Corollary 1.2 (SELI): UF-SVM solutions follow the SELI geometry (Definition 3).

At candidate minimizers of (2) from three routes (proofs_check.candidates), on STEP instances
and on arbitrary count vectors (see cor1.1 for why those are covered), [W H]^T [W H] must equal
alpha [[V Lam V^T, Zhat], [Zhat^T, U Lam U^T]] for some alpha > 0, with U, Lam, V from the
dense route (proofs_check.lapack). The residual is relative to ||alpha S||_F itself, so a
wrong geometry scaled down cannot pass as a small absolute error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import factorize, sel_matrix, sel_svd, simplex_gram, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from ..evidence import residual_row, undecided_row, verdict
from ..lapack import Reference, reference

ID = "cor1.2"
REFERENCE = "Corollary 1.2 (SELI)"
STATEMENT = "UF-SVM solutions follow the SELI geometry (Definition 3), irrespective of imbalance"
PROFILES = ("quick", "thorough")
ORDER = 30
ROUTES = ("structured_svd", "lapack", "ufsvm", "local_search")


@dataclass(frozen=True, eq=False)
class Case:
    candidate: cand.Candidate
    reference: Reference  # float64 dense route


def seli_residual(case: Case) -> tuple[float, float]:
    """(relative residual, alpha) of Definition 3 at the candidate."""
    c, ref = case.candidate, case.reference
    U = ref.U()
    Z = sel_matrix(c.counts)
    S = np.block([[ref.G_W, Z], [Z.T, (U * ref.sigma) @ U.T]])
    F = np.hstack([c.W, c.H])
    G = F.T @ F
    alpha = float(np.sum(G * S) / np.sum(S * S))
    if not alpha > 0:
        return math.inf, alpha
    return float(np.linalg.norm(G - alpha * S) / np.linalg.norm(alpha * S)), alpha


def cases(profile: str) -> list[Case]:
    return [Case(c, reference(c.counts)) for c in cand.minimizers(profile)]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        c = case.candidate
        if not c.converged:
            rows.append(undecided_row(c.name, f"{c.source} did not converge: no minimizer"))
            continue
        res, alpha = seli_residual(case)
        row = residual_row(c.name, res, cand.tolerance(c.source, c.counts), alpha=alpha)
        row["ok"] = row["ok"] and alpha > 0
        rows.append(row)
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def _fig1() -> Case:
    W, M = factorize(sel_svd(FIG1), 4, seed=1)
    return Case(cand.Candidate("fig1 d=4", FIG1, W, M[:, FIG1.labels()], "factorization"),
                reference(FIG1))


def _etf(scale: float) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = np.linalg.eigh(simplex_gram(4))
    F = scale * (vecs[:, 1:] * np.sqrt(vals[1:])).T  # (3, 4), F^T F = scale^2 (I - 11^T/4)
    return F, F[:, FIG1.labels()]


def planted() -> dict[str, list[Case]]:
    good = _fig1()
    W, H = good.candidate.W, good.candidate.H

    def _with(**kw):
        return replace(good, candidate=replace(good.candidate, **kw))

    etf_W, etf_H = _etf(1.0)
    tiny_W, tiny_H = _etf(1e-8)
    return {
        "the ETF geometry on imbalanced data": [_with(W=etf_W, H=etf_H)],
        "a tiny ETF (no absolute tolerance to hide under)": [_with(W=tiny_W, H=tiny_H)],
        "negative scaling (W, -H)": [_with(H=-H)],
    }


def undecided() -> dict[str, list[Case]]:
    good = _fig1()
    etf_W, etf_H = _etf(1.0)
    return {"local search that did not converge": [
        replace(good, candidate=replace(good.candidate, W=etf_W, H=etf_H, source="local search",
                                        converged=False))]}
