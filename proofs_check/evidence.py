"""Shared evidence for the checks: tolerances, rows of evidence, verdicts, a LAPACK reference.

Tolerances. float64 residuals are compared with default_rtol(float64) = 2^-43 times the size
of the problem (dense factorizations lose about one ulp per dimension) and, where a LAPACK
eigen-decomposition is the reference, times the condition number max n_c / min n_c of P D P on
its range. mpmath residuals use 10^-(dps - 5). Solutions of iterative solvers are judged at the
accuracy their stopping rule certifies: TOL_LOCAL (SLSQP), TOL_ADMM (solve_ufsvm), TOL_SCS.

>>> from seli_exact import step
>>> abs(Reference(step(4, 10, "1/2", 5)).nuclear_norm - 14.5511800302) < 1e-9
True
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np

from seli_exact import ClassCounts, arithmetic, default_rtol

from seli_exact.verdict import Status, Verdict

F64 = arithmetic("float64")
RTOL64 = default_rtol(F64)
DPS = 50  # digits of the mpmath candidates
RTOL_MP = 10.0 ** (-(DPS - 5))  # 5 digits of headroom below the promised 50
# SLSQP stops on a relative objective change of 1e-12; a minimizer is then accurate to about
# the square root of that (the objective is quadratic near a minimum).
TOL_LOCAL = 1e-6
# solve_ufsvm (ADMM on (5)) stops at a certified relative duality gap of 1e-11 *and* primal / dual
# residuals of 1e-11; its minimizer is then within about 1e-9 of Zhat (measured 1e-11 to 1e-13).
TOL_ADMM = 1e-8
# cvxpy/SCS at its default accuracy: about 1e-6 relative.
TOL_SCS = 1e-5
DENSE_MAX_N = 4000  # dense (n, n) Gram matrices and (n, k) SVDs are built only below this n


def make_row(instance: str, value: float, tol: float, *, kind: str = "residual", **extra) -> dict:
    """One instance's evidence: ok when residual <= tol (or margin > tol for kind "margin")."""
    value = float(value)
    ok = value <= tol if kind == "residual" else value > tol
    return {"instance": instance, kind: value, "tol": float(tol), "ok": bool(ok), **extra}


def aggregate(
    claim_id: str,
    rows: list[dict],
    *,
    kind: str = "residual",
    extra: dict | None = None,
    undecided: list[str] | None = None,
) -> Verdict:
    """VERIFIED when every row is ok; REFUTED with the failing rows otherwise (UNDECIDED when a
    row could not be decided either way, e.g. a proof that did not close)."""
    evidence = {"instances": rows, **(extra or {})}
    if not rows:
        return Verdict(
            claim_id, Status.ERROR, 0, evidence={"exception": "no instances", **evidence}
        )
    values = [r[kind] for r in rows if kind in r]
    worst = (max(values) if kind == "residual" else min(values)) if values else None
    failing = [r for r in rows if not r["ok"]]
    undecided = list(undecided or [])  # reasons given by the caller, plus every undecided row
    undecided += [str(r["instance"]) for r in rows if r.get("undecided")
                  and not any(u.startswith(str(r["instance"])) for u in undecided)]
    if failing:
        evidence["failing"] = failing[:5]
        return Verdict(claim_id, Status.REFUTED, len(rows), worst, kind, evidence)
    if undecided:
        evidence["undecided"] = undecided
        return Verdict(claim_id, Status.UNDECIDED, len(rows), worst, kind, evidence)
    return Verdict(claim_id, Status.VERIFIED, len(rows), worst, kind, evidence)


def rel_residual(a, b) -> float:
    """||a - b||_F / max(||b||_F, 1): a relative residual that tolerates b = 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return math.inf
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1.0))


def global_mpf(x) -> mpmath.mpf:
    """An mpmath number of any context as a global mpf, unrounded (use inside workdps)."""
    return mpmath.mp.make_mpf(x._mpf_) if hasattr(x, "_mpf_") else mpmath.mpf(x)


def condition(counts: ClassCounts) -> float:
    return max(counts.counts) / min(counts.counts)


class Reference:
    """The SVD of Zhat by LAPACK (eigh of Zhat Zhat^T = P D P), not by seli_exact's formulas.

    sigma (k-1,), V (k, k-1); U = Y^T V Lam^{-1} is kept per class (U_class, (k, k-1)).
    """

    def __init__(self, counts: ClassCounts):
        k = counts.k
        P = np.eye(k) - 1.0 / k
        mu, Q = np.linalg.eigh(P @ np.diag(np.asarray(counts.counts, float)) @ P)
        order = np.argsort(mu)[::-1][: k - 1]  # drop the null vector 1
        self.counts = counts
        self.sigma = np.sqrt(mu[order])
        self.V = Q[:, order]
        self.U_class = self.V / self.sigma[None, :]
        self.nuclear_norm = float(self.sigma.sum())
        self.G_W = (self.V * self.sigma) @ self.V.T
        self.G_M = (self.V / self.sigma) @ self.V.T
        self.tol = RTOL64 * (k + 1) * condition(counts)

    def U(self) -> np.ndarray:
        return self.U_class[self.counts.labels()]


@functools.lru_cache(maxsize=None)
def reference(counts: ClassCounts) -> Reference:
    return Reference(counts)
