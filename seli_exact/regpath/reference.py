"""A high-accuracy reference for the reduced (7): Newton polished with mpmath gradients.

Starting from the float64 solution, each step solves H dX = -g with g the gradient of F in
X (k-1, k) evaluated in mpmath at `dps` digits (loss and polar factor) and H the float64 Hessian
(an approximate Hessian still contracts the error by ~1e-8 per step). The result is returned as an
mpmath matrix M (k, k); it is not checked here: certify it with reduction.certify(M, counts, lam,
dps), whose duality gap at `dps` digits bounds its suboptimality (the tests and the benchmark do).

>>> from seli_exact.counts import from_counts
>>> M = reference_solution(from_counts([3, 1, 1]), 0.1, dps=40)
>>> M.rows, M.cols
(3, 3)
"""

from __future__ import annotations

import mpmath
import numpy as np

from ..counts import ClassCounts
from .solver import _Reduced, solve_regpath_point


def _helmert_mp(ctx, k):
    Q = ctx.matrix(k, k - 1)
    for l in range(k - 1):
        den = ctx.sqrt((l + 1) * (l + 2))
        for i in range(l + 1):
            Q[i, l] = 1 / den
        Q[l + 1, l] = -(l + 1) / den
    return Q


def _grad_mp(ctx, X, Q, n, lam):
    """Gradient of F at X (mpmath (k-1, k)): Q^T G D + lam U V^T D^{1/2}."""
    r, k = X.rows, X.cols
    M = Q * X
    GD = ctx.matrix(k, k)
    for c in range(k):
        u = [M[j, c] - M[c, c] for j in range(k)]
        top = max(u)
        e = [ctx.exp(v - top) for v in u]
        tot = ctx.fsum(e)
        for j in range(k):
            GD[j, c] = n[c] * (e[j] / tot - (1 if j == c else 0))
    root = [ctx.sqrt(v) for v in n]
    B = ctx.matrix(r, k)
    for i in range(r):
        for j in range(k):
            B[i, j] = X[i, j] * root[j]
    U, _, V = ctx.svd_r(B, full_matrices=False)  # U (r, r), V (r, k) = V^T
    P = U * V
    g = Q.T * GD
    for i in range(r):
        for j in range(k):
            g[i, j] += lam * P[i, j] * root[j]
    return g


def reference_solution(counts: ClassCounts, lam, *, dps: int = 50, steps: int = 6):
    """M (mpmath matrix, k x k) solving the reduced (7) to about `dps` digits."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    k = counts.k
    n = [ctx.mpf(int(v)) for v in counts.counts]
    lam_mp = ctx.mpf(float(lam))
    point = solve_regpath_point(counts, lam)
    f = _Reduced(counts, float(lam))
    Qf = f.Q
    Xf = Qf.T @ point.M
    Q = _helmert_mp(ctx, k)
    X = ctx.matrix(Xf.tolist())
    for _ in range(steps):
        g = _grad_mp(ctx, X, Q, n, lam_mp)
        gf = np.array([[float(g[i, j]) for j in range(k)] for i in range(k - 1)])
        # the float64 Hessian is refreshed at the current point; the step is in float64 but is
        # applied to the mpmath iterate, so errors shrink geometrically below float precision
        _, _, Hs, _ = f.derivatives(np.array([[float(X[i, j]) for j in range(k)] for i in range(k - 1)]))
        step = np.linalg.solve(Hs, -gf.ravel()).reshape(k - 1, k)
        X = X + ctx.matrix(step.tolist())
    return Q * X
