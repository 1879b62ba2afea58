"""First-order optimality of (7), checked on the full (k, n) problem, apart from the solver.

(7) is min_Z L(Z) + lam ||Z||_*. Z is optimal iff R = -grad L(Z) / lam lies in the
subdifferential of the nuclear norm at Z: with Z = U_r S V_r^T (rank r),

    U_r^T R V_r = I,   U_r^T R (I - V_r V_r^T) = 0,   (I - U_r U_r^T) R V_r = 0,
    ||(I - U_r U_r^T) R (I - V_r V_r^T)||_2 <= 1.

`residual` adds the four violations, relative to ||U_r V_r^T||_F = sqrt(r). It works on the
dense Z = M Y and numpy's SVD of it: none of the reduction to k x k, the Newton iteration or
the dual certificate that seli_exact.regpath uses. grad L(Z) = softmax(Z) - Y comes from
seli_exact.simplex.softmax_ce (margins first, so tiny losses keep their relative accuracy).

>>> from seli_exact import step
>>> from seli_exact.regpath import solve_regpath_point
>>> c = step(4, 10, "1/2", 5)
>>> residual(solve_regpath_point(c, 1e-2).M, c, 1e-2) < 1e-10
True
>>> residual(solve_regpath_point(c, 1e-2).M, c, 1.01e-2) > 1e-3   # the solution of another lam
True
"""

from __future__ import annotations

import math

import numpy as np

from seli_exact import ClassCounts, softmax_ce

# singular values below this fraction of the largest count as zero (the rank of Z)
RANK_FLOOR = 1e-9


def gradient(M: np.ndarray) -> np.ndarray:
    """Per class: column c of grad L at Z = M Y is softmax(m_c) - e_c, (k, k); the label entry
    is minus the off-label mass (no cancellation)."""
    k = M.shape[0]
    _, S, q = softmax_ce(M, np.arange(k))
    G = S.copy()
    G[np.arange(k), np.arange(k)] = -q
    return G


def residual(M, counts: ClassCounts, lam: float) -> float:
    """The relative violation of the optimality conditions of (7) at Z = M Y (module doc)."""
    M = np.asarray(M, dtype=float)
    y = counts.labels()
    Z = M[:, y]  # (k, n)
    R = -gradient(M)[:, y] / lam  # (k, n)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = int(np.sum(s > RANK_FLOOR * s[0])) if s.size and s[0] > 0 else 0
    Ur, Vrt = U[:, :r], Vt[:r]  # (k, r), (r, n)
    RV = R @ Vrt.T  # (k, r)
    core = Ur.T @ RV  # (r, r)
    out = float(np.linalg.norm(core - np.eye(r)))
    rest_right = R - RV @ Vrt  # R (I - V_r V_r^T)
    out += float(np.linalg.norm(Ur.T @ rest_right))
    out += float(np.linalg.norm(RV - Ur @ core))  # (I - U_r U_r^T) R V_r
    both = rest_right - Ur @ (Ur.T @ rest_right)
    if both.size:
        out += max(0.0, float(np.linalg.norm(both, 2)) - 1.0)
    return out / math.sqrt(max(r, 1))
