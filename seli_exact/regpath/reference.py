"""A high-accuracy reference for the reduced (7): Newton polished with mpmath gradients.

Starting from the float64 solution, each step solves H dX = -g with g the gradient of F in
X (k-1, k) evaluated in mpmath at `digits` digits (loss and polar factor) and H the float64
Hessian (an approximate Hessian still contracts the error by ~1e-8 per step). The result is
returned as an mpmath matrix M (k, k); it is not checked here: certify it with
reduction.certify(M, counts, lam, digits), whose duality gap bounds its suboptimality (the tests
and the benchmark do). The float64 solution it starts from must itself be certified.

>>> from seli_exact.counts import from_counts
>>> M = reference_solution(from_counts([3, 1, 1]), 0.1, digits=40)
>>> M.rows, M.cols
(3, 3)
"""

from __future__ import annotations

import numpy as np

from ..arithmetic import arithmetic
from ..counts import ClassCounts
from ..errors import SeliInputError
from ..simplex import helmert
from ..validate import whole
from .reduction import class_gradient_mp
from .solver import _Reduced, solve_regpath_point


def _grad_mp(ar, X, Q, n, lam):
    """Gradient of F at X (mpmath (k-1, k)): Q^T G D + lam U V^T D^{1/2}."""
    ctx = ar.ctx
    r, k = X.rows, X.cols
    _, G = class_gradient_mp(ar, Q * X)  # (k, k): column c = softmax(m_c) - e_c
    GD = ctx.matrix(k, k)
    for c in range(k):
        for j in range(k):
            GD[j, c] = n[c] * G[j, c]
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


def reference_solution(counts: ClassCounts, lam, *, digits: int = 50, steps: int = 6):
    """M (mpmath matrix, k x k) solving the reduced (7) to about `digits` digits; the solution
    must have full rank k - 1 (the polish differentiates the polar factor)."""
    digits = whole("digits", digits, minimum=20, maximum=1000, fix="Try digits=50.")
    steps = whole("steps", steps, minimum=1, maximum=100, fix="Try steps=6.")
    ar = arithmetic("mpmath", digits)
    ctx = ar.ctx  # shared: read, never mutated
    k = counts.k
    n = [ctx.mpf(int(v)) for v in counts.counts]
    lam_mp = ctx.mpf(float(lam))
    point = solve_regpath_point(counts, lam)
    if point.method != "newton" or not point.certified:
        raise SeliInputError(
            f"reference_solution polishes certified full-rank solutions; at lam={lam} the "
            f"solution has rank {point.rank} (k - 1 = {k - 1}, method {point.method}). Pick a "
            "smaller lam."
        )
    f = _Reduced(counts, float(lam))
    Xf = f.Q.T @ point.M
    Q = ctx.matrix(helmert(k, ar).tolist())  # (k, k-1), the same basis in mpmath
    X = ctx.matrix(Xf.tolist())
    for _ in range(steps):
        g = _grad_mp(ar, X, Q, n, lam_mp)
        gf = np.array([[float(g[i, j]) for j in range(k)] for i in range(k - 1)])
        # the float64 Hessian is refreshed at the current point; the step is in float64 but is
        # applied to the mpmath iterate, so errors shrink geometrically below float precision
        Xc = np.array([[float(X[i, j]) for j in range(k)] for i in range(k - 1)])
        _, _, Hs, _ = f.derivatives(Xc)
        step = np.linalg.solve(Hs, -gf.ravel()).reshape(k - 1, k)
        X = X + ctx.matrix(step.tolist())
    return Q * X
