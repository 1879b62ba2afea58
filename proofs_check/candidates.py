"""Candidate UF-SVM solutions (W (d, k), H (d, n)) of (2) from three routes, shared by the
claims about Theorem 1 and Corollaries 1.1-1.2 (and relax.tight):

* "factorization": Theorem 1 (iii) built from seli_exact's structured SVD (factorize);
* "local search": the best SLSQP run on the non-convex (2) from random feasible starts;
* "relaxation": the ADMM solution of (5) (solve_ufsvm), factored by numpy's dense SVD:
  W = Lam^{1/2} u^T, H = Lam^{1/2} v^T for Z = u Lam v^T (Sec. 3.3: (5) is tight for d >= k-1).

Each candidate is judged at the accuracy of its route (`tolerance`). Solver runs are cached per
process (proofs_check.cache) and looked up through their modules at call time, so the route
tests can replace a solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seli_exact import ClassCounts, factorize, sel_svd
from seli_exact.solvers import ufsvm

from . import local_search as ls
from . import tolerances
from .cache import memo
from .instances import Instance, all_instances, small_instances
from .lapack import DENSE_MAX_N

SOURCES = ("factorization", "local search", "relaxation")


@dataclass(frozen=True, eq=False)
class Candidate:
    """A point (W, H) of (2) claimed to be a minimizer, with the route that produced it.

    `converged` is the route's own report (SLSQP's success flag, ADMM's stopping rule); a
    candidate whose route did not converge is no evidence either way.
    """

    name: str
    counts: ClassCounts
    W: np.ndarray  # (d, k)
    H: np.ndarray  # (d, n)
    source: str
    converged: bool = True

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"Candidate.source must be one of {SOURCES}, not {self.source!r}")
        k, n = self.counts.k, self.counts.n
        if self.W.shape[1] != k or self.H.shape != (self.W.shape[0], n):
            raise ValueError(f"Candidate shapes W {self.W.shape}, H {self.H.shape} for k={k}, n={n}")


def tolerance(source: str, counts: ClassCounts) -> float:
    """The accuracy a candidate's route certifies (tolerances.py)."""
    if source == "factorization":
        return tolerances.lapack(counts)  # the reference it is compared with dominates
    if source == "local search":
        return tolerances.local()
    return tolerances.admm()


@memo
def admm(counts: ClassCounts):
    """solve_ufsvm(counts), cached (looked up at call time: the route tests replace it)."""
    return ufsvm.solve_ufsvm(counts)


@memo
def local_runs(counts: ClassCounts, d: int, starts: int) -> tuple:
    """SLSQP runs on (2) (proofs_check.local_search), cached."""
    return tuple(ls.local_search(counts, d, starts=starts, seed=counts.k * 100 + d,
                                 ftol=tolerances.SLSQP_FTOL))


def local_dims(counts: ClassCounts) -> tuple[int, int]:
    return (counts.k - 1, counts.k + 1)


def local_starts(profile: str) -> int:
    return 2 if profile == "quick" else 8


def factorizations(instances: list[Instance], dims=lambda c: (c.k - 1, c.k + 2)) -> list[Candidate]:
    """Theorem 1 (iii) from seli_exact's SVD: W = R^T Lam^{1/2} V^T, H = M[:, y]."""
    out = []
    for inst in instances:
        c = inst.counts
        if c.n > DENSE_MAX_N:
            continue
        svd = sel_svd(c)
        for d in dims(c):
            W, M = factorize(svd, d, seed=d)
            out.append(Candidate(f"{inst.name} d={d} factorization", c, W, M[:, c.labels()],
                                 "factorization"))
    return out


def local_solutions(instances: list[Instance], profile: str) -> list[Candidate]:
    """The best converged local-search run per (instance, d) (SLSQP's success flag; a run that
    stopped on a line-search failure is no minimizer it vouches for); when none converged, the
    best run, marked as not converged."""
    out = []
    for inst in instances:
        c = inst.counts
        for d in local_dims(c):
            runs = local_runs(c, d, local_starts(profile))
            pool = [r for r in runs if r.success] or list(runs)
            best = min(pool, key=lambda r: r.objective)
            out.append(Candidate(f"{inst.name} d={d} local search", c, best.W, best.H,
                                 "local search", best.success))
    return out


def relaxation_solutions(instances: list[Instance]) -> list[Candidate]:
    """The ADMM solution of (5), factored by numpy's dense SVD."""
    out = []
    for inst in instances:
        c = inst.counts
        if c.n > DENSE_MAX_N:
            continue
        r = admm(c)
        u, s, vt = np.linalg.svd(r.Z(), full_matrices=False)  # Z = u s vt, (k, n)
        s, u, vt = s[: c.k - 1], u[:, : c.k - 1], vt[: c.k - 1]
        W = np.sqrt(s)[:, None] * u.T  # (k-1, k)
        H = np.sqrt(s)[:, None] * vt  # (k-1, n)
        out.append(Candidate(f"{inst.name} from ADMM on (5)", c, W, H, "relaxation", r.converged))
    return out


def minimizers(profile: str) -> list[Candidate]:
    """The candidate UF-SVM minimizers the corollaries are judged on: Theorem 1 (iii)'s
    factorizations and the relaxation's solutions on every instance of the profile, and local
    search on the small ones."""
    return (factorizations(all_instances(profile))
            + local_solutions(small_instances(profile), profile)
            + relaxation_solutions(all_instances(profile)))
