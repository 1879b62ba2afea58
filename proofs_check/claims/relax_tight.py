"""Sec. 3.3: the relaxation (5) is tight for d >= k-1: a factorization of Zhat attains
p* = ||Zhat||_* in the non-convex (2) with every margin 1, and nothing feasible does better.

Two routes to the minimum of (2) must agree with ||Zhat||_* from the dense route:

* Theorem 1 (iii) built from seli_exact's structured SVD, at d = k - 1, k and k + 3: objective
  and margins recomputed from (W, H);
* SLSQP from random feasible starts (proofs_check.local_search): each run's point is rescaled to
  exact feasibility (its objective divided by its smallest margin when that is below 1) and must
  not be below p*; the best successful run must reach p* (a run that ends above it everywhere
  means the two routes disagree about the minimum of (2)). Objectives and margins are recomputed
  from the returned (W, H), never taken from the solver's report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, factorize, sel_svd, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from .. import tolerances
from ..evidence import residual_row, undecided_row, verdict
from ..instances import small_instances, step_instances
from ..lapack import DENSE_MAX_N, reference
from ..local_search import margins

ID = "relax.tight"
REFERENCE = "Sec. 3.3 (tightness for d >= k-1)"
STATEMENT = ("For d >= k-1 a factorization of Zhat attains p* = ||Zhat||_* in (2) with every margin "
             "1, and local search on (2) never does better")
PROFILES = ("quick", "thorough")
ORDER = 130
ROUTES = ("structured_svd", "lapack", "local_search")


@dataclass(frozen=True, eq=False)
class FactorCase:
    name: str
    counts: ClassCounts
    W: np.ndarray  # (d, k)
    H: np.ndarray  # (d, n)
    p_star: float  # ||Zhat||_* by the dense route


@dataclass(frozen=True, eq=False)
class RunsCase:
    name: str
    counts: ClassCounts
    runs: tuple  # ((W, H, success), ...) from local search on (2)
    p_star: float


Case = FactorCase | RunsCase


def objective_and_margin(counts: ClassCounts, W, H) -> tuple[float, float, np.ndarray]:
    m = margins(W, H, counts.labels())
    m = m[np.isfinite(m)]
    return 0.5 * (float(np.sum(W * W)) + float(np.sum(H * H))), float(m.min()), m


def factor_cases(inst) -> list[FactorCase]:
    """Theorem 1 (iii)'s factorization at d = k - 1, k, k + 3 (none when n > DENSE_MAX_N).
    Any counts (thm1.any_counts uses it)."""
    c = inst.counts
    if c.n > DENSE_MAX_N:
        return []
    svd = sel_svd(c)
    out = []
    for d in (c.k - 1, c.k, c.k + 3):
        W, M = factorize(svd, d, seed=d)
        out.append(FactorCase(f"{inst.name} d={d}", c, W, M[:, c.labels()],
                              reference(c).nuclear_norm))
    return out


def runs_cases(inst, profile: str) -> list[RunsCase]:
    """Local search on (2) at d = k - 1 and k + 1. Any counts (thm1.any_counts uses it)."""
    c = inst.counts
    out = []
    for d in cand.local_dims(c):
        runs = cand.local_runs(c, d, cand.local_starts(profile))
        out.append(RunsCase(f"{inst.name} d={d}", c, tuple((r.W, r.H, r.success) for r in runs),
                            reference(c).nuclear_norm))
    return out


def cases(profile: str) -> list[Case]:
    out: list[Case] = []
    for inst in step_instances(profile):
        out += factor_cases(inst)
    for inst in small_instances(profile):
        out += runs_cases(inst, profile)
    return out


def _factor_row(case: FactorCase) -> dict:
    obj, _, m = objective_and_margin(case.counts, case.W, case.H)
    res = max(abs(obj - case.p_star) / case.p_star, float(np.abs(m - 1).max()))
    return residual_row(case.name, res, tolerances.lapack(case.counts), objective=obj, p_star=case.p_star)


def _runs_rows(case: RunsCase) -> list[dict]:
    counts, p = case.counts, case.p_star
    rows, feasible = [], []
    for j, (W, H, success) in enumerate(case.runs):
        obj, mmin, _ = objective_and_margin(counts, W, H)
        if not success or mmin <= 0:  # no point of (2), or SLSQP gave up: no evidence
            continue
        value = obj / mmin if mmin < 1 else obj  # rescaled to exact feasibility
        feasible.append(value)
        rows.append(residual_row(f"{case.name} start {j} not below p*", max(0.0, (p - value) / p),
                                 tolerances.float64(counts.n * counts.k), objective=value, p_star=p))
    if not feasible:
        return [undecided_row(f"{case.name}: best run reaches p*", "no local-search run succeeded")]
    best = min(feasible)
    rows.append(residual_row(f"{case.name}: best run reaches p*", abs(best - p) / p,
                             tolerances.local(), objective=best, p_star=p))
    return rows


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, FactorCase):
            rows.append(_factor_row(case))
        else:
            rows += _runs_rows(case)
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)


def _fig1() -> FactorCase:
    W, M = factorize(sel_svd(FIG1), 4, seed=1)
    return FactorCase("fig1 d=4", FIG1, W, M[:, FIG1.labels()], reference(FIG1).nuclear_norm)


def planted() -> dict[str, list[Case]]:
    good = _fig1()
    W, H = good.W, good.H
    return {
        "a factorization with 1.1 W": [replace(good, W=1.1 * W)],
        # a feasible point below p* cannot be built when the theorem holds; the same
        # contradiction is planted as a p* claimed 1% too high for an optimal run
        "local runs below a p* claimed 1% too high": [
            RunsCase("too good", FIG1, ((W, H, True),), 1.01 * good.p_star)],
        "local runs that all end 1% above p*": [
            RunsCase("worse", FIG1, ((1.01 * W, H / 1.01, True),), good.p_star)],
    }


def undecided() -> dict[str, list[Case]]:
    good = _fig1()
    return {"local search whose runs all failed": [
        RunsCase("failed", FIG1, ((1.2 * good.W, good.H, False),), good.p_star)]}
