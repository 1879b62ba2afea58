"""A structured second-order solver for the reduced (7), with a certified duality gap per lam.

Variables X (k-1, k) with M = Q X (reduction.py, step (c); Q = seli_exact.simplex.helmert(k)).
With B = X D^{1/2} of full row rank k-1 (the generic case: the solution has rank k-1 whenever
lam < sigma_min-ish, see below), the nuclear norm ||B||_* = tr (B B^T)^{1/2} is analytic, with
gradient the polar factor U V^T and Hessian, for B = U [S 0] [V V_perp]^T and a direction E with
U^T E [V V_perp] = [E1 E2],

    <E, d(U V^T)[E]> = sum_{i<j} (E1_ij - E1_ji)^2 / (s_i + s_j) + sum_i ||E2_i||^2 / s_i.

The loss part is block diagonal: class c contributes n_c Q^T (diag s_c - s_c s_c^T) Q with s_c =
softmax(m_c), positive definite on 1^perp. So F is smooth and strictly convex near the
solution and damped Newton converges quadratically from the SEL start X0 = alpha Q^T, where
alpha minimizes F(alpha P) in closed form: e^alpha = (k-1)(n/(lam ||Zhat||_*) - 1).

Special cases: lam >= ||Zhat||_2 = sigma_max gives M = 0 (grad L(0) = -Zhat, so 0 is optimal).
Which side of sigma_max a lam within rounding of it falls on does not matter: there the solution
is within O(sigma_max - lam) of 0 and M = 0 certifies (the rank-deficient route tries it too).

Rank-deficient solutions. When lam is of the order of the smaller singular values of Zhat, the
solution has rank r < k-1 and Newton sees a singular value of B collapse. Example: for STEP with
two or more minority classes, a direction v separating two minority classes (v = e_a - e_b) is
switched off exactly for lam >= sqrt(n_min): if m_a = m_b, then v^T G D^{1/2} v / |v|^2 =
-sqrt(n_min) whatever the rest of M, so the nuclear-norm subgradient along v is feasible iff
lam >= sqrt(n_min). At lam = sqrt(n_min) exactly the solution is degenerate: a zero singular value
with zero dual slack, so no first-order method converges fast there and a rank decision that
counts that direction as active is a coin toss on rounding noise.
The route, each step with a margin well above rounding:
  1. locate: accelerated proximal gradient on A = M D^{1/2} (singular-value soft-thresholding)
     from Newton's last iterate, a fixed number of steps;
  2. decide the rank from the prox argument Y = A - grad f(A): at the solution A = SVT(Y, lam),
     so singular values sigma_i(Y) > lam are active and those < lam are not. Values within a
     relative margin 2^-10 of lam (the located point is accurate to ~1e-5) are undecided; the
     ranks from the surely active count r_lo up to the possibly active count r_hi are tried,
     smallest first (a degenerate direction is then left out, where its exact value is 0);
  3. polish: Newton on the factored problem (1) at that rank, W, Hb (r, k) with A = W^T Hb,
     in the coordinates orthogonal to the rotation gauge (W, Hb) -> (O W, O Hb) (the gauge
     directions S W, S Hb, S skew, are an exact null space of the Hessian at the solution;
     projecting them out, rather than thresholding small eigenvalues, leaves a positive definite
     system) until the float64 duality gap is below the stopping test; then r_hi + 1 and
     r_lo - 1;
  4. fallback: proximal gradient continues from the best point, testing the gap, until it meets
     the stopping test or a fixed budget is spent.
The stopping test is the float64 gap at GAP_TARGET / 16, 50x above that gap's own rounding.
Whatever the route (`method`), the reported gap is the certificate of reduction.certify at the
returned M, evaluated in mpmath, and `certified` says whether it meets GAP_TARGET: a point that
does not is reported as such, never passed off as solved.

Branches. `method="auto"` (the default) runs the route above; the point's `method` says which
branch produced it. Naming a branch runs it alone, so that each can be checked on its own
(proofs_check's Section 4 claim does): "newton" (the full-rank Newton, no hand-over), "factored-
newton" (steps 1-3 from the start, without the fallback; the best point tried is returned),
"prox-gradient" (step 4 alone from the start, with the fallback's budget and stopping test) and
"zero" (M = 0). A forced branch's point is certified like any other.

>>> from seli_exact.counts import step
>>> p = solve_regpath_point(step(4, 10, "1/2", 5), 1e-2)
>>> p.method, p.certified, p.rank
('newton', True, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..arithmetic import arithmetic
from ..counts import ClassCounts
from ..errors import SeliInputError
from ..precision import default_rtol
from ..simplex import helmert
from ..validate import whole
from .reduction import (
    certify,
    class_ce,
    class_gradient,
    class_sel,
    dual_value,
    one_hot,
    reduced_objective,
)

_F64 = arithmetic("float64")
_EPS = _F64.eps
# The certified relative duality gap every point is held to: 8x the float64 tolerance of
# seli_exact.precision (2^-40 ~ 9.1e-13). A float64 M solved to rounding certifies at ~1e-16
# (the gap is second order in the error of M); the room is for ill-conditioned points.
GAP_TARGET = 8 * default_rtol(_F64)
# The solver's own stopping test, on the float64 gap: 16x below the target, so a point that
# passes certifies in mpmath with room to spare, and ~50x above that float gap's own rounding
# (~1e-15 relative: F and Dual are sums of positive terms, each accurate to a few ulps).
_STOP = GAP_TARGET / 16
# A singular value of the prox argument within this relative distance of lam is undecided
# (active or not); the located point is accurate to ~1e-5, far inside the margin.
_RANK_MARGIN = 2.0**-10
# Singular values below this fraction of the largest count as zero (the reported rank; Newton on
# the full-rank problem hands over): 1e7 above rounding, below every singular value of a
# solution except within ~1e-9 (relative) of a rank transition in lam.
_RANK_FLOOR = 1e-9
# Newton's quadratic regime: once the decrement^2 (~ 2 (F - F*)) is below this fraction of |F|,
# F's own rounding (~1e-16 |F|) would decide an Armijo test, so steps are judged by the norm of
# the gradient instead (1e7 above that rounding, and from here Newton needs one or two steps).
_QUADRATIC = 2.0**-30
# Proximal gradient steps: the locate phase, and the fallback budget.
_LOCATE_STEPS = 500
_FALLBACK_STEPS = 40_000
# The range of lam: below ~1e-154 the loss Hessian (products of softmax entries ~ lam) underflows
# float64 and no float64 point certifies; at 1e-100 every tested case certifies at ~1e-14. Any
# lam >= sigma_max(Zhat) <= sqrt(n) has the solution 0; the upper bound only keeps numbers sane.
LAM_MIN, LAM_MAX = 1e-100, 1e100
# The structured solver forms a dense Hessian over (k-1) k unknowns: 8 ((k-1) k)^2 bytes, a
# few copies. k = 40 needs ~20 MB per copy; beyond that time and memory grow like k^4 and k^6.
MAX_K = 40
# The branches a point can come from ("auto" picks them as the module doc says).
METHODS = ("auto", "newton", "factored-newton", "prox-gradient", "zero")


@dataclass(frozen=True, eq=False)
class RegPathPoint:
    """The solution M (k, k) of the reduced (7) at one lam, with its certificate.

    Z_lam = M Y (column i is m_{y_i}); `duality_gap` = F(M) - Dual(scaled gradient point) >= 0
    bounds the suboptimality of M Y in the full problem (7); `certified` says whether the
    relative gap meets `gap_target`; `kkt_residual` is the distance of -grad L / lam from the
    subdifferential of the nuclear norm (see kkt_residual()).
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
    method: str  # "newton", "factored-newton", "prox-gradient", "zero" or "cvxpy-<SOLVER>"
    rank: int
    certificate: dict = field(default_factory=dict, repr=False)
    gap_target: float = GAP_TARGET

    @property
    def certified(self) -> bool:
        """Whether the certified relative gap meets `gap_target` (False for NaN)."""
        return bool(self.relative_gap <= self.gap_target)

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
    except (TypeError, ValueError, OverflowError):
        raise SeliInputError(
            f"`lam` must be a positive number; got {lam!r}. Try lam=1e-2."
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise SeliInputError(
            f"`lam` must be a positive finite number; got lam={lam!r}. Try lam=1e-2."
        )
    if not LAM_MIN <= value <= LAM_MAX:
        raise SeliInputError(
            f"`lam` must lie in [{LAM_MIN:g}, {LAM_MAX:g}]; got lam={value:g}. Below "
            f"{LAM_MIN:g} the loss curvature (~lam^2) underflows float64; try lam=1e-8."
        )
    return value


def check_counts(counts) -> ClassCounts:
    """`counts` if the structured solver takes it (a ClassCounts with k <= MAX_K), else a
    SeliInputError naming the memory it would need."""
    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts (from step(), from_counts() or long_tailed()); "
            f"got {type(counts).__name__}. Build one with seli_exact.step(...)."
        )
    if counts.k > MAX_K:
        mb = 8 * ((counts.k - 1) * counts.k) ** 2 / 2**20
        raise SeliInputError(
            f"the structured solver of (7) takes at most {MAX_K} classes (its dense Hessian "
            f"needs ~{mb:.0f} MB per copy at k={counts.k}, and time grows like k^6); got "
            f"k={counts.k}. Use fewer classes."
        )
    return counts


def _sel_start(counts: ClassCounts, lam: float, nuc_hat: float) -> float:
    """alpha minimizing F(alpha P) = n log(1 + (k-1) e^{-alpha}) + lam alpha ||Zhat||_*."""
    k, n = counts.k, counts.n
    ratio = n / (lam * nuc_hat)
    return math.log((k - 1) * (ratio - 1.0)) if ratio > 1.0 + 1.0 / (k - 1) else 1e-3


class _Collapse(Exception):
    """A singular value of B fell below _RANK_FLOOR: the solution is not of full rank k-1."""


def _newton_step(H, g):
    """-H^{-1} g by Cholesky; where H is not positive definite (far from the solution),
    Levenberg damping H + mu I with mu growing from 2^-30 max|diag H| until it is."""
    mu, scale = 0.0, float(np.abs(np.diagonal(H)).max()) or 1.0
    eye = np.eye(len(g))
    while True:
        try:
            L = np.linalg.cholesky(H + mu * eye)
            return -np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            mu = 2.0**-30 * scale if mu == 0.0 else 16.0 * mu
            if not math.isfinite(mu):
                raise


def _damped_newton(x, model, max_iter: int):
    """Newton with Armijo backtracking on F; `model(x)` -> (F, g (m,), H (m, m), lift) where
    lift maps a step in the model's m coordinates to one in x's. Returns (x, iterations, ok).

    In the quadratic regime (decrement^2 <= _QUADRATIC |F|) a full step is taken when it lowers
    the gradient norm, and the loop ends when it does not or when the step is below the
    rounding of x: the comparison of F values there would be rounding noise. ok is False only
    when the line search fails far from that regime or max_iter runs out.
    """
    F, g, H, lift = model(x)
    it = 0
    for it in range(1, max_iter + 1):
        try:
            dz = _newton_step(H, g)
        except np.linalg.LinAlgError:  # a non-finite Hessian: no Newton step to take
            return x, it, False
        dec2 = float(-g @ dz)  # Newton decrement squared ~ 2 (F - F*)
        if not dec2 > 0:  # a zero gradient: nothing left to gain
            return x, it, True
        step = lift(dz)
        if dec2 <= _QUADRATIC * abs(F):
            xn = x + step
            Fn, gn, Hn, liftn = model(xn)
            if not np.linalg.norm(gn) < np.linalg.norm(g):
                return x, it, True
            x, F, g, H, lift = xn, Fn, gn, Hn, liftn
            if np.linalg.norm(step) <= 4 * _EPS * np.linalg.norm(x):
                return x, it, True
            continue
        t = 1.0
        while True:
            xn = x + t * step
            Fn = model(xn, value_only=True)
            if Fn <= F - 1e-4 * t * dec2:
                break
            t *= 0.5
            if t < 2.0**-40:
                return x, it, False
        x = xn
        F, g, H, lift = model(x)
    return x, it, False


class _Reduced:
    """Objective, gradient and Hessian of F in X (k-1, k) at one lam."""

    def __init__(self, counts: ClassCounts, lam: float):
        self.k = counts.k
        self.r = self.k - 1
        self.n = np.asarray(counts.counts, dtype=float)
        self.root = np.sqrt(self.n)
        self.Q = helmert(self.k)  # (k, k-1)
        self.lam = lam

    def value(self, X) -> float:
        ce, _, _ = class_ce(self.Q @ X)
        s = np.linalg.svd(X * self.root[None, :], compute_uv=False)
        return float(self.n @ ce + self.lam * s.sum())

    def derivatives(self, X):
        k, r, Q, lam = self.k, self.r, self.Q, self.lam
        M = Q @ X
        ce, S, q = class_ce(M)
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
        Et = U.T @ E @ Vt.T  # (N, r, k), batched products (a 3-operand einsum is ~100x slower)
        E1, E2 = Et[:, :, :r], Et[:, :, r:]
        Om = (E1 - np.swapaxes(E1, 1, 2)) / (s[:, None] + s[None, :])
        dPhi = U @ np.concatenate([Om, E2 / s[None, :, None]], axis=2) @ Vt  # (N, r, k)
        Hn = (dPhi * self.root[None, None, :]).reshape(N, N)
        Hess = H.reshape(N, N) + lam * 0.5 * (Hn + Hn.T)
        return value, grad, Hess, s


def _newton(counts: ClassCounts, lam: float, X0, max_iter: int = 20):
    """Damped Newton on F in X (k-1, k). Returns (X, iterations, ok); ok is False when a singular
    value of B collapsed (the solution is rank-deficient), the line search failed, or max_iter
    ran out: from the SEL start Newton converges in 6-10 iterations on every full-rank case
    tried (quadratic convergence), while a singular value heading for 0 shrinks by a roughly
    constant factor per iteration and needs 12-50 to reach _RANK_FLOOR; 20 hands those over
    early, and a slow full-rank case handed over is still solved (at rank k-1) and certified."""
    f = _Reduced(counts, lam)
    shape = X0.shape
    calls = [0]

    def model(x, value_only=False):
        X = x.reshape(shape)
        if value_only:
            return f.value(X)
        calls[0] += 1
        F, g, H, s = f.derivatives(X)
        if not s[-1] > _RANK_FLOOR * s[0]:
            raise _Collapse(X)
        return F, g.ravel(), H, lambda dz: dz

    try:
        x, it, ok = _damped_newton(np.asarray(X0, dtype=float).ravel(), model, max_iter)
    except _Collapse as stop:
        return stop.args[0], calls[0], False
    return x.reshape(shape), it, ok


def _soft_threshold(A, tau):
    U, s, Vt = np.linalg.svd(A)
    return (U * np.maximum(s - tau, 0.0)[None, :]) @ Vt


def _grad_A(A, root):
    """grad of f(A) = sum_c n_c CE(a_c / sqrt(n_c); c): column c is sqrt(n_c) g_c."""
    _, G = class_gradient(A / root[None, :])
    return G * root[None, :]


def _float_gap(A, counts: ClassCounts, lam: float, root) -> float:
    """The certificate of reduction.certify in float64, relative to |F|: the stopping test."""
    M = A / root[None, :]
    _, G = class_gradient(M)
    spec = np.linalg.norm(G * root[None, :], 2)
    t = min(1.0, lam / spec) if spec > 0 else 1.0
    F = reduced_objective(M, counts, lam)
    gap = (F - dual_value(t * G, counts)) / abs(F)
    return gap if math.isfinite(gap) else math.inf


def _prox_gradient(A0, counts: ClassCounts, lam: float, root, steps: int,
                   stop: float | None = None):
    """FISTA with restarts on A = M D^{1/2}; the loss part has Hessian <= I/2, so step 1 is safe.

    Runs `steps` steps, or fewer when `stop` is given and the float64 gap falls below it
    (tested every 25 steps). Returns (A, steps taken).
    """
    A = np.array(A0, dtype=float)
    Yv, tk = A.copy(), 1.0
    Fold = reduced_objective(A / root[None, :], counts, lam)
    it = 0
    for it in range(1, steps + 1):
        if stop is not None and it % 25 == 0 and _float_gap(A, counts, lam, root) <= stop:
            break
        An = _soft_threshold(Yv - _grad_A(Yv, root), lam)
        Fn = reduced_objective(An / root[None, :], counts, lam)
        if Fn > Fold:  # restart the momentum from the last accepted point
            Yv, tk = A.copy(), 1.0
            continue
        tn = (1 + math.sqrt(1 + 4 * tk * tk)) / 2
        Yv = An + ((tk - 1) / tn) * (An - A)
        A, tk, Fold = An, tn, Fn
    return A, it


def _factored_derivatives(W, Hb, counts: ClassCounts, lam: float):
    """Value, gradient and Hessian of f(W, Hb) = sum_c n_c CE(a_c / sqrt(n_c); c)
    + lam (||W||_F^2 + ||Hb||_F^2) / 2 with A = W^T Hb, W and Hb (r, k).

    This is (1) on the k x k reduction (Hb = H D^{1/2}); min over factorizations of the
    regularizer is ||A||_*, so its minimum is that of (R) whenever r >= rank of the solution.
    """
    r, k = W.shape
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    A = W.T @ Hb
    ce, S, q = class_ce(A / root[None, :])
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


def _factored_value(W, Hb, counts: ClassCounts, lam: float, root) -> float:
    ce, _, _ = class_ce((W.T @ Hb) / root[None, :])
    n = root * root
    return float(n @ ce + lam * ((W * W).sum() + (Hb * Hb).sum()) / 2)


def _gauge_complement(W, Hb):
    """(2 r k, m) orthonormal basis of the complement of the gauge directions (S W, S Hb), S
    skew (r, r), or None for r = 1. The r(r-1)/2 directions are independent while the rows of W
    and Hb are (S W = 0 = S Hb forces S = 0), so m = 2 r k - r(r-1)/2."""
    r, k = W.shape
    a, b = np.triu_indices(r, 1)
    if len(a) == 0:
        return None
    T = np.zeros((len(a), 2, r, k))
    j = np.arange(len(a))
    # S = e_a e_b^T - e_b e_a^T: row a of S W is w_b, row b is -w_a
    T[j, 0, a], T[j, 0, b] = W[b], -W[a]
    T[j, 1, a], T[j, 1, b] = Hb[b], -Hb[a]
    Qf, _ = np.linalg.qr(T.reshape(len(a), -1).T, mode="complete")
    return Qf[:, len(a):]


def _factored_newton(counts: ClassCounts, lam: float, U, sy, Vt, r: int, max_iter: int = 60):
    """Newton on the factored problem at rank r, gauge projected out: (A (k, k), iterations).

    Start: the balanced split of the prox step SVT(Y, lam) = U max(sy - lam, 0) V^T at rank r,
    each of the r values floored at 2^-20 sy_0 so that no row of W or Hb starts at zero (a row
    the solution does not need is driven back to zero by Newton).
    """
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    k = counts.k
    half = np.sqrt(np.maximum(sy[:r] - lam, 2.0**-20 * sy[0]))
    x0 = np.concatenate([(half[:, None] * U[:, :r].T).ravel(), (half[:, None] * Vt[:r]).ravel()])

    def model(x, value_only=False):
        W, Hb = x.reshape(2, r, k)
        if value_only:
            return _factored_value(W, Hb, counts, lam, root)
        F, g, H = _factored_derivatives(W, Hb, counts, lam)
        B = _gauge_complement(W, Hb)
        if B is None:
            return F, g, H, lambda dz: dz
        return F, B.T @ g, B.T @ H @ B, lambda dz: B @ dz

    x, it, _ = _damped_newton(x0, model, max_iter)
    W, Hb = x.reshape(2, r, k)
    return W.T @ Hb, it


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


def _rank_deficient(counts: ClassCounts, lam: float, M0, fallback: bool = True):
    """Steps 1-4 of the module docstring from M0 (k, k) (steps 1-3 when not `fallback`).
    Returns (M, iterations, method)."""
    k = counts.k
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    A, its = _prox_gradient(M0 * root[None, :], counts, lam, root, _LOCATE_STEPS)
    # the rank, from the prox argument Y = A - grad f(A) (the solution is SVT(Y, lam))
    U, sy, Vt = np.linalg.svd(A - _grad_A(A, root))
    r_lo = int(np.sum(sy > lam * (1 + _RANK_MARGIN)))  # surely active
    r_hi = int(np.sum(sy > lam * (1 - _RANK_MARGIN)))  # possibly active
    r_hi = min(r_hi, k - 1)  # A is centred: rank <= k - 1
    # the undecided ranks smallest first, then one more and one fewer (in case the located
    # point was farther off than the margin allows); the fallback covers anything else
    ranks = [r for r in [*range(r_lo, r_hi + 1), r_hi + 1, r_lo - 1] if 0 <= r <= k - 1]
    best = (_float_gap(A, counts, lam, root), A, "prox-gradient")
    for r in ranks:
        if r == 0:
            Af, it, method = np.zeros((k, k)), 0, "zero"
        else:
            (Af, it), method = _factored_newton(counts, lam, U, sy, Vt, r), "factored-newton"
        its += it
        gap = _float_gap(Af, counts, lam, root)
        if gap < best[0]:
            best = (gap, Af, method)
        if gap <= _STOP:
            return Af / root[None, :], its, method
    if not fallback:
        return best[1] / root[None, :], its, best[2]
    A3, it = _prox_gradient(best[1], counts, lam, root, _FALLBACK_STEPS, stop=_STOP)
    its += it
    gap = _float_gap(A3, counts, lam, root)
    if gap < best[0]:
        best = (gap, A3, "prox-gradient")
    return best[1] / root[None, :], its, best[2]


def solve_reduced(counts: ClassCounts, lam, *, start: np.ndarray | None = None,
                  method: str = "auto", steps: int | None = None):
    """(M (k, k), iterations, method) solving the reduced (7), without the mpmath certificate.

    With method="auto" the float64 gap of the returned M is below GAP_TARGET / 16 unless the
    fallback's budget ran out; a named branch runs alone (module doc), "prox-gradient" for at
    most `steps` steps (default the fallback's budget). solve_regpath_point certifies the point
    in mpmath either way.
    """
    counts = check_counts(counts)
    lam = _check_lam(lam)
    if method not in METHODS:
        raise SeliInputError(
            f"`method` must be one of {', '.join(METHODS)}; got {method!r}. Leave it at auto "
            "unless you are checking one branch of the solver."
        )
    k = counts.k
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    sig = np.linalg.svd(class_sel(k) * root[None, :], compute_uv=False)  # singular values of Zhat
    if method == "zero" or (method == "auto" and lam >= sig[0]):
        return np.zeros((k, k)), 0, "zero"
    Q = helmert(k)  # (k, k-1)
    if start is not None:
        start = np.asarray(start, dtype=float)
        if start.shape != (k, k) or not np.all(np.isfinite(start)):
            raise SeliInputError(
                f"`start` must be a finite ({k}, {k}) matrix M; got shape {start.shape}. "
                "Pass the M of a nearby RegPathPoint, or no start."
            )
        X0 = Q.T @ start
    else:
        X0 = _sel_start(counts, lam, float(sig.sum())) * Q.T
    if method == "factored-newton":
        return _rank_deficient(counts, lam, Q @ X0, fallback=False)
    if method == "prox-gradient":
        budget = _FALLBACK_STEPS if steps is None else whole("steps", steps, minimum=1,
                                                             fix="Leave it unset.")
        A, it = _prox_gradient((Q @ X0) * root[None, :], counts, lam, root, budget, stop=_STOP)
        return A / root[None, :], it, "prox-gradient"
    X, it, ok = _newton(counts, lam, X0)
    M = Q @ X
    if method == "newton" or (ok and _float_gap(M * root[None, :], counts, lam, root) <= _STOP):
        return M, it, "newton"
    M, it2, chosen = _rank_deficient(counts, lam, M)
    return M, it + it2, chosen


def certified_point(counts: ClassCounts, lam, M, iterations: int, method: str, *,
                    digits: int = 40) -> RegPathPoint:
    """The RegPathPoint of any M (k, k) at `lam`: reduction.certify's gap in mpmath at `digits`
    digits, the rank and the KKT residual. Every solver's points (structured or cvxpy) are
    certified here, the same way."""
    lam = _check_lam(lam)
    M = np.asarray(M, dtype=float)
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    cert = certify(M, counts, lam, digits)
    s = np.linalg.svd(M * root[None, :], compute_uv=False)
    rank = int(np.sum(s > _RANK_FLOOR * s[0])) if s[0] > 0 else 0
    return RegPathPoint(
        counts, lam, M, cert["objective"], cert["dual_objective"], cert["duality_gap"],
        cert["relative_gap"], kkt_residual(M, counts, lam), iterations, method, rank, cert,
    )


def solve_regpath_point(
    counts: ClassCounts, lam, *, start: np.ndarray | None = None, certify_digits: int = 40,
    method: str = "auto", steps: int | None = None,
) -> RegPathPoint:
    """Solve the reduced (7) at `lam` (> 0) and certify it; `start` is an optional M (k, k),
    `method` a branch of the solver ("auto" by default; module doc) and `steps` the budget of a
    forced "prox-gradient"."""
    M, it, method = solve_reduced(counts, lam, start=start, method=method, steps=steps)
    return certified_point(counts, lam, M, it, method, digits=certify_digits)


def solve_regpath(counts: ClassCounts, lambdas, *, certify_digits: int = 40) -> list[RegPathPoint]:
    """solve_regpath_point at each lam (in the order given), each from the SEL start."""
    lams = [_check_lam(v) for v in lambdas]
    if not lams:
        raise SeliInputError("`lambdas` must hold at least one value; got none. Try 1e-1,1e-2.")
    return [solve_regpath_point(counts, v, certify_digits=certify_digits) for v in lams]
