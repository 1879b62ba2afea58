"""The reference route: the SVD of Zhat from dense eigen-decompositions, not from seli_exact.

Zhat Zhat^T = P D P (D = diag(n_c), P = seli_exact.simplex_gram(k)), so its eigenpairs give
Zhat^T = U Lam V^T with Lam^2 the k - 1 nonzero eigenvalues, V their eigenvectors and
U = Y^T V Lam^{-1}. Two arithmetics:

* float64: LAPACK's symmetric eigensolver (numpy.linalg.eigh), accurate to tolerances.lapack;
* mpmath at `digits` digits: mpmath's Jacobi eigensolver (eigsy) on the same matrix, built
  exactly from the counts, accurate to tolerances.mp(digits).

From them, Theorem 1 (iii) with R = I: classifiers W = Lam^{1/2} V^T and class means
M = Lam^{-1/2} V^T (k - 1, k), and every reported quantity (norms, cosines, alignment, Gram
matrices, logits, nuclear norm) computed from these vectors. `dense_polar` is a third route:
B_hat = U V^T (n, k), the polar factor of Zhat^T from numpy's dense SVD of the (n, k) matrix.

None of this calls seli_exact's SVD; `_eigh`, `_eigsy` and `_svd` are the only places the
decompositions are called, so the route tests can make this route deliberately wrong.

>>> from seli_exact import step
>>> abs(reference(step(4, 10, "1/2", 5)).nuclear_norm - 14.5511800302) < 1e-9
True
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from seli_exact import ClassCounts, sel_matrix, simplex_gram

from . import tolerances
from .cache import memo

DENSE_MAX_N = 4000  # dense (n, k) SVDs and (n, n) Gram matrices are built only below this n


def _eigh(A: np.ndarray):
    return np.linalg.eigh(A)


def _eigsy(ctx, A):
    return ctx.eigsy(A)


def _svd(A: np.ndarray):
    return np.linalg.svd(A, full_matrices=False)


@dataclass(frozen=True, eq=False)
class Reference:
    """The SELI geometry of `counts` by the dense route, float64 or mpmath (object arrays).

    sigma (k-1,) descending; V (k, k-1); W, M (k-1, k) classifiers and class means (R = I);
    the rest computed from W and M (in mpmath at digits + 10 digits).
    """

    counts: ClassCounts
    arithmetic: str  # "float64" or "mpmath"
    digits: int
    sigma: np.ndarray
    V: np.ndarray
    W: np.ndarray
    M: np.ndarray
    nuclear_norm: object
    G_W: np.ndarray  # W^T W
    G_M: np.ndarray  # M^T M
    logits: np.ndarray  # W^T M
    classifier_norms: np.ndarray  # column norms of W
    embedding_norms: np.ndarray  # column norms of M
    classifier_cosines: np.ndarray  # of unit columns of W
    embedding_cosines: np.ndarray
    alignment: np.ndarray  # cos(w_c, mu_c) of unit columns, (k,)

    @property
    def tol(self) -> float:
        """The accuracy of this route (tolerances.lapack or tolerances.mp)."""
        return tolerances.lapack(self.counts) if self.arithmetic == "float64" else tolerances.mp(self.digits)

    @property
    def U_class(self) -> np.ndarray:
        """(k, k-1): the row of U for every example of class c."""
        return self.V / self.sigma[None, :]

    def U(self) -> np.ndarray:
        return self.U_class[self.counts.labels()]


def _build(counts, arithmetic, digits, sigma, V) -> Reference:
    """Every quantity from sigma and V: W = Lam^{1/2} V^T, M = Lam^{-1/2} V^T (Theorem 1 (iii))."""
    obj = sigma.dtype == object
    sqrt = np.frompyfunc(mpmath.sqrt, 1, 1) if obj else np.sqrt
    root = sqrt(sigma)
    W = root[:, None] * V.T
    M = V.T / root[:, None]
    w_norms = sqrt((W * W).sum(axis=0))
    m_norms = sqrt((M * M).sum(axis=0))
    w_unit, m_unit = W / w_norms[None, :], M / m_norms[None, :]
    return Reference(
        counts, arithmetic, digits, sigma, V, W, M, mpmath.fsum(sigma) if obj else float(sigma.sum()),
        W.T @ W, M.T @ M, W.T @ M, w_norms, m_norms, w_unit.T @ w_unit, m_unit.T @ m_unit,
        (w_unit * m_unit).sum(axis=0),
    )


def _float_reference(counts: ClassCounts) -> Reference:
    k = counts.k
    P = simplex_gram(k)
    mu, Q = _eigh(P @ np.diag(np.asarray(counts.counts, float)) @ P)
    order = np.argsort(mu)[::-1][: k - 1]  # drop the null vector 1
    return _build(counts, "float64", 15, np.sqrt(mu[order]), Q[:, order])


def _mp_reference(counts: ClassCounts, digits: int) -> Reference:
    k = counts.k
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    P = simplex_gram(k, "exact")  # rationals: P D P built exactly, then rounded once
    PDP = P @ np.diag([int(n) for n in counts.counts]) @ P
    A = ctx.matrix([[ctx.mpf(int(x.p)) / int(x.q) for x in row] for row in PDP])
    E, Q = _eigsy(ctx, A)
    order = sorted(range(k), key=lambda i: E[i], reverse=True)[: k - 1]
    with mpmath.workdps(digits + 10):
        mu = [mpmath.mp.make_mpf(E[i]._mpf_) for i in order]
        sigma = np.array([mpmath.sqrt(v) for v in mu], dtype=object)
        V = np.array([[mpmath.mp.make_mpf(Q[r, i]._mpf_) for i in order] for r in range(k)],
                     dtype=object)
        return _build(counts, "mpmath", digits, sigma, V)


@memo
def reference(counts: ClassCounts, digits: int | None = None) -> Reference:
    """The dense route in float64 (digits None) or mpmath at `digits` digits, cached."""
    return _float_reference(counts) if digits is None else _mp_reference(counts, digits)


@memo
def dense_polar(counts: ClassCounts) -> np.ndarray:
    """B_hat = U V^T (n, k) from numpy's dense SVD of Zhat^T (n <= DENSE_MAX_N only).

    U V^T is the polar factor of Zhat^T, unique although U and V are not (signs, rotations
    inside repeated singular values)."""
    u, _, vt = _svd(sel_matrix(counts).T)
    return u[:, : counts.k - 1] @ vt[: counts.k - 1]


def seli_factors(counts: ClassCounts, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Theorem 1 (iii) with the float64 reference: W = R^T Lam^{1/2} V^T (d, k) and class means
    R^T Lam^{-1/2} V^T (d, k) for a random partial orthonormal R (k-1, d)."""
    ref = reference(counts)
    Qm, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, counts.k - 1)))
    return Qm @ ref.W, Qm @ ref.M
