"""Sec. 4.4: the linear model Xi (k, n) with ridge-regularized CE, min L(Xi) + lam ||Xi||_F^2 / 2.

Lemma A.1 (v): grad L(alpha Zhat) = -alpha' Zhat with alpha' = k / (e^alpha + k - 1). So
alpha Zhat is stationary iff lam alpha = k / (e^alpha + k - 1); the left side increases from 0
and the right side decreases, so there is exactly one root alpha_lam > 0, and, the problem being
lam-strongly convex, Xi_lam = alpha_lam Zhat for every lam and every class-count vector.
Strong convexity also turns any stationarity residual r into an error bound ||Xi - Xi_lam||_F
<= ||r||_F / lam, which is what sec4.4 checks.

>>> a = linear_scale(4, 0.1)
>>> bool(abs(0.1 * a - 4 / (math.exp(a) + 3)) < 1e-15)
True
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from ..counts import ClassCounts
from ..sel import sel_matrix
from ..simplex import softmax_ce


def linear_scale(k: int, lam: float) -> float:
    """alpha_lam: the root of lam alpha = k / (e^alpha + k - 1) (Lemma A.1 (v))."""
    f = lambda a: lam * a - k / (math.exp(a) + k - 1)  # noqa: E731 - increasing in a
    hi = 1.0
    while f(hi) < 0:
        hi *= 2
    return brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


def ce_gradient(Z, counts: ClassCounts) -> np.ndarray:
    """grad L(Z) = softmax(Z) - Y, shape (k, n); the label entry is -q (seli_exact.simplex
    .softmax_ce's off-label mass), so it keeps its relative accuracy when the softmax is nearly
    one-hot (small lam)."""
    y = counts.labels()
    _, S, q = softmax_ce(Z, y)
    G = S.copy()
    G[y, np.arange(G.shape[1])] = -q
    return G


def linear_stationarity(Xi, counts: ClassCounts, lam: float) -> dict:
    """Residual r = grad L(Xi) + lam Xi and the error bound ||r||_F / lam relative to ||Xi||_F."""
    r = ce_gradient(Xi, counts) + lam * np.asarray(Xi, dtype=float)
    res = float(np.linalg.norm(r))
    return {"residual": res, "relative_error_bound": res / (lam * float(np.linalg.norm(Xi)))}


def linear_solution(counts: ClassCounts, lam: float) -> np.ndarray:
    """Xi_lam = alpha_lam Zhat, shape (k, n)."""
    return linear_scale(counts.k, lam) * sel_matrix(counts)
