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
from .arithmetic import MPFR, Arithmetic, Float64, MPMath, arithmetic
from .counts import ClassCounts
from .errors import SeliInputError
from .simplex import helmert


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
        """matrix_function for several f at once, sharing the projectors (k, k) between them.

        Classes with equal counts have equal rows in every secular eigenvector, so the secular
        part sum_g f(sigma_g) v_g v_g^T is formed once per pair of distinct counts, as one
        product (J, S) (S, J) (BLAS in float64), and then spread over the classes; each shared
        count adds f(sqrt(a_j)) (I - 11^T/r_j) on its block. Cost O(J^2 S + k^2), not O(S k^2).
        """
        ar = self.arithmetic
        blocks = self.counts.blocks()
        first = np.array([classes[0] for _, classes in blocks])  # (J,) one class per count
        block_of_class = np.empty(self.k, dtype=int)
        for j, (_, classes) in enumerate(blocks):
            block_of_class[list(classes)] = j
        spread = np.ix_(block_of_class, block_of_class)
        secular = [t for t in self.spectrum if t.kind == "secular"]
        shared = [t for t in self.spectrum if t.kind == "shared"]
        J = len(blocks)
        if secular:
            Vb = np.array([t.vector[first] for t in secular], dtype=ar.dtype)  # (S, J)
            sig = ar.sqrt(np.array([t.mu for t in secular], dtype=ar.dtype))  # (S,)
        outs = []
        for f in fs:
            if secular:
                w = np.array([f(x) for x in sig], dtype=ar.dtype)  # (S,)
                out = ((Vb.T * w[None, :]) @ Vb)[spread]  # (J, J) -> (k, k)
            else:
                out = np.full((J, J), ar.number(0), dtype=ar.dtype)[spread]
            for term in shared:
                sigma = ar.sqrt(np.array([term.mu], dtype=ar.dtype))[0]
                idx = np.array(term.classes)
                value = f(sigma)
                out[np.ix_(idx, idx)] -= value / ar.number(len(idx))
                out[idx, idx] += value
            outs.append(out)
        return outs


def sel_svd(counts: ClassCounts, arith: str | Arithmetic = "float64", digits: int | None = None) -> SELSVD:
    """The compact SVD of Zhat^T from the counts alone, in the arithmetic named by `arith`."""
    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts (from step(), from_counts() or long_tailed()); "
            f"got {type(counts).__name__}. Build one with seli_exact.step(...)."
        )
    ar = arithmetic(arith, digits)
    blocks = counts.blocks()
    a = [value for value, _ in blocks]
    r = [len(classes) for _, classes in blocks]
    block_of_class = np.empty(counts.k, dtype=int)
    for j, (_, classes) in enumerate(blocks):
        block_of_class[list(classes)] = j

    mu, vectors = _secular_eigenpairs(ar, a, r, block_of_class)  # (J-1,), (J-1, k)
    A = ar.array(a)

    terms: list[SpectralTerm] = []  # ascending: a_1 < mu_1 < a_2 < mu_2 < ... < a_J
    for j in range(len(a)):
        if r[j] >= 2:
            terms.append(SpectralTerm(A[j], "shared", blocks[j][1]))
        if j < len(a) - 1:
            terms.append(SpectralTerm(mu[j], "secular", vector=vectors[j]))

    # columns of V in descending eigenvalue order: the terms reversed, a shared count's
    # eigenspace taking r - 1 columns (Helmert's basis) and a secular root one
    widths = [t.multiplicity for t in reversed(terms)]
    first = np.cumsum([0] + widths[:-1])
    k = counts.k
    V = np.full((k, k - 1), ar.number(0), dtype=ar.dtype)
    secular_cols, secular_rows = [], []
    for col, term in zip(first, reversed(terms)):
        if term.kind == "shared":
            V[np.array(term.classes), col : col + term.multiplicity] = helmert(len(term.classes), ar)
        else:
            secular_cols.append(col)
    V[:, secular_cols] = vectors[::-1].T  # the secular terms, descending, are vectors reversed
    mus = np.array([t.mu for t in reversed(terms) for _ in range(t.multiplicity)], dtype=ar.dtype)
    sigma = ar.sqrt(mus)
    return SELSVD(counts, ar, sigma, V, V / sigma[None, :], tuple(terms))


def secular_roots(counts: ClassCounts, arith: str | Arithmetic = "float64",
                  digits: int | None = None) -> np.ndarray:
    """The J - 1 secular roots of sum_j r_j/(a_j - mu) = 0, ascending (one per gap), alone.

    The eigenvalues sel_svd finds, without its eigenvectors and V (a k = 1000 long tail at 50
    digits: about 2 s instead of 10 s); what a certificate needs as its candidates.

    >>> from seli_exact.counts import from_counts
    >>> secular_roots(from_counts([50, 50, 5, 5])).tolist()
    [27.5]
    """
    ar = arithmetic(arith, digits)
    blocks = counts.blocks()
    a = [value for value, _ in blocks]
    r = [len(classes) for _, classes in blocks]
    if isinstance(ar, MPMath):
        _, t_f, left = _secular_newton(Float64(), a, r)
        work = MPFR(ar.ctx.prec)
        with work.scope():
            origin, t, _ = _secular_newton(work, a, r, left=left, start=t_f, quadratic=True)
            mu = origin + t
        return np.frompyfunc(ar.from_mpfr, 1, 1)(mu).astype(object)
    origin, t = _secular_roots(ar, a, r)
    return origin + t


def _secular_eigenpairs(ar: Arithmetic, a: list[int], r: list[int], block_of_class: np.ndarray):
    """The secular eigenvalues mu (J-1,) and their unit eigenvectors (J-1, k), in `ar`.

    mpmath takes a precision ladder: the roots are solved in float64, then polished with Newton
    (quadratic convergence: a few steps from 16 correct digits to any precision) together with
    the eigenvectors in MPFR at mpmath's binary precision, and handed over exactly.
    """
    if isinstance(ar, MPMath):
        _, t_f, left = _secular_newton(Float64(), a, r)
        work = MPFR(ar.ctx.prec)
        with work.scope():
            origin, t, _ = _secular_newton(work, a, r, left=left, start=t_f, quadratic=True)
            mu, vectors = _eigenvectors(work, a, r, origin, t, block_of_class)
            to_mp = np.frompyfunc(ar.from_mpfr, 1, 1)
            return to_mp(mu), to_mp(vectors)
    origin, t = _secular_roots(ar, a, r)
    return _eigenvectors(ar, a, r, origin, t, block_of_class)


def _eigenvectors(ar: Arithmetic, a, r, origin, t, block_of_class):
    """mu = origin + t and the unit vectors with components proportional to 1/(n_c - mu)."""
    A, Rm = ar.array(a), ar.array(r)
    # (a_i - origin) - t is exact up to the error in t, so the small gap next to a root keeps
    # its relative accuracy.
    inv = 1 / ((A[None, :] - origin[:, None]) - t[:, None])  # (J-1, J)
    norms = ar.sqrt((Rm[None, :] * inv * inv).sum(axis=1))  # (J-1,)
    return origin + t, inv[:, block_of_class] / norms[:, None]  # (J-1,), (J-1, k) unit rows


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
        import sympy  # only the exact arithmetic needs it (and it costs half a second to import)

        mu = sympy.Symbol("mu")
        poly = sum(
            r[j] * sympy.Mul(*[(a[i] - mu) for i in range(J) if i != j]) for j in range(J)
        )
        roots = sympy.Poly(sympy.expand(poly), mu).real_roots()
        if len(roots) != J - 1:
            raise ArithmeticError(f"secular polynomial gave {len(roots)} real roots, expected {J - 1}")
        return np.full(J - 1, sympy.Integer(0), dtype=object), np.array(roots, dtype=object)
    return _secular_newton(ar, a, r)[:2]


def _secular_newton(ar: Arithmetic, a: list[int], r: list[int], left=None, start=None,
                    quadratic: bool = False):
    """Safeguarded Newton for all gaps at once, in t = mu - origin; returns (origin, t, left).

    Without `start`, each gap starts at the root of its two-pole model (_two_pole_root). A
    Newton step that leaves the bracket bisects instead. quadratic=True says `start` is already
    within Newton's quadratic regime (a float64 root polished in higher precision): a step below
    sqrt(eps)|t| then means the final polishing step lands at the working precision.
    """
    A, Rm = ar.array(a), ar.array(r)
    J = len(a)
    lo, hi = A[:-1], A[1:]
    half = (hi - lo) / 2
    if left is None or start is None:
        mid = lo + half
        f_mid = (Rm[None, :] / (A[None, :] - mid[:, None])).sum(axis=1)
        left = f_mid >= 0  # the root lies in (lo, mid]; the origin is the nearer end
    origin = np.where(left, lo, hi)
    delta = A[None, :] - origin[:, None]  # (J-1, J), exact: counts are integers
    zero = ar.number(0)
    t_lo = np.where(left, zero, -half)
    t_hi = np.where(left, half, zero)
    if start is None:
        # the other terms at the midpoint, summed without the gap's two poles (no cancellation)
        others = np.ones((J - 1, J), dtype=bool)
        others[np.arange(J - 1), np.arange(J - 1)] = False
        others[np.arange(J - 1), np.arange(1, J)] = False
        rest = (np.where(others, Rm[None, :], zero) / (A[None, :] - mid[:, None])).sum(axis=1)
        dL = np.where(left, zero, -2 * half)  # the gap's poles, in t
        dR = np.where(left, 2 * half, zero)
        t = _two_pole_root(ar, Rm[:-1], Rm[1:], rest, dL, dR, t_lo, t_hi)
    else:
        t = np.array([ar.number(0) + x for x in np.asarray(start).tolist()], dtype=ar.dtype)
    eps = ar.eps
    # the precision in bits (a float of eps would underflow beyond ~300 digits)
    bits = ar.prec if isinstance(ar, MPFR) else int(-np.log2(float(eps)))
    tol = ar.sqrt(np.array([eps], dtype=ar.dtype))[0] if quadratic else 4 * eps
    for _ in range(4 * bits + 100):
        d = delta - t[:, None]
        g = (Rm[None, :] / d).sum(axis=1)  # increasing in t
        gp = (Rm[None, :] / (d * d)).sum(axis=1)
        pos = g > 0
        t_hi = np.where(pos, t, t_hi)
        t_lo = np.where(pos, t_lo, t)
        t_new = t - g / gp
        done = abs(t_new - t) <= tol * abs(t)
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


def _two_pole_root(ar: Arithmetic, rL, rR, c, dL, dR, t_lo, t_hi):
    """Per gap, the root in (t_lo, t_hi) of the model r_L/(d_L - t) + r_R/(d_R - t) + c = 0.

    The model keeps the gap's two poles and freezes the other terms at c, so it starts Newton
    near the root. Multiplied out: c t^2 - (c (d_L + d_R) + r_L + r_R) t + (r_L d_R + r_R d_L +
    c d_L d_R) = 0, solved by the cancellation-free pair q/a, c/q. The model increases between
    its poles, so one root lies there; where rounding puts it outside, the bracket's middle.
    """
    zero, one = ar.number(0), ar.number(1)
    qa, qb, qc = c, -(c * (dL + dR) + rL + rR), rL * dR + rR * dL + c * dL * dR
    root = ar.sqrt(np.maximum(qb * qb - 4 * qa * qc, zero))
    q = -(qb + np.where(qb >= 0, root, -root)) / 2
    x1 = qc / np.where(q == 0, one, q)
    x2 = np.where(qa == 0, x1, q / np.where(qa == 0, one, qa))
    inside1 = (x1 > t_lo) & (x1 < t_hi)
    inside2 = (x2 > t_lo) & (x2 < t_hi)
    return np.where(inside1, x1, np.where(inside2, x2, (t_lo + t_hi) / 2))
