"""The dense route to the SELI geometry: an eigen-decomposition of the k x k matrix P D P.

Zhat Zhat^T = P D P (Sec. A; D = diag(n_c), P = I - 11^T/k) = V Lam^2 V^T, so a symmetric
eigensolver on P D P gives the compact SVD's V and Lam without the secular equation: LAPACK's
eigh in float64, mpmath's eigsy (Jacobi) at any number of digits. P D P has the eigenvalue 0 on
the vector 1 and its other k - 1 eigenvalues are >= min_c n_c >= 1 (they interlace the counts,
svd.py), so the null pair is the one eigenvalue below n_min / 2; the routine refuses an
eigensolver output without that gap instead of guessing.

This route costs O(k^3) and knows nothing of the structure; it is the independent reference the
secular route (svd.py) and the integral route (integral.py) are compared with.

>>> from seli_exact.counts import from_counts
>>> sigma, V = dense_svd(from_counts([50, 50, 5, 5]))
>>> [round(float(x) ** 2, 10) for x in sigma]     # eigenvalues R n_min, n_min (m + sR)/k, n_min
[50.0, 27.5, 5.0]
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .arithmetic import Arithmetic, Float64, MPMath, arithmetic
from .counts import ClassCounts
from .errors import SeliInputError


def pdp(counts: ClassCounts, ar: Arithmetic) -> np.ndarray:
    """P D P (k, k), each entry n_a [a = b] - (n_a + n_b)/k + n/k^2 rounded once from its exact
    rational value."""
    n = np.asarray(counts.counts, dtype=object)
    k, total = counts.k, counts.n
    out = np.empty((k, k), dtype=ar.dtype)
    for a in range(k):
        for b in range(k):
            exact = Fraction(int(n[a]) * (a == b)) - Fraction(int(n[a] + n[b]), k) + Fraction(total, k * k)
            out[a, b] = ar.number(exact)
    return out


def _pdp_float(counts: ClassCounts) -> np.ndarray:
    """P D P in float64 without a Python loop over k^2 entries (k = 1000 takes 10 ms)."""
    n = np.asarray(counts.counts, dtype=float)
    k = counts.k
    return np.diag(n) - (n[:, None] + n[None, :]) / k + n.sum() / (k * k)


def _eigh(A: np.ndarray, ar: Arithmetic, vectors: bool = True):
    """Eigenvalues (list, any order) and eigenvectors (k, k) of a symmetric matrix in `ar`."""
    k = A.shape[0]
    if isinstance(ar, Float64):
        if not vectors:
            return list(np.linalg.eigvalsh(np.asarray(A, dtype=float))), None
        mu, Q = np.linalg.eigh(np.asarray(A, dtype=float))
        return list(mu), np.asarray(Q)
    if isinstance(ar, MPMath):
        ctx = ar.ctx
        if not vectors:
            E = ctx.eigsy(ctx.matrix(A.tolist()), eigvals_only=True)
            return [E[i] for i in range(k)], None
        E, Qm = ctx.eigsy(ctx.matrix(A.tolist()))
        return [E[i] for i in range(k)], np.array([[Qm[i, j] for j in range(k)] for i in range(k)],
                                                 dtype=object)
    raise SeliInputError(
        f"the dense route runs in float64 or mpmath; got arithmetic {ar.name!r}. "
        "Use route='secular' for exact algebra."
    )


def _without_null(mu: list, floor: float) -> list[int]:
    """Indices of the k - 1 eigenvalues above `floor`, descending; exactly one must be below it
    in absolute value (the null vector 1), else the eigensolver's output is refused."""
    null = [i for i, m in enumerate(mu) if abs(float(m)) < floor]
    if len(null) != 1 or any(float(m) <= floor for i, m in enumerate(mu) if i != null[0]):
        raise ArithmeticError(
            f"dense eigensolver: expected one eigenvalue near 0 and the others above {floor}; "
            f"got {sorted(float(m) for m in mu)[:3]} ..."
        )
    return sorted((i for i in range(len(mu)) if i != null[0]), key=lambda i: mu[i], reverse=True)


def dense_svd(counts: ClassCounts, arith: str | Arithmetic = "float64", digits: int | None = None):
    """(sigma (k-1,) descending, V (k, k-1)) from a dense symmetric eigensolver on P D P."""
    ar = arithmetic(arith, digits)
    A = _pdp_float(counts) if isinstance(ar, Float64) else pdp(counts, ar)
    mu, Q = _eigh(A, ar)
    keep = _without_null(mu, min(counts.counts) / 2)  # nonzero eigenvalues are >= n_min
    V = Q[:, keep]  # (k, k-1), orthonormal columns spanning 1^perp
    return ar.sqrt(np.array([mu[i] for i in keep], dtype=ar.dtype)), V


def nonzero_eigenvalues(A: np.ndarray, ar: Arithmetic, floor: float) -> np.ndarray:
    """The k - 1 eigenvalues above `floor` of a symmetric (k, k) matrix with A 1 = 0, descending
    (the singular values of the integral route, from its G_W = (P D P)^{1/2}, whose nonzero
    eigenvalues are >= sqrt(n_min))."""
    mu, _ = _eigh(A, ar, vectors=False)
    return np.array([mu[i] for i in _without_null(mu, floor)], dtype=ar.dtype)


def dense_grams(counts: ClassCounts, ar: Arithmetic):
    """(sigma, G_W = V Lam V^T, G_M = V Lam^{-1} V^T, logits = V V^T) by the dense route."""
    sigma, V = dense_svd(counts, ar)
    G_W = (V * sigma[None, :]) @ V.T
    G_M = (V / sigma[None, :]) @ V.T
    logits = V @ V.T
    return sigma, G_W, G_M, logits
