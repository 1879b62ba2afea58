"""SELI geometry at Theorem 1's scale (alpha = 1) and the ETF geometry (Corollary 1.3).

With Zhat^T = U Lam V^T (see svd.py), Theorem 1 (ii) gives G_W = W^T W = V Lam V^T and
G_H = H^T H = U Lam U^T. Keeping one row of U per class, the class-mean Gram is
G_M = V Lam^{-1} V^T and the logits W^T M = V V^T = I - 11^T/k (Theorem 1 (i)).

Three routes compute it (`seli_geometry(..., route=...)`), each independent of the others:
"secular" (the structured SVD of svd.py; float64, mpmath, exact), "dense" (a symmetric
eigensolver on the k x k matrix P D P, dense.py; float64, mpmath) and "integral" (quadrature of
G_M = L^{1/2} and G_W = (P D P)^{1/2} from Theorem 1's proof for any counts, integral.py;
float64, mpmath).

>>> from seli_exact.counts import step
>>> g = seli_geometry(step(4, 10, "1/2", 5), "exact")
>>> g.logits[0, 0], g.logits[0, 1]
(3/4, -1/4)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arithmetic import Arithmetic, arithmetic
from .counts import ClassCounts
from .errors import SeliInputError
from .simplex import simplex_gram
from .svd import SELSVD, sel_svd
from .validate import whole


@dataclass(frozen=True, eq=False)
class Geometry:
    """Norms, angles and Gram matrices of k classifiers and k class means.

    All matrices are (k, k) numpy arrays in the geometry's arithmetic; `name` is "SELI" or "ETF".
    `route` says how it was computed (seli_geometry); `error` holds the integral route's error
    control (integral.IntegralGrams.error) and is empty otherwise.
    """

    name: str
    counts: ClassCounts
    arithmetic: Arithmetic
    singular_values: np.ndarray  # (k-1,), descending
    W_gram: np.ndarray  # (k, k) G_W = W^T W
    M_gram: np.ndarray  # (k, k) G_M = M^T M
    logits: np.ndarray  # (k, k) W^T M
    route: str = "secular"
    error: dict = field(default_factory=dict)

    def __post_init__(self):
        k = self.counts.k
        for label, A in (("W_gram", self.W_gram), ("M_gram", self.M_gram), ("logits", self.logits)):
            if A.shape != (k, k):
                raise ValueError(f"Geometry.{label} has shape {A.shape}, expected ({k}, {k})")

    @property
    def k(self) -> int:
        return self.counts.k

    @property
    def nuclear_norm(self):
        return self.singular_values.sum()

    @property
    def classifier_norms(self) -> np.ndarray:
        return self.arithmetic.sqrt(np.diagonal(self.W_gram).copy())

    @property
    def embedding_norms(self) -> np.ndarray:
        return self.arithmetic.sqrt(np.diagonal(self.M_gram).copy())

    @property
    def classifier_cosines(self) -> np.ndarray:
        w = self.classifier_norms
        return self.W_gram / np.outer(w, w)

    @property
    def embedding_cosines(self) -> np.ndarray:
        h = self.embedding_norms
        return self.M_gram / np.outer(h, h)

    @property
    def alignment(self) -> np.ndarray:
        """cos(w_c, mu_c) = (W^T M)[c, c] / (||w_c|| ||mu_c||), shape (k,)."""
        return np.diagonal(self.logits) / (self.classifier_norms * self.embedding_norms)

    def H_gram(self) -> np.ndarray:
        """G_H = U Lam U^T, shape (n, n): every example has its class mean's row (NC)."""
        y = self.counts.labels()
        return self.M_gram[np.ix_(y, y)]

    def to_float(self) -> "Geometry":
        f = self.arithmetic.to_float
        return Geometry(
            self.name, self.counts, arithmetic("float64"), f(self.singular_values),
            f(self.W_gram), f(self.M_gram), f(self.logits), self.route, dict(self.error),
        )


ROUTES = ("secular", "dense", "integral")


def seli_geometry(
    counts: ClassCounts, arith: str | Arithmetic = "float64", digits: int | None = None, *,
    svd: SELSVD | None = None, route: str = "secular",
) -> Geometry:
    """Definition 3 with alpha = 1: the geometry of every UF-SVM minimizer (Theorem 1).

    route "secular" (default): the structured SVD (svd.py), in float64, mpmath or exact;
    singular_values are the square roots of the secular roots and of the shared counts.
    route "dense": LAPACK's eigh (float64) or mpmath's eigsy (at `digits`) on P D P (dense.py);
    singular_values are the square roots of its k - 1 nonzero eigenvalues.
    route "integral": G_M and G_W by quadrature of Theorem 1's integrals (integral.py, with the
    error control in `Geometry.error`), logits W^T M = P (Theorem 1 (i), exactly);
    singular_values are the k - 1 nonzero eigenvalues of that G_W = (P D P)^{1/2} (same
    eigensolvers as "dense"), so the Gram matrices never pass through an eigensolver.

    >>> from seli_exact.counts import from_counts
    >>> c = from_counts([50, 50, 5, 5])
    >>> [round(float(seli_geometry(c, route=r).M_gram[0, 2]), 12) for r in ROUTES]
    [-0.047673129462, -0.047673129462, -0.047673129462]
    """
    if route not in ROUTES:
        raise SeliInputError(
            f"`route` must be one of {', '.join(ROUTES)}; got {route!r}. Use secular (the default)."
        )
    if route != "secular":
        if svd is not None:
            raise SeliInputError(
                f"`svd` is the secular route's input; got one with route={route!r}. "
                "Drop svd or use route='secular'."
            )
        return _other_route(counts, arithmetic(arith, digits), route)
    s = svd if svd is not None else sel_svd(counts, arith, digits)
    one = s.arithmetic.number(1)
    G_W, G_M, logits = s.matrix_functions(
        lambda sigma: sigma,  # V Lam V^T
        lambda sigma: one / sigma,  # V Lam^{-1} V^T
        lambda sigma: one,  # V V^T = P
    )
    return Geometry("SELI", s.counts, s.arithmetic, s.sigma, G_W, G_M, logits)


def _other_route(counts: ClassCounts, ar: Arithmetic, route: str) -> Geometry:
    from .dense import dense_grams, nonzero_eigenvalues
    from .integral import integral_grams

    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts (from step(), from_counts() or long_tailed()); "
            f"got {type(counts).__name__}. Build one with seli_exact.step(...)."
        )
    if route == "dense":
        sigma, G_W, G_M, logits = dense_grams(counts, ar)
        return Geometry("SELI", counts, ar, sigma, G_W, G_M, logits, "dense")
    g = integral_grams(counts, ar)
    sigma = nonzero_eigenvalues(g.G_W, ar, floor=min(counts.counts) ** 0.5 / 2)
    return Geometry("SELI", counts, ar, sigma, g.G_W, g.G_M, simplex_gram(counts.k, ar),
                    "integral", dict(g.error))


def etf_geometry(counts_or_k, arith: str | Arithmetic = "float64", digits: int | None = None) -> Geometry:
    """Corollary 1.3's ETF: W = M and G_W = G_M = W^T M = I - 11^T/k (singular values all 1)."""
    if isinstance(counts_or_k, ClassCounts):
        counts = counts_or_k
    else:
        k = whole("k", counts_or_k, minimum=2)
        counts = ClassCounts((1,) * k, "counts")
    ar = arithmetic(arith, digits)
    k = counts.k
    P = simplex_gram(k, ar)
    return Geometry("ETF", counts, ar, ar.array([1] * (k - 1)), P, P.copy(), P.copy())


def factorize(svd: SELSVD, d: int, seed: int | None = 0):
    """Theorem 1 (iii): W = R^T Lam^{1/2} V^T (d, k) and class means M = R^T Lam^{1/2} U_class^T.

    R is a random (k-1, d) partial orthonormal matrix (R R^T = I). H is M[:, y]. float64 only.
    """
    k = svd.k
    d = whole("d", d, minimum=k - 1, fix=f"Theorem 1 needs d >= k - 1 = {k - 1}.")
    f = svd.arithmetic.to_float
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, k - 1)))  # (d, k-1) orthonormal columns
    R = Q.T  # (k-1, d)
    root = np.sqrt(f(svd.sigma))
    W = R.T @ (root[:, None] * f(svd.V).T)  # (d, k)
    M = R.T @ (root[:, None] * f(svd.U_class).T)  # (d, k)
    return W, M

