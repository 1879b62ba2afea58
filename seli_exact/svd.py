"""The compact SVD of the SEL matrix from its structure (Sec. A), in any arithmetic.

Zhat = P Y with P = I - 11^T/k and Y the one-hot label matrix, so Zhat Zhat^T = P D P with
D = diag(n_1, ..., n_k). An eigenvector v of P D P with eigenvalue mu > 0 is orthogonal to 1,
so (D - mu) v = c 1 for a scalar c, i.e.

  * v_c = c / (n_c - mu): mu is a root of the secular equation sum_c 1/(n_c - mu) = 0, which over
    the distinct counts a_1 < ... < a_J (with multiplicities r_j) reads sum_j r_j/(a_j - mu) = 0
    and has exactly one root in each gap (a_j, a_{j+1});
  * or c = 0: mu = a_j for a count shared by r_j >= 2 classes, with the (r_j - 1)-dimensional
    eigenspace of zero-sum vectors supported on those classes.

That is J - 1 + sum_j (r_j - 1) = k - 1 eigenvalues, as rank(Zhat) = k - 1 requires. Then
Zhat^T = U Lam V^T with Lam = diag(sqrt(mu)), V the eigenvectors and U = Y^T V Lam^{-1}: the row of
U of an example of class c is V[c] / sigma, one row per class repeated. Nothing here depends on n
beyond the k counts.

>>> from seli_exact.counts import step
>>> s = sel_svd(step(4, 10, "1/2", 5), "exact")
>>> s.sigma.tolist()     # sqrt(R n_min), sqrt(n_min (m + s R)/k), sqrt(n_min)
[5*sqrt(2), sqrt(110)/2, sqrt(5)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from .arithmetic import Arithmetic, arithmetic
from .counts import ClassCounts
from .errors import SeliInputError


@dataclass(frozen=True)
class SpectralTerm:
    """One eigenvalue mu of P D P with its eigenspace.

    kind "shared": mu = a shared count, eigenspace = zero-sum vectors on `classes`;
    kind "secular": mu = a secular root, eigenspace spanned by the unit vector `vector` (k,).
    """

    mu: object
    kind: str
    classes: tuple[int, ...] = ()
    vector: np.ndarray | None = None

    @property
    def multiplicity(self) -> int:
        return len(self.classes) - 1 if self.kind == "shared" else 1


@dataclass(frozen=True, eq=False)
class SELSVD:
    """Compact SVD Zhat^T = U Lam V^T of the SEL matrix (Definition 2), stored per class.

    sigma: (k-1,) descending singular values; V: (k, k-1); U_class: (k, k-1), row c is the row of
    U for every example of class c. `spectrum` lists the eigenvalues ascending with eigenspaces.
    """

    counts: ClassCounts
    arithmetic: Arithmetic
    sigma: np.ndarray  # (k-1,)
    V: np.ndarray  # (k, k-1)
    U_class: np.ndarray  # (k, k-1)
    spectrum: tuple[SpectralTerm, ...]

    def __post_init__(self):
        k = self.counts.k
        if self.sigma.shape != (k - 1,) or self.V.shape != (k, k - 1):
            raise ValueError(f"SELSVD shapes: sigma {self.sigma.shape}, V {self.V.shape}, k={k}")
        if sum(t.multiplicity for t in self.spectrum) != k - 1:
            raise ValueError("SELSVD: eigenvalue multiplicities do not add up to k - 1")

    @property
    def k(self) -> int:
        return self.counts.k

    @property
    def nuclear_norm(self):
        """||Zhat||_* = sum of singular values = p* of Theorem 1."""
        return self.sigma.sum()

    def U(self) -> np.ndarray:
        """U, shape (n, k-1): built densely, so only on request."""
        return self.U_class[self.counts.labels()]

    def matrix_function(self, f) -> np.ndarray:
        """sum over eigenvalues of f(sigma) times the spectral projector: a (k, k) matrix.

        f(sigma) = sigma gives V Lam V^T, 1/sigma gives V Lam^{-1} V^T, 1 gives V V^T = P.
        Uses the projectors (not V), so exact results stay free of the basis' radicals.
        """
        return self.matrix_functions(f)[0]

    def matrix_functions(self, *fs) -> list[np.ndarray]:
        """matrix_function for several f at once, sharing the projectors (k, k) between them."""
        ar, k = self.arithmetic, self.k
        outs = [np.full((k, k), ar.number(0), dtype=ar.dtype) for _ in fs]
        for term in self.spectrum:
            sigma = ar.sqrt(np.array([term.mu], dtype=ar.dtype))[0]
            if term.kind == "shared":
                idx = np.array(term.classes)
                r = len(idx)
                block = -np.full((r, r), ar.number(1), dtype=ar.dtype) / ar.number(r)
                block[np.diag_indices(r)] += ar.number(1)
                for out, f in zip(outs, fs):
                    out[np.ix_(idx, idx)] += f(sigma) * block
            else:
                projector = np.outer(term.vector, term.vector)
                for out, f in zip(outs, fs):
                    out += f(sigma) * projector
        return outs


def sel_svd(counts: ClassCounts, arith: str | Arithmetic = "float64", dps: int | None = None) -> SELSVD:
    """The compact SVD of Zhat^T from the counts alone, in the arithmetic named by `arith`."""
    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts (from step(), from_counts() or long_tailed()); "
            f"got {type(counts).__name__}. Build one with seli_exact.step(...)."
        )
    ar = arithmetic(arith, dps)
    blocks = counts.blocks()
    a = [value for value, _ in blocks]
    r = [len(classes) for _, classes in blocks]
    block_of_class = np.empty(counts.k, dtype=int)
    for j, (_, classes) in enumerate(blocks):
        block_of_class[list(classes)] = j

    origin, t = _secular_roots(ar, a, r)  # (J-1,), (J-1,): roots mu_j = origin_j + t_j
    A, Rm = ar.array(a), ar.array(r)
    # Eigenvector components 1/(n_c - mu) in the shifted variable: (a_i - origin) - t is exact up
    # to the error in t, so the small gaps next to a root keep their relative accuracy.
    inv = 1 / ((A[None, :] - origin[:, None]) - t[:, None])  # (J-1, J)
    norms = ar.sqrt((Rm[None, :] * inv * inv).sum(axis=1))  # (J-1,)
    vectors = inv[:, block_of_class] / norms[:, None]  # (J-1, k), unit rows

    terms: list[SpectralTerm] = []  # ascending: a_1 < mu_1 < a_2 < mu_2 < ... < a_J
    for j in range(len(a)):
        if r[j] >= 2:
            terms.append(SpectralTerm(A[j], "shared", blocks[j][1]))
        if j < len(a) - 1:
            terms.append(SpectralTerm(origin[j] + t[j], "secular", vector=vectors[j]))

    k = counts.k
    V = np.full((k, k - 1), ar.number(0), dtype=ar.dtype)
    mus = []
    col = 0
    for term in reversed(terms):  # descending eigenvalues
        if term.kind == "shared":
            basis = _helmert(ar, len(term.classes))  # (r, r-1)
            V[np.array(term.classes), col : col + basis.shape[1]] = basis
            width = basis.shape[1]
        else:
            V[:, col] = term.vector
            width = 1
        mus.extend([term.mu] * width)
        col += width
    sigma = ar.sqrt(np.array(mus, dtype=ar.dtype))
    return SELSVD(counts, ar, sigma, V, V / sigma[None, :], tuple(terms))


def _helmert(ar: Arithmetic, r: int) -> np.ndarray:
    """Orthonormal basis (r, r-1) of the zero-sum vectors in R^r (Helmert's contrasts)."""
    N = np.triu(np.ones((r, r - 1), dtype=np.int64))  # column l: ones on rows 0..l
    cols = np.arange(r - 1)
    N[cols + 1, cols] = -(cols + 1)  # then -(l + 1) on row l + 1
    den = ar.sqrt(ar.from_ints((cols + 1) * (cols + 2)))
    return ar.from_ints(N) / den[None, :]


def _secular_roots(ar: Arithmetic, a: list[int], r: list[int]):
    """Roots of sum_j r_j/(a_j - mu) = 0, one per gap (a_j, a_{j+1}), as (origin, t) pairs.

    Exact arithmetic: roots of the cleared polynomial, with origin 0. Floating arithmetics: a
    safeguarded Newton iteration in t = mu - origin, the origin being the gap's end nearer the
    root, run vectorized over all gaps until the step is below the working precision.
    """
    J = len(a)
    if J < 2:
        empty = np.array([], dtype=ar.dtype)
        return empty, empty
    if ar.exact:
        mu = sympy.Symbol("mu")
        poly = sum(
            r[j] * sympy.Mul(*[(a[i] - mu) for i in range(J) if i != j]) for j in range(J)
        )
        roots = sympy.Poly(sympy.expand(poly), mu).real_roots()
        if len(roots) != J - 1:
            raise ArithmeticError(f"secular polynomial gave {len(roots)} real roots, expected {J - 1}")
        return np.full(J - 1, sympy.Integer(0), dtype=object), np.array(roots, dtype=object)

    if ar.name != "float64":
        # precision ladder: solve in float64, then polish with Newton in the target arithmetic
        # (quadratic convergence: a handful of steps from 16 correct digits to any precision)
        from .arithmetic import Float64

        origin_f, t_f, left = _secular_newton(Float64(), a, r)
        return _secular_newton(ar, a, r, left=left, start=t_f)[:2]
    return _secular_newton(ar, a, r)[:2]


def _secular_newton(ar: Arithmetic, a: list[int], r: list[int], left=None, start=None):
    """Safeguarded Newton for all gaps at once, in t = mu - origin; returns (origin, t, left)."""
    A, Rm = ar.array(a), ar.array(r)
    lo, hi = A[:-1], A[1:]
    half = (hi - lo) / 2
    if left is None:
        mid = lo + half
        f_mid = (Rm[None, :] / (A[None, :] - mid[:, None])).sum(axis=1)
        left = f_mid >= 0  # the root lies in (lo, mid]; the origin is the nearer end
    origin = np.where(left, lo, hi)
    delta = A[None, :] - origin[:, None]  # (J-1, J), exact: counts are integers
    zero = ar.number(0)
    t_lo = np.where(left, zero, -half)
    t_hi = np.where(left, half, zero)
    if start is None:
        t = np.where(left, half / 2, -half / 2)
    else:
        t = np.array([ar.number(0) + x for x in np.asarray(start).tolist()], dtype=ar.dtype)
    eps = ar.eps
    bits = int(-np.log2(float(eps)))
    for _ in range(4 * bits + 100):
        d = delta - t[:, None]
        g = (Rm[None, :] / d).sum(axis=1)  # increasing in t
        gp = (Rm[None, :] / (d * d)).sum(axis=1)
        pos = g > 0
        t_hi = np.where(pos, t, t_hi)
        t_lo = np.where(pos, t_lo, t)
        t_new = t - g / gp
        done = abs(t_new - t) <= 4 * eps * abs(t)
        # a converged step may round just past the bracket; never bisect away from the root
        inside = ((t_new > t_lo) & (t_new < t_hi)) | done
        t = np.where(inside, t_new, (t_lo + t_hi) / 2)
        if bool(np.all(done)):
            break
    else:
        raise ArithmeticError("secular-equation iteration did not converge")
    # one more Newton step from the converged point polishes the last bit
    d = delta - t[:, None]
    t = t - (Rm[None, :] / d).sum(axis=1) / (Rm[None, :] / (d * d)).sum(axis=1)
    return origin, t, left
