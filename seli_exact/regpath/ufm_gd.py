"""Plain gradient descent on the non-convex UFM objective (1), float64 numpy, all n columns.

    min_{W (d, k), H (d, n)}  L(W^T H) + lam ||W||_F^2 / 2 + lam ||H||_F^2 / 2

grad_W = H G^T + lam W, grad_H = W G + lam H with G = softmax(W^T H) - Y (k, n). Theorem 2 says
every stationary point is a strict saddle or a global minimizer whose Gram matrices are given by
(8) from the solution of (7); this is the independent route that checks it.

>>> from seli_exact.counts import from_counts
>>> r = gd_ufm(from_counts([2, 1, 1]), 0.2, d=3, seed=0)
>>> bool(r.grad_norm < 1e-10)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..counts import ClassCounts
from ..simplex import softmax_ce
from ..validate import whole
from .reduction import one_hot


@dataclass(frozen=True)
class GDResult:
    W: np.ndarray  # (d, k)
    H: np.ndarray  # (d, n)
    objective: float
    grad_norm: float
    steps: int
    seed: int


def ufm_objective_and_grad(W, H, Y, lam: float):
    """Value of (1) and its gradient (grad_W, grad_H); Y (k, n) is one-hot."""
    Z = W.T @ H  # (k, n)
    ce, S, _ = softmax_ce(Z, np.argmax(Y, axis=0))
    G = S - Y
    value = float(ce.sum()) + lam * (float((W * W).sum()) + float((H * H).sum())) / 2
    return value, H @ G.T + lam * W, W @ G + lam * H


def gd_ufm(counts: ClassCounts, lam: float, *, d: int, seed: int = 0, lr: float = 0.3,
           max_steps: int = 200_000, tol: float = 1e-11, init_scale: float = 0.1) -> GDResult:
    """GD with a fixed step `lr` from a random start N(0, init_scale^2), until ||grad|| <= tol."""
    k, n = counts.k, counts.n
    d = whole("d", d, minimum=k, fix=f"Theorem 2 needs d > k - 1 = {k - 1}; try d={k}.")
    rng = np.random.default_rng(seed)
    W = init_scale * rng.standard_normal((d, k))
    H = init_scale * rng.standard_normal((d, n))
    Y = one_hot(counts)
    value, gW, gH = ufm_objective_and_grad(W, H, Y, lam)
    gn = float(np.sqrt((gW * gW).sum() + (gH * gH).sum()))
    step = 0
    for step in range(1, max_steps + 1):
        W = W - lr * gW
        H = H - lr * gH
        value, gW, gH = ufm_objective_and_grad(W, H, Y, lam)
        gn = float(np.sqrt((gW * gW).sum() + (gH * gH).sum()))
        if gn <= tol or not np.isfinite(gn):
            break
    return GDResult(W, H, value, gn, step, seed)
