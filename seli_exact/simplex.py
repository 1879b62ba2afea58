"""The small numerics every part of the suite shares, each written once.

* ``simplex_gram(k, ar)``: G* = P = I - 11^T/k (k, k), the projector onto 1^perp, the ETF Gram
  matrix (Corollary 1.3) and the per-class SEL matrix (Definition 2: Zhat = P Y).
* ``helmert(r, ar)``: an orthonormal basis (r, r-1) of the zero-sum vectors of R^r.
* ``softmax_ce(Z, y)``: the log-sum-exp cross-entropy of every column of logits Z (k, n) with
  labels y, its softmax, and the off-label mass q = 1 - softmax[y], all formed from the margins
  z_j - z_y so that tiny losses keep their relative accuracy (float64).

Each takes an arithmetic (seli_exact.arithmetic) where it makes sense, so float64, mpmath and
exact SymPy callers share the one routine.

>>> simplex_gram(3, "exact").tolist()
[[2/3, -1/3, -1/3], [-1/3, 2/3, -1/3], [-1/3, -1/3, 2/3]]
>>> import numpy as np
>>> Q = helmert(4)
>>> bool(np.allclose(Q.T @ Q, np.eye(3)) and np.allclose(Q.sum(axis=0), 0))
True
"""

from __future__ import annotations

import numpy as np

from .arithmetic import Arithmetic, arithmetic


def simplex_gram(k: int, ar: str | Arithmetic = "float64") -> np.ndarray:
    """G* = P = I - 11^T/k, shape (k, k), in the arithmetic `ar`."""
    ar = arithmetic(ar)
    P = -np.full((k, k), ar.number(1), dtype=ar.dtype) / ar.number(k)
    P[np.diag_indices(k)] += ar.number(1)
    return P


def helmert(r: int, ar: str | Arithmetic = "float64") -> np.ndarray:
    """Orthonormal basis (r, r-1) of the zero-sum vectors in R^r (Helmert's contrasts).

    Column l has ones on rows 0..l, then -(l + 1) on row l + 1, divided by sqrt((l+1)(l+2)).
    """
    ar = arithmetic(ar)
    N = np.triu(np.ones((r, r - 1), dtype=np.int64))  # column l: ones on rows 0..l
    cols = np.arange(r - 1)
    N[cols + 1, cols] = -(cols + 1)  # then -(l + 1) on row l + 1
    den = ar.sqrt(ar.from_ints((cols + 1) * (cols + 2)))
    return ar.from_ints(N) / den[None, :]


def softmax_ce(Z, y, ar: str | Arithmetic = "float64"):
    """Cross-entropy of the columns of Z (k, n) with labels y (n,): (ce (n,), S (k, n), q (n,)).

    ce_i = log sum_j exp(z_ji - z_{y_i} i), S the column softmax, q_i = 1 - S[y_i, i] =
    sum_{j != y_i} S[j, i]. Margins u_j = z_j - z_y are formed first and the label term is kept
    out of the sum, so ce = log1p(sum_{j != y} e^{u_j}) and q stay accurate when they are tiny
    (in mpmath too: a loss below 10^-digits keeps its relative accuracy). In the arithmetic `ar`
    (Z is converted entrywise when it is not already in it).

    >>> ce, S, q = softmax_ce(np.array([[40.0], [0.0]]), np.array([0]))
    >>> bool(abs(ce[0] - np.exp(-40.0)) < 1e-30 and abs(q[0] - np.exp(-40.0)) < 1e-30)
    True
    >>> ar = arithmetic("mpmath", 30)
    >>> ce, _, _ = softmax_ce(np.array([[400], [0]]), [0], ar)
    >>> bool(abs(ce[0] / ar.ctx.exp(-400) - 1) < 1e-30)  # log(1 + e^-400): no 1 + tiny = 1
    True
    """
    ar = arithmetic(ar)
    if ar.dtype is float:
        Z = np.asarray(Z, dtype=float)
    else:
        Z = _convert(ar)(np.asarray(Z, dtype=object))
    y = np.asarray(y)
    k, n = Z.shape
    cols = np.arange(n)
    zero = ar.number(0)
    U = Z - Z[y, cols][None, :]  # (k, n): U[j, i] = z_ji - z_{y_i} i, zero on the label
    top = np.max(U, axis=0)  # >= 0
    E = ar.exp(U - top[None, :])
    label = np.zeros((k, n), dtype=bool)
    label[y, cols] = True
    off = np.where(label, zero, E).sum(axis=0)  # sum_{j != y}, no cancellation
    total = off + E[y, cols]
    ce = np.where(top == 0, ar.log1p(off), top + ar.log(total))
    return ce, E / total[None, :], off / total


def _convert(ar: Arithmetic):
    """Entrywise: Python and numpy ints and floats as numbers of `ar`, exactly (a float by its
    binary value); numbers already in `ar` unchanged."""
    from fractions import Fraction

    def one(x):
        if isinstance(x, (int, float, np.integer, np.floating)):
            return ar.number(Fraction(x))
        return x

    return np.frompyfunc(one, 1, 1)
