"""The nuclear-norm relaxation (5) of the UF-SVM, solved on its k x k reduction.

Problem (5), Sec. 3.3:

    min_Z ||Z||_*   subject to   Z[y_i, i] - Z[c, i] >= 1   for all i and c != y_i,   Z (k, n).

**Reduction to k x k (why the columns of one class may be taken equal).** Permuting the columns
of Z among examples of the same class changes neither ||Z||_* (a column permutation is an
orthogonal map) nor the constraints (examples of one class carry the same constraints). So if Z is
optimal, so is every such permutation of it; their average Z_bar, which replaces each column by
the mean of its class's columns, is feasible (the constraints are linear, hence kept by
averaging) and has ||Z_bar||_* <= ||Z||_* by convexity of the norm. Hence (5) always has an
optimal solution of the form Z = C Y, with C (k, k) holding one column per class and Y the
one-hot label matrix (k, n); if the minimizer is unique (Theorem 1 says it is, Zhat), it is of
this form. This argument uses only convexity and the within-class symmetry, not the SVD formulas
of Sec. A, so the solver below is an independent route to the optimum.

For Z = C Y, Z Z^T = C D C^T with D = diag(n_1, ..., n_k), so ||Z||_* = ||C D^{1/2}||_*. With
X = C D^{1/2} (column c scaled by w_c = sqrt(n_c)) the reduced problem is

    min_X ||X||_*   subject to   X[c, c] - X[j, c] >= w_c   for j != c,          X (k, k),

a nuclear norm over a polyhedron K that is a product of one small cone per column.

**Dual and certificate.** The Lagrange dual of the reduced problem is

    max_L  sum_c w_c L[c, c]   subject to  ||L||_2 <= 1,  1^T L = 0,  L[j, c] <= 0 (j != c),

which is (6) written per class: B = B_class[y] with B_class[c, :] = L[:, c]^T / w_c satisfies
||B||_2 = ||L||_2, B 1_k = 0, B * Zhat^T >= 0, and tr(Zhat B) = sum_c w_c L[c, c]. Any dual
feasible L bounds the optimum from below, any X in K from above; the difference is the reported
`duality_gap`, a certificate that does not trust the iteration that produced it.

**Algorithm.** ADMM on min ||X||_* + indicator_K(Y) s.t. X = Y: singular-value thresholding for
X, an exact projection onto K for Y (per column a one-dimensional water-filling problem), and the
scaled multiplier U, whose negative rho * U converges to a dual solution L. The step rho is
adapted by residual balancing. The iterate returned is the projected Y, so it is feasible to
rounding error.

**When it stops.** On success (`stopped == "converged"`): the certified relative gap and both
residuals below `tol`. Otherwise it says so (`converged` False) and returns its best certified
point: when `max_iter` runs out ("max_iter"); when `max_seconds` of wall time are spent
("time"); or when it stalls ("stalled"): its distance to the stopping test, e = max(relative
gap, residuals / sum_c sqrt(n_c)) / tol at the checks (every 25 iterations), has not halved
in STALL_WINDOW iterations. A run that converges halves e at least every 275 iterations on
every instance measured (STEP, long tails up to k = 40, random counts up to 10^6, counts 1 to
10^8 apart), so the window leaves a factor of 18; an ADMM whose dual has collapsed, which
would otherwise spin for all of `max_iter`, is stopped in a fraction of a second.

>>> from seli_exact.counts import step
>>> r = solve_ufsvm(step(4, 10, "1/2", 5))
>>> round(r.objective, 8), r.duality_gap < 1e-9
(14.55118003, True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..counts import ClassCounts
from ..arithmetic import arithmetic
from ..errors import SeliInputError
from ..precision import default_rtol
from ..validate import whole

# The smallest stopping tolerance taken: the float64 tolerance of seli_exact.precision (2^-43).
TOL_MIN = default_rtol(arithmetic("float64"))
# Iterations without the distance to the stopping test halving after which a run has stalled
# (module doc: converging runs halve it within 275 iterations).
STALL_WINDOW = 5000
# Wall-clock budget of one call: a safety net behind the stall test (a converging call on the
# largest instances here takes under a second).
MAX_SECONDS = 60.0
STOPS = ("converged", "max_iter", "stalled", "time")


@dataclass(frozen=True, eq=False)
class UFSVMResult:
    """A solution of the reduced problem (5) with its dual certificate (float64).

    Z_class: (k, k), column c is the column of Z shared by every example of class c, so
    Z = Z_class[:, y]. dual: (k, k), B_class, row c is the row of the dual matrix B of (6) for
    every example of class c.
    objective: ||Z||_* at Z_class; lower_bound: tr(Zhat B) at the dual-feasible B;
    duality_gap = objective - lower_bound >= 0 (up to rounding); the optimum lies in between.
    """

    counts: ClassCounts
    Z_class: np.ndarray  # (k, k)
    dual: np.ndarray  # (k, k)
    objective: float
    lower_bound: float
    iterations: int
    converged: bool
    stopped: str = ""  # why the iteration ended, one of STOPS ("" for converged or max_iter)

    def __post_init__(self):
        k = self.counts.k
        if self.Z_class.shape != (k, k) or self.dual.shape != (k, k):
            raise ValueError(f"UFSVMResult shapes {self.Z_class.shape}, {self.dual.shape}; k={k}")
        if not self.stopped:
            object.__setattr__(self, "stopped", "converged" if self.converged else "max_iter")
        if self.stopped not in STOPS or (self.stopped == "converged") != self.converged:
            raise ValueError(f"UFSVMResult.stopped must be one of {STOPS}, 'converged' exactly "
                             f"when converged; got {self.stopped!r}, converged={self.converged}")

    @property
    def duality_gap(self) -> float:
        return self.objective - self.lower_bound

    @property
    def relative_gap(self) -> float:
        return self.duality_gap / max(abs(self.objective), 1.0)

    def Z(self) -> np.ndarray:
        """The full logit matrix Z (k, n) = Z_class[:, y]; dense, so only on request."""
        return self.Z_class[:, self.counts.labels()]

    def margins(self) -> np.ndarray:
        """(k, k): margins[j, c] = Z_class[c, c] - Z_class[j, c] (the diagonal is 0)."""
        return np.diagonal(self.Z_class)[None, :] - self.Z_class


def nuclear_norm_weighted(Z_class: np.ndarray, counts: ClassCounts) -> float:
    """||Z_class[:, y]||_* = ||Z_class D^{1/2}||_* without building the (k, n) matrix."""
    w = np.sqrt(np.asarray(counts.counts, dtype=float))
    return float(np.linalg.svd(Z_class * w[None, :], compute_uv=False).sum())


def dual_value(B_class: np.ndarray, counts: ClassCounts) -> float:
    """tr(Zhat B) for B = B_class[y]: sum_c n_c (B_class[c, c] - mean_j B_class[c, j])."""
    n = np.asarray(counts.counts, dtype=float)
    return float((n * (np.diagonal(B_class) - B_class.mean(axis=1))).sum())


def solve_ufsvm(
    counts: ClassCounts,
    *,
    tol: float = 1e-11,
    max_iter: int = 200_000,
    rho: float = 1.0,
    seed: int = 0,
    max_seconds: float = MAX_SECONDS,
) -> UFSVMResult:
    """Solve the reduced relaxation (5) by ADMM until the relative duality gap is below `tol`.

    Returns a UFSVMResult; `converged` is False when `max_iter` ran out first, when the run
    stalled or when `max_seconds` were spent (`stopped` says which; module doc): the certificate
    still bounds the optimum, just less tightly.
    """
    if not isinstance(counts, ClassCounts):
        raise SeliInputError(
            f"`counts` must be a ClassCounts; got {type(counts).__name__}. "
            "Build one with seli_exact.step(...) or seli_exact.from_counts(...)."
        )
    if not (isinstance(tol, float) and 0 < tol < 1):
        raise SeliInputError(f"`tol` must be a float in (0, 1); got tol={tol!r}. Try tol=1e-11.")
    if tol < TOL_MIN:
        # the gap and the residuals are float64 differences of O(||Zhat||_*) numbers: below
        # ~2^-43 relative they are rounding noise, and the stopping test would be a coin toss
        raise SeliInputError(
            f"`tol` must be at least {TOL_MIN:.1e} (float64 cannot resolve a smaller relative "
            f"gap); got tol={tol!r}. Try tol=1e-11."
        )
    max_iter = whole("max_iter", max_iter, minimum=1, fix="Try max_iter=200000.")
    if not rho > 0:
        raise SeliInputError(
            f"`rho` (the ADMM step) must be positive; got rho={rho!r}. Try rho=1.0."
        )
    if not (isinstance(max_seconds, (int, float)) and max_seconds > 0):
        raise SeliInputError(
            f"`max_seconds` must be a positive number; got max_seconds={max_seconds!r}. "
            f"Try max_seconds={MAX_SECONDS:g}."
        )
    k = counts.k
    w = np.sqrt(np.asarray(counts.counts, dtype=float))  # (k,) class weights sqrt(n_c)

    # Start from a generic feasible point (Z = 2 I plus noise, projected onto K), far from the
    # expected answer, so convergence is not an artefact of the start.
    rng = np.random.default_rng(seed)
    Y = _project_K((2.0 * np.eye(k) + rng.standard_normal((k, k))) * w[None, :], w)
    U = np.zeros((k, k))
    best = None
    check_every = 25
    it = 0
    stopped = "max_iter"
    scale = float(w.sum())
    anchor, anchor_it = math.inf, 0  # the distance to the stopping test at its last halving
    deadline = time.monotonic() + max_seconds
    for it in range(1, max_iter + 1):
        X = _svt(Y - U, 1.0 / rho)
        Y_old = Y
        Y = _project_K(X + U, w)
        U = U + X - Y
        if it % check_every:
            continue
        r_primal = float(np.linalg.norm(X - Y))
        r_dual = rho * float(np.linalg.norm(Y - Y_old))
        obj = float(np.linalg.svd(Y, compute_uv=False).sum())
        L = _dual_feasible(-rho * U)
        low = float((w * np.diagonal(L)).sum())
        if best is None or obj - low <= best[0] - best[1]:
            best = (obj, low, Y.copy(), L)
        # Stop on a small certified gap AND small residuals: the gap alone pins the optimal
        # value, while the minimizer converges only like the square root of the gap.
        if obj - low <= tol * max(abs(obj), 1.0) and max(r_primal, r_dual) <= tol * scale:
            best = (obj, low, Y.copy(), L)
            stopped = "converged"
            break
        e = max((obj - low) / max(abs(obj), 1.0), max(r_primal, r_dual) / scale) / tol
        if e < anchor / 2:
            anchor, anchor_it = e, it
        elif it - anchor_it >= STALL_WINDOW:
            stopped = "stalled"
            break
        if time.monotonic() > deadline:
            stopped = "time"
            break
        # residual balancing (Boyd et al. 2011, Sec. 3.4.1): keep the two residuals comparable
        if r_primal > 10 * r_dual:
            rho *= 2.0
            U = U / 2.0
        elif r_dual > 10 * r_primal:
            rho /= 2.0
            U = U * 2.0
    obj, low, Yb, L = best
    Z_class = Yb / w[None, :]
    B_class = (L / w[None, :]).T
    return UFSVMResult(counts, Z_class, B_class, obj, low, it, stopped == "converged", stopped)


def _svt(A: np.ndarray, tau: float) -> np.ndarray:
    """prox of tau ||.||_*: shrink the singular values by tau."""
    u, s, vt = np.linalg.svd(A)
    return (u * np.maximum(s - tau, 0.0)) @ vt


def _project_K(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Euclidean projection onto K = {Y: Y[c, c] - Y[j, c] >= w_c, j != c}, column by column.

    For a column z and its class c, with y_c = t the best y_j is min(z_j, t - w_c), and t solves
    t - z_c = sum_j (z_j + w_c - t)_+, whose root is the largest of the candidate values
    t_p = (z_c + sum of the p largest q_j) / (1 + p), q_j = z_j + w_c (a water-filling argument:
    each candidate underestimates the root, and the right p attains it).
    """
    k = Z.shape[0]
    diag = np.diagonal(Z).copy()  # (k,)
    q = Z + w[None, :]
    q[np.diag_indices(k)] = -np.inf
    qs = -np.sort(-q, axis=0)[: k - 1]  # (k-1, k) descending, the k-1 off-diagonal entries
    csum = np.cumsum(qs, axis=0)
    p = np.arange(1, k)[:, None]
    cand = np.vstack([diag[None, :], (diag[None, :] + csum) / (1 + p)])  # (k, k)
    t = cand.max(axis=0)  # (k,)
    Y = np.minimum(Z, (t - w)[None, :])
    Y[np.diag_indices(k)] = t
    return Y


def _dual_feasible(L: np.ndarray) -> np.ndarray:
    """The nearest-by-construction dual-feasible point: clip, re-centre, scale into the ball.

    Off-diagonal entries are clipped to <= 0, each diagonal entry is set so the column sums to
    zero, and the matrix is divided by max(1, ||L||_2).
    """
    k = L.shape[0]
    off = np.minimum(L, 0.0)
    off[np.diag_indices(k)] = 0.0
    out = off.copy()
    out[np.diag_indices(k)] = -off.sum(axis=0)
    return out / max(1.0, float(np.linalg.norm(out, 2)))


@dataclass(frozen=True, eq=False)
class FullSolution:
    """(5) solved on all n columns by a generic conic solver: Z (k, n) and ||Z||_*."""

    counts: ClassCounts
    Z: np.ndarray  # (k, n)
    objective: float
    solver: str
    status: str


def solve_ufsvm_cvxpy(counts: ClassCounts, *, solver: str = "SCS", max_n: int = 60) -> FullSolution:
    """(5) on the full (k, n) matrix with cvxpy (optional dependency), for small n only.

    No reduction, symmetry or formula is used: an independent check of `solve_ufsvm`. SCS is
    the default: the interior-point Clarabel is more accurate but took minutes at n = 110.
    """
    try:
        import cvxpy as cp
    except ImportError as err:  # pragma: no cover - exercised only without cvxpy
        raise SeliInputError(
            "the full-problem route needs the optional cvxpy package, which is not installed; "
            "install it with `pip install cvxpy` or use solve_ufsvm."
        ) from err
    if counts.n > max_n:
        raise SeliInputError(
            f"`counts` has n={counts.n} examples, more than max_n={max_n} for the full "
            f"(k, n) problem; use solve_ufsvm (the k x k reduction) or raise max_n."
        )
    k, n, y = counts.k, counts.n, counts.labels()
    Z = cp.Variable((k, n))
    Y = np.zeros((k, n))
    Y[y, np.arange(n)] = 1.0
    # Z[y_i, i] - Z[c, i] >= 1 for c != y_i, i.e. (1^T (Y * Z)) - Z >= 1 off the label entries
    top = cp.sum(cp.multiply(Y, Z), axis=0, keepdims=True)  # (1, n)
    mask = 1.0 - Y
    cons = [cp.multiply(mask, top - Z) >= mask]
    prob = cp.Problem(cp.Minimize(cp.normNuc(Z)), cons)
    prob.solve(solver=solver)
    return FullSolution(counts, np.asarray(Z.value), float(prob.value), solver, str(prob.status))
