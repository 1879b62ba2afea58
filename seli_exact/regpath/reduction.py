"""The symmetry reduction of (7) to a k x k problem, its objective, and its Fenchel dual.

Problem (7): minimize P(Z) = L(Z) + lam ||Z||_* over Z in R^{k x n}, with
L(Z) = sum_i CE(z_i; y_i) and CE(z; c) = log sum_j exp(z_j - z_c) = lse(z) - z_c.

Reduction. Let Y (k, n) be the one-hot label matrix (Y[c, i] = 1 iff y_i = c), D = Y Y^T =
diag(n_1, ..., n_k), P = I - 11^T/k. Claim: min (7) equals

    min over M in R^{k x k} of  F(M) = sum_c n_c CE(m_c; c) + lam ||M D^{1/2}||_*,     (R)

and if M solves (R) then Z = M Y solves (7) (column i of Z is m_{y_i}). Moreover (R) has a
minimizer with 1^T M = 0, so M = Q X with Q (k, k-1) an orthonormal basis of 1^perp
(seli_exact.simplex.helmert).

Proof.
(a) Embedding. For Z = M Y: L(Z) = sum_c n_c CE(m_c; c), and Z Z^T = M Y Y^T M^T = M D M^T =
    (M D^{1/2})(M D^{1/2})^T, so ||Z||_* = tr (Z Z^T)^{1/2} = ||M D^{1/2}||_*. Hence P(M Y) =
    F(M), and min (7) <= min (R).
(b) Symmetrization. Let Pi be any permutation of the examples that maps each class onto itself
    (a permutation matrix with Y Pi = Y). Then L(Z Pi) = L(Z) (the same columns with the same
    labels) and ||Z Pi||_* = ||Z||_* (Pi is orthogonal), so P(Z Pi) = P(Z). If Z* solves (7),
    the average Zbar = (1/|G|) sum_{Pi in G} Z* Pi over the group G of such permutations solves
    (7) too, by convexity of P. Column i of Zbar is the mean of the columns of Z* in class y_i,
    so Zbar = M Y with m_c that mean: min (R) <= P(Zbar) = min (7). With (a): the minima are
    equal and M Y solves (7) whenever M solves (R).
(c) Centring. CE(z + t 1; c) = CE(z; c) for every t, so L(P Z) = L(Z), and ||P Z||_* <=
    ||P||_2 ||Z||_* = ||Z||_*. Hence P M solves (R) whenever M does: restricting to 1^T M = 0,
    M = Q X with X (k-1, k), loses nothing, and ||Q X D^{1/2}||_* = ||X D^{1/2}||_*.
Theorem 2 states that (7) has a unique minimizer; then every minimizer of (R) is centred and
equal to it, but (a)-(c) do not rely on uniqueness.

Dual. Write P(Z) = L(Z) + g(Z), g = lam ||.||_*. Fenchel's inequality L(Z) >= <Gam, Z> - L*(Gam)
and, for ||Gam||_2 <= lam (the spectral norm is dual to the nuclear norm), lam ||Z||_* >=
-<Gam, Z>, so P(Z) >= Dual(Gam) := -L*(Gam) for every such Gam. The conjugate of CE(.; c) is
CE*(gam; c) = lse*(gam + e_c) = sum_j p_j log p_j with p = gam + e_c, finite only when p lies in
the probability simplex (the conjugate of log-sum-exp is the negative entropy on the simplex,
shifted by e_c). So

    Dual(Gam) = sum_i Ent(gam_i + e_{y_i}),   Ent(p) = -sum_j p_j log p_j,
    feasible iff ||Gam||_2 <= lam and gam_i + e_{y_i} in the simplex for every i.

At the optimum Gam = grad L(Z) = softmax(Z) - Y. From any iterate M we take G = softmax(M) - I
(columns g_c = softmax(m_c) - e_c, so Gam = G Y) and scale it to feasibility: Gam_t = t G Y
with t = min(1, lam / ||G D^{1/2}||_2) (||G Y||_2 = ||G D^{1/2}||_2 as in (a)); e_c + t g_c =
(1 - t) e_c + t softmax(m_c) stays in the simplex. The duality gap F(M) - Dual(Gam_t) >= 0
bounds F(M) - min (7) from above: a certificate computed from M alone, for the full problem.
At lam -> 0 the loss is nearly flat along growing margins, so a small objective change does not
pin Z; the gap does certify the objective, and `kkt_residual` reports stationarity.

>>> from seli_exact.counts import from_counts
>>> c = from_counts([2, 1, 1])
>>> M = 2.0 * class_sel(3)
>>> bool(abs(reduced_objective(M, c, 0.1) - full_objective(M @ one_hot(c), c, 0.1)) < 1e-13)
True
"""

from __future__ import annotations

import numpy as np

from ..arithmetic import arithmetic
from ..counts import ClassCounts
from ..simplex import simplex_gram, softmax_ce
from ..validate import whole


def one_hot(counts: ClassCounts) -> np.ndarray:
    """Y, shape (k, n): Y[c, i] = 1 iff y_i = c."""
    Y = np.zeros((counts.k, counts.n))
    Y[counts.labels(), np.arange(counts.n)] = 1.0
    return Y


def class_sel(k: int) -> np.ndarray:
    """The reduced SEL matrix P = I - 11^T/k (k, k): column c is the SEL column of class c."""
    return simplex_gram(k)


def class_ce(M: np.ndarray):
    """softmax_ce on the k x k reduction, column c labelled c: (CE(m_c; c) (k,), S (k, k),
    q (k,))."""
    M = np.asarray(M, dtype=float)
    return softmax_ce(M, np.arange(M.shape[0]))


def class_gradient(M: np.ndarray):
    """(ce (k,), G (k, k)): G = softmax(M) - I column by column, the label entry formed as -q
    (no cancellation when the softmax is nearly one-hot)."""
    ce, S, q = class_ce(M)
    k = S.shape[0]
    G = S.copy()
    G[np.arange(k), np.arange(k)] = -q
    return ce, G


def reduced_objective(M: np.ndarray, counts: ClassCounts, lam: float) -> float:
    """F(M) = sum_c n_c CE(m_c; c) + lam ||M D^{1/2}||_*, the reduced (7)."""
    n = np.asarray(counts.counts, dtype=float)
    ce, _, _ = class_ce(M)
    B = np.asarray(M, dtype=float) * np.sqrt(n)[None, :]
    return float(n @ ce + lam * np.linalg.svd(B, compute_uv=False).sum())


def full_objective(Z: np.ndarray, counts: ClassCounts, lam: float) -> float:
    """P(Z) = L(Z) + lam ||Z||_* on the full k x n matrix (for checking the reduction)."""
    Z = np.asarray(Z, dtype=float)
    loss = float(softmax_ce(Z, counts.labels())[0].sum())
    return loss + lam * float(np.linalg.svd(Z, compute_uv=False).sum())


def dual_value(G_scaled: np.ndarray, counts: ClassCounts) -> float:
    """Dual(Gam) = sum_c n_c Ent(e_c + gam_c) for Gam = G_scaled Y (float64)."""
    k = G_scaled.shape[0]
    P = G_scaled + np.eye(k)
    ent = np.zeros(k)
    for c in range(k):
        p = P[:, c]
        off = np.delete(p, c)
        off = off[off > 0]
        q = -G_scaled[c, c]  # 1 - p_c, formed without cancellation
        own = p[c] * np.log1p(-q) if p[c] > 0 else 0.0  # 0 log 0 = 0 (q = 1: no NaN)
        ent[c] = -(off * np.log(off)).sum() - own
    return float(np.asarray(counts.counts, dtype=float) @ ent)


def class_gradient_mp(ar, M):
    """(ce, G) of class_gradient in the mpmath arithmetic `ar`, for an mpmath matrix M (k, k).

    seli_exact.simplex.softmax_ce in that arithmetic: as in float64, CE = log1p(sum_{j != c}
    e^{u_j}) when the label logit is the largest and G[c, c] = -q is formed from the off-label
    mass, so a loss below 10^-digits (tiny lam) keeps its relative accuracy instead of rounding
    1 + tiny to 1.
    """
    k = M.rows
    ce, S, q = softmax_ce(np.array(M.tolist(), dtype=object), np.arange(k), ar)
    G = S.copy()  # (k, k): column c = softmax(m_c) - e_c, its label entry formed as -q
    G[np.arange(k), np.arange(k)] = -q
    return list(ce), ar.ctx.matrix(G.tolist())


def certify(M: np.ndarray, counts: ClassCounts, lam, digits: int = 40) -> dict:
    """Primal F(M), dual value at the scaled gradient point, and the gap, at `digits` digits.

    M (a float64 array, or an mpmath matrix) is taken exactly as given; every quantity after it
    is computed in mpmath (`digits` digits and the arithmetic's guard digits), so gap = F(M) -
    Dual >= F(M) - min (7) up to ~10^-digits relative error.
    """
    digits = whole("digits", digits, minimum=20, maximum=1000,
                   fix="A gap of 1e-13 relative needs 20 digits or more; try digits=40.")
    ar = arithmetic("mpmath", digits)
    ctx = ar.ctx  # shared and never mutated
    k = counts.k
    n = [ctx.mpf(int(v)) for v in counts.counts]
    lam_mp = ctx.mpf(lam)
    Mm = ctx.matrix([[ctx.mpf(M[i, j]) for j in range(k)] for i in range(k)])  # float or mpf
    ce, g = class_gradient_mp(ar, Mm)
    root = [ctx.sqrt(v) for v in n]
    B = ctx.matrix(k, k)
    GB = ctx.matrix(k, k)
    for i in range(k):
        for j in range(k):
            B[i, j] = Mm[i, j] * root[j]
            GB[i, j] = g[i, j] * root[j]
    nuc = ctx.fsum(ctx.svd_r(B, compute_uv=False))
    spec = max(ctx.svd_r(GB, compute_uv=False))
    primal = ctx.fsum(n[c] * ce[c] for c in range(k)) + lam_mp * nuc
    t = min(ctx.mpf(1), lam_mp / spec) if spec > 0 else ctx.mpf(1)
    dual = ctx.mpf(0)
    for c in range(k):
        for j in range(k):
            if j == c:  # p = 1 - t q_c, its logarithm without forming 1 - tiny
                p, logp = 1 + t * g[c, c], ctx.log1p(t * g[c, c])
            else:
                p = t * g[j, c]
                logp = ctx.log(p) if p > 0 else 0
            if p > 0:
                dual -= n[c] * p * logp
    gap = primal - dual
    return {
        "objective": float(primal),
        "dual_objective": float(dual),
        "duality_gap": float(gap),
        "relative_gap": float(gap / abs(primal)) if primal != 0 else float(gap),
        "dual_scaling": float(t),
        "digits": digits,
    }
