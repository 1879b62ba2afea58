"""The metric library of Section 5: distances of trained (W, H, y) or (W, M) to SELI and ETF.

Layouts. Every function here takes the paper's column layout: classifiers W (..., d, k) and class
means M (..., d, k) hold one class per *column*, features H (..., d, n) one example per column.
PyTorch stores the transposes: nn.Linear.weight is (k, d) and a batch of features is (n, d), so
W_here = weight.T and H_here = features.T. `measurement.measure` takes PyTorch's layouts, streams
large inputs and calls the functions below on the transposes; leading axes (...) are batch axes,
so many runs are measured in one call (the UFM trainer does). float64 numpy throughout; this is
the one implementation that training, the checker and `seli measure` share.

Section 5: dist(A, A_hat) = || A/||A||_F - A_hat/||A_hat||_F ||_F, for
  classifiers  G_W = W^T W  against V Lam V^T (SELI) or G* = I - 11^T/k (ETF);
  class means  G_M = M^T M  against V Lam^{-1} V^T (SELI) or G* (ETF), M optionally centred
               (`centred_means`: the balanced mean of class means, Sec. G; or the sample mean);
  logits       W^T M        against G* for both (in SELI, W^T M = V V^T = G* as well).
The neural-collapse statistics of Papyan et al. (2020), in this layout (formulas in
measurement.measure's docstring): `nc1` / `nc1_from_covariance` / `nc1_basis` (NC1), `angle_error` (NC2's
equiangularity, against ETF's or SELI's angles), `self_duality` (NC3), `fitted_norms` (per-class
norms against a predicted profile, NC2's equinorm when the profile is flat).

Counts may be a ClassCounts or plain counts (a list or tuple of class sizes, e.g. [50, 50, 5, 5]).

>>> from seli_exact.counts import step
>>> from seli_exact.svd import sel_svd
>>> from seli_exact.geometry import factorize
>>> c = step(4, 10, "1/2", 5)
>>> W, M = factorize(sel_svd(c), d=5, seed=1)
>>> d = distances(W, M, c)
>>> bool(d.seli.classifiers < 1e-12 < d.etf.classifiers)
True
>>> bool(distances(W, M, [50, 50, 5, 5]).seli.embeddings < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from .arithmetic import arithmetic
from .counts import ClassCounts, from_counts
from .errors import SeliInputError
from .precision import default_rtol
from .simplex import simplex_gram

# How class means are centred before the embedding and logit metrics (and NC1-NC3):
# "balanced": minus the mean of the class means (Sec. G; SELI's means have it at 0, M 1 = 0);
# "weighted": minus the sample mean of all features, sum_c n_c mu_c / n (Papyan et al.'s mu_G);
# "none": as they are.
CENTERS = ("balanced", "weighted", "none")


def as_counts(counts) -> ClassCounts:
    """A ClassCounts from a ClassCounts, or from plain counts (sequence, array or "50,50,5,5")."""
    if isinstance(counts, ClassCounts):
        return counts
    if isinstance(counts, np.ndarray):
        counts = counts.tolist()
    if counts is None or isinstance(counts, (bytes, dict, set)) or not hasattr(counts, "__len__"):
        raise SeliInputError(
            f"`counts` must be a ClassCounts or a list of class sizes; got {counts!r}. "
            "Pass e.g. [50, 50, 5, 5]."
        )
    return from_counts(counts)


def normalized_distance(A, A_hat) -> np.ndarray:
    """|| A/||A||_F - A_hat/||A_hat||_F ||_F over the last two axes (0 for proportional A, A_hat)."""
    A = np.asarray(A, dtype=float)
    A_hat = np.asarray(A_hat, dtype=float)
    a = A / np.linalg.norm(A, axis=(-2, -1), keepdims=True)
    b = A_hat / np.linalg.norm(A_hat, axis=(-2, -1), keepdims=True)
    return np.linalg.norm(a - b, axis=(-2, -1))


def gram(A) -> np.ndarray:
    """A^T A over the last two axes: (..., d, k) -> (..., k, k)."""
    A = np.asarray(A, dtype=float)
    return np.swapaxes(A, -1, -2) @ A


def class_means(H, y, k: int) -> np.ndarray:
    """M = [mu_1, ..., mu_k], shape (..., d, k), from features H (..., d, n) and labels y (n,)."""
    H = np.asarray(H, dtype=float)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != H.shape[-1]:
        raise SeliInputError(
            f"`y` must hold one label per column of H; got {y.shape[0] if y.ndim else 'a scalar'} "
            f"labels for {H.shape[-1]} columns. Pass the training labels in column order."
        )
    onehot = np.zeros((H.shape[-1], k))
    onehot[np.arange(y.shape[0]), y] = 1.0
    counts = onehot.sum(axis=0)
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        raise SeliInputError(
            f"every class needs at least one example to have a class mean; classes {missing} "
            "have none. Check the labels."
        )
    return (H @ onehot) / counts


def centre(M, weights=None) -> np.ndarray:
    """M - m 1^T with m = mean_c(mu_c) (the balanced mean, Sec. G), or with `weights` (k,) the
    weighted mean m = sum_c w_c mu_c / sum_c w_c (class counts give the sample mean of features).
    """
    M = np.asarray(M, dtype=float)
    if weights is None:
        return M - M.mean(axis=-1, keepdims=True)
    w = np.asarray(weights, dtype=float)
    return M - (M @ w)[..., None] / w.sum()


def centred_means(M, center: str, counts) -> np.ndarray:
    """Class means M (..., d, k) centred as `center` says (one of CENTERS)."""
    if center == "balanced":
        return centre(M)
    if center == "weighted":
        return centre(M, as_counts(counts).counts)
    if center == "none":
        return np.asarray(M, dtype=float)
    raise SeliInputError(
        f"`center` must be one of {', '.join(CENTERS)}; got {center!r}. "
        "Use balanced (the mean of the class means, Sec. G) unless you mean otherwise."
    )


@dataclass(frozen=True)
class Distances:
    classifiers: np.ndarray | float
    embeddings: np.ndarray | float
    logits: np.ndarray | float

    def as_dict(self) -> dict:
        return {k: np.asarray(v).tolist() for k, v in asdict(self).items()}


@dataclass(frozen=True)
class GeometryDistances:
    """Distances to SELI (Definition 3) and to ETF (Corollary 1.3) of one or many runs."""

    seli: Distances
    etf: Distances

    def as_dict(self) -> dict:
        return {"seli": self.seli.as_dict(), "etf": self.etf.as_dict()}


@lru_cache(maxsize=256)
def _references(counts: tuple[int, ...]):
    from .geometry import seli_geometry  # SymPy behind it loads only when a target is needed

    g = seli_geometry(ClassCounts(counts)).to_float()
    G_star = simplex_gram(len(counts), arithmetic("float64"))
    return g.W_gram, g.M_gram, G_star


def reference_grams(counts):
    """(V Lam V^T, V Lam^{-1} V^T, G*) in float64, cached per count vector (plain counts too)."""
    return _references(tuple(as_counts(counts).counts))


def distances(W, M, counts, *, centred: bool = False) -> GeometryDistances:
    """Distances of classifiers W (..., d, k) and class means M (..., d, k) to SELI and ETF.

    `centred=True` centres M by the balanced mean of class means first (Sec. G).
    """
    W = np.asarray(W, dtype=float)
    M = np.asarray(M, dtype=float)
    counts = as_counts(counts)
    k = counts.k
    if W.shape[-1] != k or M.shape[-1] != k or W.shape[-2] != M.shape[-2]:
        raise SeliInputError(
            f"`W` and `M` must both be (d, {k}) for k={k} classes; got W {W.shape} and "
            f"M {M.shape}. Pass classifiers and class means as columns."
        )
    if centred:
        M = centre(M)
    G_W_seli, G_M_seli, G_star = reference_grams(counts)
    G_W, G_M = gram(W), gram(M)
    logits = np.swapaxes(W, -1, -2) @ M
    d_logits = normalized_distance(logits, G_star)
    return GeometryDistances(
        seli=Distances(
            normalized_distance(G_W, G_W_seli), normalized_distance(G_M, G_M_seli), d_logits
        ),
        etf=Distances(
            normalized_distance(G_W, G_star), normalized_distance(G_M, G_star), d_logits
        ),
    )


def feature_distances(W, H, y, counts, *, centred: bool = False) -> GeometryDistances:
    """distances() with the class means taken from features H (..., d, n) and labels y."""
    counts = as_counts(counts)
    return distances(W, class_means(H, y, counts.k), counts, centred=centred)


def nc1_basis(M_centred) -> tuple[np.ndarray, np.ndarray]:
    """(U (..., d, r), w (..., r)) with NC1 = sum_j w_j u_j^T Sigma_W u_j for any Sigma_W.

    NC1 = (1/k) tr(Sigma_W Sigma_B^+) with Sigma_B = (1/k) Mc Mc^T lives in the column space of
    Mc (..., d, k): with its thin SVD Mc = sum_j s_j u_j v_j^T, Sigma_B^+ = k sum_j u_j u_j^T /
    s_j^2, so NC1 = sum_j u_j^T Sigma_W u_j / s_j^2 (Sigma_B's k cancels NC1's 1/k), and w_j =
    1/s_j^2. Singular values below 2^-43 s_max (the float64 tolerance of seli_exact.precision)
    count as zero (w_j = 0): centring leaves Mc of rank k - 1, and its computed null singular
    value is about 2^-52 s_max, a margin of 2^9. Only r = k directions of Sigma_W matter, which
    is what lets `measurement.measure` stream NC1 at O(n d k) cost instead of O(n d^2).
    """
    Mc = np.asarray(M_centred, dtype=float)
    U, s, _ = np.linalg.svd(Mc, full_matrices=False)  # (..., d, r), (..., r)
    keep = s > default_rtol(arithmetic("float64")) * s[..., :1]
    return U, np.where(keep, 1.0 / np.where(keep, s, 1.0) ** 2, 0.0)


def nc1_from_covariance(sigma_w, M_centred) -> np.ndarray:
    """NC1 = (1/k) tr(Sigma_W Sigma_B^+) with Sigma_B = (1/k) Mc Mc^T, Mc = M_centred (..., d, k),
    computed in the column space of Mc (nc1_basis) rather than by a (d, d) pseudo-inverse."""
    U, w = nc1_basis(M_centred)
    quad = np.einsum("...dj,...de,...ej->...j", U, np.asarray(sigma_w, dtype=float), U)
    return np.sum(quad * w, axis=-1)


def nc1(H, y, k: int, *, center: str = "balanced") -> np.ndarray:
    """NC1 = (1/k) tr(Sigma_W Sigma_B^+), Papyan et al.'s within-class variability collapse.

    Sigma_W = (1/n) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T; Sigma_B = (1/k) sum_c (mu_c -
    mu_G)(mu_c - mu_G)^T with mu_G the balanced mean of class means (center="balanced", Sec. G)
    or the sample mean of all features (center="weighted", Papyan et al.'s global mean; the two
    agree on balanced data). 0 exactly under (NC). H is (..., d, n), y (n,).
    """
    H = np.asarray(H, dtype=float)
    y = np.asarray(y)
    M = class_means(H, y, k)  # (..., d, k)
    Hc = H - M[..., y]  # (..., d, n)
    n = H.shape[-1]
    sigma_w = Hc @ np.swapaxes(Hc, -1, -2) / n  # (..., d, d)
    counts = np.bincount(y, minlength=k).tolist()
    return nc1_from_covariance(sigma_w, centred_means(M, center, counts))


def cosines_from_gram(G) -> np.ndarray:
    """G[c, c'] / sqrt(G[c, c] G[c', c']) over the last two axes: the cosines behind a Gram."""
    G = np.asarray(G, dtype=float)
    norms = np.sqrt(np.diagonal(G, axis1=-2, axis2=-1))
    return G / (norms[..., :, None] * norms[..., None, :])


def cosines(A) -> np.ndarray:
    """cos(a_c, a_c') of the columns of A (..., d, k): a (..., k, k) matrix."""
    return cosines_from_gram(gram(A))


def angle_error(A, target) -> np.ndarray:
    """NC2's equiangularity error: mean over c != c' of |cos(a_c, a_c') - target[c, c']|.

    Papyan et al.'s max-angle measure takes target = -1/(k-1) (the ETF's); SELI's target is the
    cosine matrix of its Gram (Geometry.classifier_cosines / embedding_cosines).
    """
    C = cosines(A)
    k = C.shape[-1]
    off = ~np.eye(k, dtype=bool)
    dev = np.abs(C - np.asarray(target, dtype=float))
    return dev[..., off].mean(axis=-1)


def self_duality(W, M) -> np.ndarray:
    """NC3: || W/||W||_F - M/||M||_F ||_F for classifiers W and (centred) means M (..., d, k)."""
    W = np.asarray(W, dtype=float)
    M = np.asarray(M, dtype=float)
    a = W / np.linalg.norm(W, axis=(-2, -1), keepdims=True)
    b = M / np.linalg.norm(M, axis=(-2, -1), keepdims=True)
    return np.linalg.norm(a - b, axis=(-2, -1))


def reference_self_duality(counts) -> float:
    """NC3 of the SELI geometry of these counts: sqrt(2 - 2 tr(W^T M) / (||W||_F ||M||_F)).

    Rotation-invariant, so it follows from the Grams alone: tr(W^T M) = tr(V V^T) = k - 1,
    ||W||_F^2 = tr(V Lam V^T), ||M||_F^2 = tr(V Lam^{-1} V^T). 0 for balanced counts (ETF).
    """
    G_W, G_M, G_star = reference_grams(counts)
    c = np.trace(G_star) / np.sqrt(np.trace(G_W) * np.trace(G_M))
    return float(np.sqrt(max(2.0 - 2.0 * c, 0.0)))


def fitted_norms(measured, predicted) -> tuple[float, float]:
    """(s, r): the least-squares scale s = <m, p>/<p, p> of a predicted norm profile p (k,) to the
    measured norms m (k,), and the relative residual r = ||m - s p|| / ||m||.

    With p = 1 (the ETF's equal norms) s is the mean norm and r a measure of NC2's equinorm.
    """
    m = np.asarray(measured, dtype=float)
    p = np.asarray(predicted, dtype=float)
    s = float(m @ p / (p @ p))
    return s, float(np.linalg.norm(m - s * p) / np.linalg.norm(m))
