"""Theorem 1: the structure of the UF-SVM minimizers, at candidate solutions of (2).

Candidates (proofs_check.candidates): Theorem 1 (iii) built from seli_exact's structured SVD,
and the best local-search run on (2). Each is compared with the dense route (proofs_check.lapack:
LAPACK's eigen-decomposition of P D P) statement by statement, and its objective with the dual
bound of the relaxation (5) from ADMM (which (2) can only exceed): three routes that share no
code with seli_exact's SVD formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import sel_matrix, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from ..evidence import rel_error, residual_row, undecided_row, verdict
from ..instances import small_instances, step_instances
from ..lapack import Reference, reference
from ..local_search import margins

ID = "thm1"
REFERENCE = "Theorem 1"
STATEMENT = (
    "For d >= k-1 every UF-SVM minimizer has W^T H = Zhat, H^T H = U Lam U^T, "
    "W^T W = V Lam V^T, W = R^T Lam^1/2 V^T, H = R^T Lam^1/2 U^T, and p* = ||Zhat||_* = "
    "||H||_F^2 = ||W||_F^2"
)
PROFILES = ("quick", "thorough")
ORDER = 10
ROUTES = ("structured_svd", "lapack", "ufsvm", "local_search")


@dataclass(frozen=True, eq=False)
class Case:
    """A candidate minimizer, the dense reference of its counts, and ADMM's bound on p*."""

    candidate: cand.Candidate
    reference: Reference  # float64 dense route
    lower_bound: float  # dual bound of (5) from ADMM: p* of (2) >= it
    bound_converged: bool


def residuals(case: Case) -> dict[str, float]:
    """Theorem 1 at the candidate: every statement as a relative residual.

    feasibility: 1 - min margin; (i) W^T H vs Zhat; (ii) H^T H vs U Lam U^T and W^T W vs
    V Lam V^T; (iii) R^T = W V Lam^{-1/2} must have orthonormal columns and reproduce W and H;
    p*: the objective, ||W||_F^2 and ||H||_F^2 vs ||Zhat||_*, and |objective - ADMM's bound|
    (a candidate below the bound contradicts the bound; one above it is no minimizer).
    """
    c, ref = case.candidate, case.reference
    W, H, counts = c.W, c.H, c.counts
    U, lam, V = ref.U(), ref.sigma, ref.V
    nuc = ref.nuclear_norm
    objective = 0.5 * (np.sum(W * W) + np.sum(H * H))
    Rt = W @ V / np.sqrt(lam)[None, :]  # (d, k-1)
    return {
        "feasibility": max(0.0, 1.0 - float(np.min(margins(W, H, counts.labels())))),
        "(i) logits": rel_error(W.T @ H, sel_matrix(counts)),
        "(ii) H^T H": rel_error(H.T @ H, (U * lam) @ U.T),
        "(ii) W^T W": rel_error(W.T @ W, ref.G_W),
        "(iii) R R^T = I": rel_error(Rt.T @ Rt, np.eye(counts.k - 1)),
        "(iii) W": rel_error(W, Rt @ (np.sqrt(lam)[:, None] * V.T)),
        "(iii) H": rel_error(H, Rt @ (np.sqrt(lam)[:, None] * U.T)),
        "p* = ||W||_F^2": abs(np.sum(W * W) - nuc) / nuc,
        "p* = ||H||_F^2": abs(np.sum(H * H) - nuc) / nuc,
        "p* = objective": abs(objective - nuc) / nuc,
        "objective vs ADMM bound": abs(objective - case.lower_bound) / nuc,
    }


def case_of(c: cand.Candidate) -> Case:
    """A candidate with its dense reference and ADMM's bound (any counts: thm1.any_counts uses
    it on non-STEP candidates)."""
    r = cand.admm(c.counts)
    return Case(c, reference(c.counts), r.lower_bound, r.converged)


def cases(profile: str) -> list[Case]:
    steps = [i for i in small_instances(profile) if i.counts.model == "step"]
    found = cand.factorizations(step_instances(profile)) + cand.local_solutions(steps, profile)
    return [case_of(c) for c in found]


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        c = case.candidate
        if not c.converged:
            rows.append(undecided_row(c.name, f"{c.source} did not converge: no minimizer"))
            continue
        res = residuals(case)
        if not case.bound_converged:
            rows.append(undecided_row(f"{c.name}: objective vs ADMM bound",
                                      "ADMM did not converge: its bound is not tight"))
            del res["objective vs ADMM bound"]
        worst = max(res, key=lambda key: res[key] if res[key] == res[key] else np.inf)
        rows.append(residual_row(c.name, res[worst], cand.tolerance(c.source, c.counts),
                                 worst_statement=worst, residuals=res))
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def _fig1() -> Case:
    from seli_exact import factorize, sel_svd

    W, M = factorize(sel_svd(FIG1), 4, seed=1)
    return case_of(cand.Candidate("fig1 d=4", FIG1, W, M[:, FIG1.labels()], "factorization"))


def _with(case: Case, **kw) -> Case:
    return replace(case, candidate=replace(case.candidate, **kw))


def planted() -> dict[str, list[Case]]:
    good = _fig1()
    W, H = good.candidate.W, good.candidate.H
    moved = H.copy()
    moved[:, 0] *= 1.05
    return {
        # W^T H and every margin unchanged, but ||W||_F^2 != ||H||_F^2 and the cost exceeds p*
        "unbalanced scaling 1.01 W, H / 1.01": [_with(good, W=1.01 * W, H=H / 1.01)],
        "one embedding moved by 5%": [_with(good, H=moved)],
        "ADMM bound 1% above the objective": [replace(good, lower_bound=1.01 * good.lower_bound)],
        "reference of other counts (n_min = 6)": [replace(good, reference=reference(step(4, 10, "1/2", 6)))],
    }


def undecided() -> dict[str, list[Case]]:
    good = _fig1()
    return {
        "local search that did not converge": [
            _with(good, W=1.01 * good.candidate.W, source="local search", converged=False)],
    }
