"""A structured second-order solver for the reduced (7), with a certified duality gap per lam.

Variables X (k-1, k) with M = Q X (reduction.py, step (c)). With B = X D^{1/2} of full row rank
k-1 (the generic case: the solution has rank k-1 whenever lam < sigma_min-ish, see below), the
nuclear norm ||B||_* = tr (B B^T)^{1/2} is analytic, with gradient the polar factor U V^T and
Hessian, for B = U [S 0] [V V_perp]^T and a direction E with U^T E [V V_perp] = [E1 E2],

    <E, d(U V^T)[E]> = sum_{i<j} (E1_ij - E1_ji)^2 / (s_i + s_j) + sum_i ||E2_i||^2 / s_i.

The loss part is block diagonal: class c contributes n_c Q^T (diag s_c - s_c s_c^T) Q with s_c =
softmax(m_c), positive definite on 1^perp. So F is smooth and strictly convex near the
solution and damped Newton converges quadratically from the SEL start X0 = alpha Q^T, where
alpha minimizes F(alpha P) in closed form: e^alpha = (k-1)(n/(lam ||Zhat||_*) - 1).

Special cases: lam >= ||Zhat||_2 = sigma_max gives M = 0 (grad L(0) = -Zhat, so 0 is optimal).
When the solution has rank below k-1 (lam of the order of the smaller singular values of Zhat,
i.e. lam >~ sqrt(n_min) for STEP; never on the paper's range for n_min >= 2), Newton sees a
singular value of B collapse and hands over to accelerated proximal gradient on A = M D^{1/2}
(singular-value soft-thresholding, exact zeros), which reveals the rank; Newton on the factored
problem (1) at that rank (Levenberg-damped, pseudo-inverse across the rotation gauge) then
usually certifies to ~1e-13, else proximal gradient continues (slower: seconds, gaps ~1e-12).
Whatever the route (`method`), the reported gap is the certificate of reduction.certify at the
returned M.

>>> from seli_exact.counts import step
>>> p = solve_regpath_point(step(4, 10, "1/2", 5), 1e-2)
>>> p.method, bool(p.relative_gap < 1e-12), p.rank
('newton', True, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..counts import ClassCounts
from ..errors import SeliInputError
from .reduction import (
    centred_basis,
    ce_columns,
    certify,
    dual_value,
    class_sel,
    one_hot,
    reduced_objective,
)

# Singular values below this fraction of the largest count as zero (rank; Newton hands over).
_RANK_FLOOR = 1e-9


@dataclass(frozen=True, eq=False)
class RegPathPoint:
    """The solution M (k, k) of the reduced (7) at one lam, with its certificate.

    Z_lam = M Y (column i is m_{y_i}); `duality_gap` = F(M) - Dual(scaled gradient point) >= 0
    bounds the suboptimality of M Y in the full problem (7); `kkt_residual` is the distance of
    -grad L / lam from the subdifferential of the nuclear norm (see kkt_residual()).
    """

    counts: ClassCounts
    lam: float
    M: np.ndarray  # (k, k)
    objective: float
    dual_objective: float
    duality_gap: float
    relative_gap: float
    kkt_residual: float
    iterations: int
    method: str  # "newton", "factored-newton", "prox-gradient" or "zero"
    rank: int
    certificate: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        k = self.counts.k
        if self.M.shape != (k, k):
            raise ValueError(f"RegPathPoint.M has shape {self.M.shape}, expected ({k}, {k})")
        if not self.lam > 0:
            raise ValueError(f"RegPathPoint.lam must be positive, got {self.lam}")

    def Z(self) -> np.ndarray:
        """Z_lam, shape (k, n), built densely."""
        return self.M @ one_hot(self.counts)

    def factors(self):
        """(W, M_means), each (r, k): a global minimizer of (1) by (8), r = rank of Z_lam.

        With B = M D^{1/2} = V Lam Ut^T: W = Lam^{1/2} V^T and class means Lam^{1/2} Ut^T D^{-1/2},
        so W^T W = V Lam V^T, the class-mean Gram is D^{-1/2} Ut Lam Ut^T D^{-1/2} (the rows and
        columns of U Lam U^T at one example per class) and W^T mu_c = m_c.
        """
        root = np.sqrt(np.asarray(self.counts.counts, dtype=float))
        V, s, Ut = np.linalg.svd(self.M * root[None, :])
        r = max(self.rank, 1)
        half = np.sqrt(s[:r])
        W = half[:, None] * V[:, :r].T  # (r, k)
        means = half[:, None] * Ut[:r, :] / root[None, :]  # (r, k)
        return W, means

    def grams(self):
        """(G_W, G_M, logits W^T M), each (k, k), from (8)."""
        W, means = self.factors()
        return W.T @ W, means.T @ means, W.T @ means


def _check_lam(lam) -> float:
    try:
        value = float(lam)
    except (TypeError, ValueError):
        raise SeliInputError(
            f"`lam` must be a positive number; got {lam!r}. Try lam=1e-2."
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise SeliInputError(
            f"`lam` must be a positive finite number; got lam={lam!r}. Try lam=1e-2."
        )
    return value


def _sel_start(counts: ClassCounts, lam: float, nuc_hat: float) -> float:
    """alpha minimizing F(alpha P) = n log(1 + (k-1) e^{-alpha}) + lam alpha ||Zhat||_*."""
    k, n = counts.k, counts.n
    ratio = n / (lam * nuc_hat)
    return math.log((k - 1) * (ratio - 1.0)) if ratio > 1.0 + 1.0 / (k - 1) else 1e-3


class _Reduced:
    """Objective, gradient and Hessian of F in X (k-1, k) at one lam."""

    def __init__(self, counts: ClassCounts, lam: float):
        self.k = counts.k
        self.r = self.k - 1
        self.n = np.asarray(counts.counts, dtype=float)
        self.root = np.sqrt(self.n)
        self.Q = centred_basis(self.k)
        self.lam = lam

    def value(self, X) -> float:
        ce, _, _ = ce_columns(self.Q @ X)
        s = np.linalg.svd(X * self.root[None, :], compute_uv=False)
        return float(self.n @ ce + self.lam * s.sum())

    def derivatives(self, X):
        k, r, Q, lam = self.k, self.r, self.Q, self.lam
        M = Q @ X
        ce, S, q = ce_columns(M)
        G = S - np.eye(k)  # (k, k) column c = softmax(m_c) - e_c
        G[np.arange(k), np.arange(k)] = -q  # without cancellation
        U, s, Vt = np.linalg.svd(X * self.root[None, :], full_matrices=True)  # (r,r), (r,), (k,k)
        value = float(self.n @ ce + lam * s.sum())
        grad = Q.T @ (G * self.n[None, :]) + lam * (U @ Vt[:r]) * self.root[None, :]
        # loss Hessian, block diagonal over classes
        H = np.zeros((r, k, r, k))
        for c in range(k):
            sc = S[:, c]
            Hc = np.diag(sc) - np.outer(sc, sc)
            Hc[c, c] = sc[c] * q[c]
            H[:, c, :, c] = self.n[c] * (Q.T @ Hc @ Q)
        # nuclear-norm Hessian over the basis directions E_X = e_a e_c^T
        N = r * k
        E = np.eye(N).reshape(N, r, k) * self.root[None, None, :]  # E' = E_X D^{1/2}
        Et = np.einsum("ia,Nab,bj->Nij", U.T, E, Vt.T)  # (N, r, k)
        E1, E2 = Et[:, :, :r], Et[:, :, r:]
        Om = (E1 - np.swapaxes(E1, 1, 2)) / (s[:, None] + s[None, :])
        dPhi = np.einsum("ia,Nab,bj->Nij", U, np.concatenate([Om, E2 / s[None, :, None]], axis=2), Vt)
        Hn = (dPhi * self.root[None, None, :]).reshape(N, N)
        Hess = H.reshape(N, N) + lam * 0.5 * (Hn + Hn.T)
        return value, grad, Hess, s


def _newton(counts: ClassCounts, lam: float, X0, max_iter: int = 50):
    f = _Reduced(counts, lam)
    X = X0.copy()
    F, g, Hs, s = f.derivatives(X)
    it = 0
    for it in range(1, max_iter + 1):
        if s[-1] <= _RANK_FLOOR * s[0]:
            return X, it, False
        try:
            L = np.linalg.cholesky(Hs)
            step = -np.linalg.solve(L.T, np.linalg.solve(L, g.ravel()))
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(Hs, g.ravel(), rcond=None)[0]
        dec2 = float(-g.ravel() @ step)  # Newton decrement squared ~ 2 (F - F*)
        if not dec2 > 0:
            break
        if dec2 <= 1e-26 * abs(F):  # F - F* below rounding of F: done
            X = X + step.reshape(X.shape)
            break
        D = step.reshape(X.shape)
        t = 1.0
        while True:
            Xn = X + t * D
            Fn = f.value(Xn)
            if Fn <= F - 1e-4 * t * dec2 or (t == 1.0 and dec2 <= 1e-16 * abs(F)):
                break
            t *= 0.5
            if t < 1e-12:
                return X, it, False
        X = Xn
        F, g, Hs, s = f.derivatives(X)
    else:
        return X, it, False
    return X, it, True


def _soft_threshold(A, tau):
    U, s, Vt = np.linalg.svd(A)
    return (U * np.maximum(s - tau, 0.0)[None, :]) @ Vt


def _grad_A(A, root):
    """grad of f(A) = sum_c n_c CE(a_c / sqrt(n_c); c): column c is sqrt(n_c) g_c."""
    M = A / root[None, :]
    _, S, q = ce_columns(M)
    G = S - np.eye(A.shape[0])
    G[np.arange(A.shape[0]), np.arange(A.shape[0])] = -q
    return G * root[None, :]


def _float_gap(A, counts: ClassCounts, lam: float, root) -> float:
    """The certificate of reduction.certify in float64, relative to |F|: a cheap stopping test."""
    M = A / root[None, :]
    G = _grad_A(A, root) / root[None, :]
    spec = np.linalg.norm(G * root[None, :], 2)
    t = min(1.0, lam / spec) if spec > 0 else 1.0
    F = reduced_objective(M, counts, lam)
    return (F - dual_value(t * G, counts)) / abs(F)


def _prox_gradient(counts: ClassCounts, lam: float, M0, max_iter: int = 20000, rtol: float = 1e-13):
    """FISTA with restarts on A = M D^{1/2}; the loss part has Hessian <= I/2, so step 1 is safe.

    Stops when the float64 duality gap falls below `rtol` relative to the objective.
    """
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    A = M0 * root[None, :]
    Yv, tk = A.copy(), 1.0
    Fold = reduced_objective(A / root[None, :], counts, lam)
    it = 0
    for it in range(1, max_iter + 1):
        if it % 25 == 0 and _float_gap(A, counts, lam, root) <= rtol:
            break
        An = _soft_threshold(Yv - _grad_A(Yv, root), lam)
        Fn = reduced_objective(An / root[None, :], counts, lam)
        if Fn > Fold:  # restart the momentum from the last accepted point
            Yv, tk = A.copy(), 1.0
            continue
        tn = (1 + math.sqrt(1 + 4 * tk * tk)) / 2
        Yv = An + ((tk - 1) / tn) * (An - A)
        A, tk, Fold = An, tn, Fn
    return A / root[None, :], it


def _factored_derivatives(W, Hb, counts: ClassCounts, lam: float):
    """Value, gradient and Hessian of f(W, Hb) = sum_c n_c CE(a_c / sqrt(n_c); c)
    + lam (||W||_F^2 + ||Hb||_F^2) / 2 with A = W^T Hb, W and Hb (r, k).

    This is (1) on the k x k reduction (Hb = H D^{1/2}); min over factorizations of the
    regularizer is ||A||_*, so its minimum is that of (R) whenever r >= rank of the solution.
    """
    r, k = W.shape
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    A = W.T @ Hb
    ce, S, q = ce_columns(A / root[None, :])
    n = root * root
    value = float(n @ ce + lam * ((W * W).sum() + (Hb * Hb).sum()) / 2)
    G = S - np.eye(k)
    G[np.arange(k), np.arange(k)] = -q
    Gt = G * root[None, :]  # grad of the loss in A
    gW = Hb @ Gt.T + lam * W
    gH = W @ Gt + lam * Hb
    Hc = np.einsum("jc,ic->cij", -S, S)  # (k, k, k): -s s^T per class c
    for c in range(k):
        Hc[c][np.diag_indices(k)] += S[:, c]
        Hc[c, c, c] = S[c, c] * q[c]
    N = 2 * r * k
    basis = np.eye(N).reshape(N, 2, r, k)
    dW, dH = basis[:, 0], basis[:, 1]  # (N, r, k)
    dA = np.einsum("Nak,al->Nkl", dW, Hb) + np.einsum("ak,Nal->Nkl", W, dH)  # (N, k, k)
    dGt = np.einsum("cij,Njc->Nic", Hc, dA)  # column c: H_c dA_c (the sqrt(n_c) cancel)
    hW = (np.einsum("Nal,kl->Nak", dH, Gt) + np.einsum("al,Nkl->Nak", Hb, dGt) + lam * dW)
    hH = (np.einsum("Nak,kl->Nal", dW, Gt) + np.einsum("ak,Nkl->Nal", W, dGt) + lam * dH)
    Hess = np.concatenate([hW.reshape(N, -1), hH.reshape(N, -1)], axis=1)
    grad = np.concatenate([gW.ravel(), gH.ravel()])
    return value, grad, 0.5 * (Hess + Hess.T)


def _factored_newton(counts: ClassCounts, lam: float, A0, r: int, max_iter: int = 60):
    """Levenberg-damped Newton on the factored problem at rank r, from A0 = U S V^T (balanced split)."""
    U, s, Vt = np.linalg.svd(A0)
    half = np.sqrt(s[:r])
    W, Hb = half[:, None] * U[:, :r].T, half[:, None] * Vt[:r]
    r_, k = W.shape
    F, g, H = _factored_derivatives(W, Hb, counts, lam)
    for _ in range(max_iter):
        w, Q = np.linalg.eigh(H)
        mu = max(0.0, -w[0]) + 1e-12 * max(w[-1], 1e-300)
        wi = np.where(w + mu > 1e-13 * w[-1], 1.0 / (w + mu), 0.0)  # pseudo-inverse: gauge
        step = -(Q * wi) @ (Q.T @ g)
        dec2 = float(-g @ step)
        if not dec2 > 0 or dec2 <= 1e-26 * abs(F):
            break
        t = 1.0
        while True:
            Wn = W + t * step[: r_ * k].reshape(r_, k)
            Hn = Hb + t * step[r_ * k:].reshape(r_, k)
            Fn = _factored_derivatives(Wn, Hn, counts, lam)[0]
            if Fn <= F - 1e-4 * t * dec2 or (t == 1.0 and dec2 <= 1e-16 * abs(F)):
                break
            t *= 0.5
            if t < 1e-10:
                return W.T @ Hb
        W, Hb = Wn, Hn
        F, g, H = _factored_derivatives(W, Hb, counts, lam)
    return W.T @ Hb


def kkt_residual(M, counts: ClassCounts, lam: float) -> float:
    """Distance of -grad f(A)/lam from the subdifferential of ||.||_* at A = M D^{1/2}.

    With A = U_r S V_r^T (rank r) and R = -grad f(A)/lam = -G D^{1/2}/lam, optimality is
    U_r^T R V_r = I, U_r^T R (I - V_r V_r^T) = 0, (I - U_r U_r^T) R V_r = 0 and
    ||(I - U_r U_r^T) R (I - V_r V_r^T)||_2 <= 1; the residual adds the four violations. It is
    relative (R is O(1)), and uses no difference of the large entries of A.
    """
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    A = M * root[None, :]
    R = -_grad_A(A, root) / lam
    U, s, Vt = np.linalg.svd(A)
    r = int(np.sum(s > _RANK_FLOOR * s[0])) if s[0] > 0 else 0
    Ur, Vr = U[:, :r], Vt[:r].T
    Pu, Pv = np.eye(len(s)) - Ur @ Ur.T, np.eye(len(s)) - Vr @ Vr.T
    res = np.linalg.norm(Ur.T @ R @ Vr - np.eye(r)) + np.linalg.norm(Ur.T @ R @ Pv)
    res += np.linalg.norm(Pu @ R @ Vr) + max(0.0, np.linalg.norm(Pu @ R @ Pv, 2) - 1.0)
    return float(res)


def solve_reduced(counts: ClassCounts, lam, *, start: np.ndarray | None = None):
    """(M (k, k), iterations, method) solving the reduced (7), without the certificate."""
    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts (from step(), from_counts() or long_tailed()); "
            f"got {type(counts).__name__}. Build one with seli_exact.step(...)."
        )
    lam = _check_lam(lam)
    k = counts.k
    P = class_sel(k)
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    sig = np.linalg.svd(P * root[None, :], compute_uv=False)  # singular values of Zhat
    if lam >= sig[0]:
        return np.zeros((k, k)), 0, "zero"
    Q = centred_basis(k)
    if start is not None:
        X0 = Q.T @ np.asarray(start, dtype=float)
    else:
        X0 = _sel_start(counts, lam, float(sig.sum())) * Q.T
    X, it, ok = _newton(counts, lam, X0)
    if ok:
        return Q @ X, it, "newton"
    # A rank-deficient solution: proximal gradient finds the rank (soft-thresholding sets the
    # switched-off singular values exactly to zero), Newton on the factored problem at that
    # rank then converges fast; whichever point has the smaller gap is kept.
    M, it2 = _prox_gradient(counts, lam, Q @ X, max_iter=500)
    A = M * root[None, :]
    gap = _float_gap(A, counts, lam, root)
    if gap <= 1e-13:
        return M, it + it2, "prox-gradient"
    s = np.linalg.svd(A, compute_uv=False)
    rank = int(np.sum(s > 1e-12 * s[0]))
    best = None
    for r in (rank, rank + 1):  # the numerical rank, and one more in case a value is tiny
        if 1 <= r <= counts.k:
            Af = _factored_newton(counts, lam, A, r)
            g = _float_gap(Af, counts, lam, root)
            if g < gap:
                best, gap = Af, g
    if best is not None and gap <= 1e-12:
        return best / root[None, :], it + it2, "factored-newton"
    start = M if best is None else best / root[None, :]
    M3, it3 = _prox_gradient(counts, lam, start)
    if best is not None and _float_gap(M3 * root[None, :], counts, lam, root) > gap:
        return best / root[None, :], it + it2 + it3, "factored-newton"
    return M3, it + it2 + it3, "prox-gradient"


def solve_regpath_point(
    counts: ClassCounts, lam, *, start: np.ndarray | None = None, certify_dps: int = 40
) -> RegPathPoint:
    """Solve the reduced (7) at `lam` (> 0) and certify it; `start` is an optional M (k, k)."""
    M, it, method = solve_reduced(counts, lam, start=start)
    lam = float(lam)
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    cert = certify(M, counts, lam, certify_dps)
    s = np.linalg.svd(M * root[None, :], compute_uv=False)
    rank = int(np.sum(s > _RANK_FLOOR * s[0])) if s[0] > 0 else 0
    return RegPathPoint(
        counts, lam, M, cert["objective"], cert["dual_objective"], cert["duality_gap"],
        cert["relative_gap"], kkt_residual(M, counts, lam), it, method, rank, cert,
    )


def solve_regpath(counts: ClassCounts, lambdas, *, certify_dps: int = 40) -> list[RegPathPoint]:
    """solve_regpath_point at each lam (in the order given), each from the SEL start."""
    lams = [_check_lam(v) for v in lambdas]
    if not lams:
        raise SeliInputError("`lambdas` must hold at least one value; got none. Try 1e-1,1e-2.")
    return [solve_regpath_point(counts, v, certify_dps=certify_dps) for v in lams]
