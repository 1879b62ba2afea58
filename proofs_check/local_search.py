"""Local search on the non-convex UF-SVM (2) from random feasible starts.

    min_{W, H} ||W||_F^2 / 2 + ||H||_F^2 / 2   s.t.  (w_{y_i} - w_c)^T h_i >= 1,  c != y_i,

over W (d, k) and H (d, n) with all n columns free (no collapse assumed). A start is made
feasible by construction: W is Gaussian, and each h_i solves A_i h_i = 1 + |noise| in the least
squares sense, where A_i (k-1, d) stacks (w_{y_i} - w_c)^T; for d >= k - 1 and Gaussian W, A_i
has full row rank, so every margin of the start is at least 1. SLSQP (scipy) then runs with
exact gradients. Used by relax.tight: no local search may end below p* = ||Zhat||_*.

>>> from seli_exact import from_counts
>>> runs = local_search(from_counts([2, 1]), d=1, starts=2, seed=0)
>>> [round(r.objective, 6) for r in runs]      # p* = ||Zhat||_* = sqrt(3/2) for counts (2, 1)
[1.224745, 1.224745]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from seli_exact import ClassCounts
from seli_exact.errors import SeliInputError


@dataclass(frozen=True, eq=False)
class LocalResult:
    """One run: final W (d, k), H (d, n), objective, smallest margin, and SLSQP's status."""

    W: np.ndarray
    H: np.ndarray
    objective: float
    min_margin: float
    success: bool
    message: str
    start_objective: float


def margins(W: np.ndarray, H: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, k) margins (w_{y_i} - w_c)^T h_i; the column c = y_i is +inf (no constraint)."""
    logits = W.T @ H  # (k, n)
    n = H.shape[1]
    out = (logits[y, np.arange(n)][None, :] - logits).T  # (n, k)
    out[np.arange(n), y] = np.inf
    return out


def feasible_start(counts: ClassCounts, d: int, rng: np.random.Generator):
    """A random (W, H) with every margin >= 1 (see module doc)."""
    k, y = counts.k, counts.labels()
    W = rng.standard_normal((d, k))
    H = np.empty((d, counts.n))
    for i, c in enumerate(y):
        A = W[:, [c]].T - np.delete(W, c, axis=1).T  # (k-1, d)
        target = 1.0 + np.abs(rng.standard_normal(k - 1))
        h, *_ = np.linalg.lstsq(A, target, rcond=None)
        # plus a random component in the null space of A (d > k - 1), which keeps the margins
        g = rng.standard_normal(d)
        H[:, i] = h + g - np.linalg.pinv(A) @ (A @ g)
    return W, H


def local_search(
    counts: ClassCounts,
    d: int,
    starts: int = 5,
    seed: int = 0,
    ftol: float = 1e-12,
    maxiter: int = 2000,
) -> list[LocalResult]:
    """Run SLSQP on (2) from `starts` random feasible starts; one LocalResult per start."""
    k, n, y = counts.k, counts.n, counts.labels()
    if d < k - 1:
        raise SeliInputError(
            f"`d` must be at least k - 1 = {k - 1} for (2); got d={d}. Use d={k - 1}."
        )
    rng = np.random.default_rng(seed)
    pairs = [(i, c) for i in range(n) for c in range(k) if c != y[i]]
    rows = np.arange(len(pairs))
    ii = np.array([p[0] for p in pairs])
    cc = np.array([p[1] for p in pairs])
    yy = y[ii]
    nW = d * k

    def unpack(x):
        return x[:nW].reshape(d, k), x[nW:].reshape(d, n)

    def f(x):
        return 0.5 * float(x @ x), x

    def cons(x):
        W, H = unpack(x)
        return np.einsum("dp,dp->p", W[:, yy] - W[:, cc], H[:, ii]) - 1.0

    def cons_jac(x):
        W, H = unpack(x)
        J = np.zeros((len(pairs), d * (k + n)))
        Hi = H[:, ii].T  # (P, d)
        diff = (W[:, yy] - W[:, cc]).T  # (P, d)
        for a in range(d):  # d(cons)/dW[a, y] = h[a], /dW[a, c] = -h[a], /dH[a, i] = diff[a]
            J[rows, a * k + yy] += Hi[:, a]
            J[rows, a * k + cc] -= Hi[:, a]
            J[rows, nW + a * n + ii] = diff[:, a]
        return J

    out = []
    for _ in range(starts):
        W0, H0 = feasible_start(counts, d, rng)
        x0 = np.concatenate([W0.ravel(), H0.ravel()])
        res = minimize(
            f,
            x0,
            jac=True,
            method="SLSQP",
            constraints=[{"type": "ineq", "fun": cons, "jac": cons_jac}],
            options={"ftol": ftol, "maxiter": maxiter},
        )
        W, H = unpack(res.x)
        out.append(
            LocalResult(
                W,
                H,
                0.5 * float(res.x @ res.x),
                float(cons(res.x).min() + 1.0),
                bool(res.success),
                str(res.message),
                0.5 * float(x0 @ x0),
            )
        )
    return out
