"""Fig 3's measurements along the regularization path, from the Gram matrices (8) gives.

For a solution Z_lam = M Y of (7), Theorem 2 (8) gives the global minimizers of (1) up to
rotation: with B = M D^{1/2} = V Lam Ut^T, W = Lam^{1/2} V^T and class means Lam^{1/2} Ut^T
D^{-1/2} (RegPathPoint.factors). Distances to SELI and ETF of classifiers, class means and
logits are then those of seli_exact.metrics (the one implementation; Sec. 5). Also:

  min_margin          min over i and c != y_i of Z[y_i, i] - Z[c, i] = min_c min_{j != c} m_cc - m_jc
  normalized_margin   min_margin ||Zhat||_* / ||Z_lam||_*  (1 for the SEL direction: its margins are 1)
  direction_error     || Z_lam/||Z_lam||_* - Zhat/||Zhat||_* ||_F  (Prop. 2: -> 0 as lam -> 0)
  minority_cosine     the largest cosine between two minority classifiers (Table 1, Remark 3.2)

>>> from seli_exact.counts import step
>>> from seli_exact.regpath.solver import solve_regpath_point
>>> m = path_metrics(solve_regpath_point(step(4, 10, "1/2", 5), 1e-3))
>>> bool(m.min_margin > 0 and 0 < m.dist_seli.classifiers < m.dist_etf.classifiers)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arithmetic import arithmetic
from ..metrics import Distances, distances
from ..precision import default_rtol
from .reduction import class_sel
from .solver import RegPathPoint


@dataclass(frozen=True)
class PathMetrics:
    """The measurements of one path point (float64); NaN where undefined (Z_lam = 0)."""

    lam: float
    objective: float
    duality_gap: float
    relative_gap: float
    dist_seli: Distances
    dist_etf: Distances
    min_margin: float
    normalized_margin: float
    direction_error: float
    minority_cosine: float | None
    rank: int

    def as_dict(self) -> dict:
        return {
            "lambda": self.lam,
            "objective": self.objective,
            "duality_gap": self.duality_gap,
            "relative_gap": self.relative_gap,
            "dist_seli": _floats(self.dist_seli),
            "dist_etf": _floats(self.dist_etf),
            "min_margin": self.min_margin,
            "normalized_margin": self.normalized_margin,
            "direction_error": self.direction_error,
            "minority_cosine": self.minority_cosine,
            "rank": self.rank,
        }


def _floats(d: Distances) -> dict:
    return {"classifiers": float(d.classifiers), "embeddings": float(d.embeddings),
            "logits": float(d.logits)}


def nuclear_norm_of_class_matrix(M, counts) -> float:
    """||M Y||_* = ||M D^{1/2}||_* (reduction.py, step (a))."""
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    return float(np.linalg.svd(M * root[None, :], compute_uv=False).sum())


def min_margin(M) -> float:
    """min over classes c and j != c of M[c, c] - M[j, c]: the smallest margin of Z = M Y."""
    M = np.asarray(M, dtype=float)
    k = M.shape[0]
    gaps = np.diagonal(M)[None, :] - M  # (k, k): [j, c] = m_cc - m_jc
    return float(np.min(gaps[~np.eye(k, dtype=bool)]))


def direction_error(M, counts) -> float:
    """|| Z/||Z||_* - Zhat/||Zhat||_* ||_F for Z = M Y, computed on k columns weighted by D^{1/2}."""
    k = counts.k
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    P = class_sel(k)
    nz, nhat = nuclear_norm_of_class_matrix(M, counts), nuclear_norm_of_class_matrix(P, counts)
    return float(np.linalg.norm((M / nz - P / nhat) * root[None, :]))


def minority_cosine(G_W, counts) -> float | None:
    """max over pairs of minority classes of cos(w_c, w_c') from G_W; None with < 2 minorities.

    NaN when a minority classifier is 0 (at large lam, minority logits can vanish: Z's rank
    drops, see solver.py): its norm at or below 2^-43 of the largest (rounding of a zero, with a
    margin of 2^9) leaves the angle undefined.
    """
    if counts.is_balanced:
        return None
    mnr = counts.groups()["minority"]
    if len(mnr) < 2:
        return None
    norms = np.sqrt(np.maximum(np.diagonal(G_W), 0.0))
    floor = default_rtol(arithmetic("float64")) * norms.max()
    if not all(norms[c] > floor for c in mnr):
        return float("nan")
    return float(max(G_W[a, b] / (norms[a] * norms[b]) for a in mnr for b in mnr if a < b))


def path_metrics(point: RegPathPoint) -> PathMetrics:
    counts = point.counts
    nan = float("nan")
    if point.rank == 0:
        d = Distances(nan, nan, nan)
        return PathMetrics(point.lam, point.objective, point.duality_gap, point.relative_gap,
                           d, d, nan, nan, nan, None, 0)
    W, means = point.factors()
    dist = distances(W, means, counts)
    G_W = W.T @ W
    mm = min_margin(point.M)
    scale = nuclear_norm_of_class_matrix(class_sel(counts.k), counts) / nuclear_norm_of_class_matrix(
        point.M, counts)
    return PathMetrics(
        point.lam, point.objective, point.duality_gap, point.relative_gap,
        dist.seli, dist.etf, mm, mm * scale, direction_error(point.M, counts),
        minority_cosine(G_W, counts), point.rank,
    )
