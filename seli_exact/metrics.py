"""The metric library of Section 5: distances of trained (W, H, y) or (W, M) to SELI and ETF.

dist(A, A_hat) = || A/||A||_F - A_hat/||A_hat||_F ||_F, for
  classifiers  G_W = W^T W  against V Lam V^T (SELI) or G* = I - 11^T/k (ETF);
  class means  G_M = M^T M  against V Lam^{-1} V^T (SELI) or G* (ETF), M optionally centred by
               the balanced mean of class means (the deep-net experiments, Sec. G);
  logits       W^T M        against G* for both (in SELI, W^T M = V V^T = G* as well).
Every function takes stacked inputs: leading axes (..., d, k) are batch axes, so many runs are
measured in one call. float64 numpy throughout; this is the one implementation that training
and the checker use.

>>> from seli_exact.counts import step
>>> from seli_exact.svd import sel_svd
>>> from seli_exact.geometry import factorize
>>> c = step(4, 10, "1/2", 5)
>>> W, M = factorize(sel_svd(c), d=5, seed=1)
>>> d = distances(W, M, c)
>>> bool(d.seli.classifiers < 1e-12 < d.etf.classifiers)
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from .counts import ClassCounts
from .errors import SeliInputError
from .geometry import seli_geometry, simplex_gram
from .arithmetic import arithmetic


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


def centre(M) -> np.ndarray:
    """M - mean_c(mu_c) 1^T: centring by the balanced mean of class means (Sec. G)."""
    M = np.asarray(M, dtype=float)
    return M - M.mean(axis=-1, keepdims=True)


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
    g = seli_geometry(ClassCounts(counts)).to_float()
    G_star = simplex_gram(len(counts), arithmetic("float64"))
    return g.W_gram, g.M_gram, G_star


def reference_grams(counts: ClassCounts):
    """(V Lam V^T, V Lam^{-1} V^T, G*) in float64, cached per count vector."""
    return _references(tuple(counts.counts))


def distances(W, M, counts: ClassCounts, *, centred: bool = False) -> GeometryDistances:
    """Distances of classifiers W (..., d, k) and class means M (..., d, k) to SELI and ETF."""
    W = np.asarray(W, dtype=float)
    M = np.asarray(M, dtype=float)
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


def feature_distances(W, H, y, counts: ClassCounts, *, centred: bool = False) -> GeometryDistances:
    """distances() with the class means taken from features H (..., d, n) and labels y."""
    return distances(W, class_means(H, y, counts.k), counts, centred=centred)


def nc1(H, y, k: int) -> np.ndarray:
    """NC1 = tr(Sigma_W Sigma_B^+), Papyan et al.'s within-class variability collapse.

    Sigma_W = (1/n) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T; Sigma_B = (1/k) sum_c (mu_c -
    mu_G)(mu_c - mu_G)^T with mu_G the balanced mean of class means. 0 exactly under (NC).
    """
    H = np.asarray(H, dtype=float)
    y = np.asarray(y)
    M = class_means(H, y, k)  # (..., d, k)
    Hc = H - M[..., y]  # (..., d, n)
    n = H.shape[-1]
    sigma_w = Hc @ np.swapaxes(Hc, -1, -2) / n
    Mc = centre(M)
    sigma_b = Mc @ np.swapaxes(Mc, -1, -2) / k
    return np.trace(sigma_w @ np.linalg.pinv(sigma_b, hermitian=True), axis1=-2, axis2=-1)
