"""The integral route: G_M and G_W from step 5 of Theorem 1's proof for any counts, by quadrature.

derivations/any_counts.py proves, for every count vector (u_c(t) = 1/(1 + n_c t),
sigma(t) = sum_c u_c(t) > 0, A(t) = sum_c n_c u_c(t)):

    G_M[i, j] = -(1/pi) int_0^inf u_i u_j / (sqrt(t) sigma) dt                  (i != j)
    G_M[i, i] =  (1/pi) int_0^inf u_i (sigma - u_i) / (sqrt(t) sigma) dt
    G_W[i, j] = [i = j] sqrt(n_i) + 1/(k pi) int_0^inf u_i u_j (A/sigma - n_i - n_j - n_i n_j t) / sqrt(t) dt

(G_M = L^{1/2} with L = (P D P)^+, G_W = (P D P)^{1/2}). Each integrand is written without
cancellation: sigma - u_i is summed as sum_{c != i} u_c, a sum of positive terms, and the G_W
bracket has no 1 - 1 at t -> 0 (the textbook form (L + tI)^{-1} - 11^T/(kt) has).

Quadrature. With t = e^x the integrands are smooth on the real line and decay like e^{-|x|/2}
at both ends; they are analytic in the strip |Im x| < pi (the poles of u_c, at t = -1/n_c, and
the zeros of sigma, which is a Stieltjes function and vanishes only on the negative axis, all
sit on Im x = pi). The trapezoid rule in x therefore converges geometrically, with error about
exp(-2 pi a / h) for any a < pi. Classes with equal counts share every integrand, so only the
J distinct counts enter: each node costs O(J) and the Gram blocks are three (J, m) (m, J)
products per batch of m nodes (BLAS in float64).

Error control, made explicit in `IntegralGrams.error`:

1. truncation to [t_lo, t_hi], from rigorous tail bounds (t_lo <= 1/n_max, t_hi >= max(1,
   1/n_min)). Below t_lo every u_c >= 1/2, so sigma >= k/2, and A <= n; above t_hi,
   u_c <= 1/(n_c t), sigma >= s/(2t) (s = sum_c 1/n_c) and A <= k/t. That gives

       int_0^t_lo  |G_M integrand| <= 2 sqrt(t_lo),
       int_0^t_lo  |G_W integrand| <= (2/k)(2n/k + 3 n_max) sqrt(t_lo),
       int_t_hi^inf |G_M integrand| <= max(4/(n_min^2 s), 2/n_min) / sqrt(t_hi),
       int_t_hi^inf |G_W integrand| <= (1/k)((4/3)(k/s + n_max)/n_min^2 + 2) / sqrt(t_hi),

   and t_lo, t_hi are chosen so each is below a quarter of the target;
2. discretization: the step h starts at 2 pi a / log(1/target) with a = 5/2 and is halved
   until two successive trapezoid sums agree to the target; the larger of their differences
   over the entries is reported. Once convergence is geometric (from the first level on here,
   tests/test_routes.py shows the ladder) the finer sum is far more accurate than that
   difference, so it over-estimates the error; it is an estimate, not a bound. A bound is the
   interval route (proofs_check.certificate).

Targets: G_M entrywise relative (every |G_M[i, j]| >= 1/(2 k sqrt(n_max)) by the slack bound of
step 6), 2^-46 in float64 and 10^-(digits + 3) at `digits` digits (computed with the
arithmetic's guard digits in MPFR, as svd.py does); G_W absolute, relative to
max(sqrt(n_max), n/(k sqrt(n_min)))/k, the size of the terms its bracket combines.

>>> from seli_exact.counts import from_counts
>>> g = integral_grams(from_counts([50, 50, 5, 5]))
>>> round(float(g.G_M[0, 2]), 12), g.error["G_M_rel"] < 1e-13
(-0.047673129462, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import gmpy2
import numpy as np

from .arithmetic import MPFR, Arithmetic, Float64, MPMath, arithmetic
from .counts import ClassCounts
from .errors import SeliInputError

# Half-width of the strip used to predict the first step (the true strip is pi wide).
STRIP = 2.5
FLOAT64_TARGET = 2.0**-46
MAX_LEVELS = 8


@dataclass(frozen=True, eq=False)
class IntegralGrams:
    """G_W and G_M (k, k) by quadrature of step 5's integrals, with the error control used.

    `error`: "G_M_rel" (entrywise relative estimate: tails + discretization, over the smallest
    possible |G_M| entry), "G_W_abs" (absolute estimate), "tail_M", "tail_W" (rigorous tail
    bounds, absolute), "discretization_M", "discretization_W" (last-level differences),
    "target_rel", "nodes", "step", "levels", "log_t_range".
    """

    counts: ClassCounts
    arithmetic: Arithmetic
    G_W: np.ndarray  # (k, k)
    G_M: np.ndarray  # (k, k)
    error: dict = field(default_factory=dict)


def integral_grams(counts: ClassCounts, arith: str | Arithmetic = "float64",
                   digits: int | None = None) -> IntegralGrams:
    """G_W and G_M from step 5's integrals (module doc), in float64 or mpmath at `digits`."""
    ar = arithmetic(arith, digits)
    if isinstance(ar, Float64):
        work, target = ar, FLOAT64_TARGET
    elif isinstance(ar, MPMath):
        work, target = MPFR(ar.ctx.prec), 10.0 ** -(ar.digits + 3)
    else:
        raise SeliInputError(
            f"the integral route runs in float64 or mpmath; got arithmetic {ar.name!r}. "
            "Use route='secular' for exact algebra."
        )
    blocks = counts.blocks()
    a = [value for value, _ in blocks]  # distinct counts, ascending
    r = [len(classes) for _, classes in blocks]
    k, n = counts.k, counts.n
    s = sum(rj / aj for aj, rj in zip(a, r))
    a_min, a_max = a[0], a[-1]

    # Tails: G_M's against its smallest possible entry 1/(2 k sqrt(n_max)) (slack bound of
    # step 6); G_W's against the smallest of the terms its bracket combines, sqrt(n_min)/k.
    tau_M = target / (2 * k * math.sqrt(a_max)) / 4
    tau_W = target * math.sqrt(a_min) / k / 4
    c_lo_M, c_lo_W = 2.0, (2 / k) * (2 * n / k + 3 * a_max)
    c_hi_M = max(4 / (a_min**2 * s), 2 / a_min)
    c_hi_W = ((4 / 3) * (k / s + a_max) / a_min**2 + 2) / k
    log_t_lo = min(-math.log(a_max), 2 * math.log(tau_M / c_lo_M), 2 * math.log(tau_W / c_lo_W))
    log_t_hi = max(-math.log(a_min), 0.0, 2 * math.log(c_hi_M / tau_M),
                   2 * math.log(c_hi_W / tau_W))
    tail_M = c_lo_M * math.exp(log_t_lo / 2) + c_hi_M * math.exp(-log_t_hi / 2)
    tail_W = c_lo_W * math.exp(log_t_lo / 2) + c_hi_W * math.exp(-log_t_hi / 2)

    # the first step, a power of two so that every node x_lo + q h is exact in binary
    h0 = 2.0 ** math.floor(math.log2(2 * math.pi * STRIP / math.log(1 / target)))
    x_lo = math.floor(log_t_lo / h0) * h0
    count0 = int(math.ceil((log_t_hi - x_lo) / h0))

    with work.scope():
        sums = _Sums(work, a, r)
        sums.add(_nodes(work, x_lo, h0, np.arange(count0 + 1)), ends=True)
        previous = sums.totals(h0)
        levels, ladder = 0, []
        while True:
            levels += 1
            h = h0 / 2**levels
            sums.add(_nodes(work, x_lo, h, 2 * np.arange(count0 * 2 ** (levels - 1)) + 1))
            current = sums.totals(h)
            # G_M: every integrand is positive, so each entry is judged relative to itself;
            # G_W: each entry relative to the terms its bracket combines (its rounding scale)
            disc_M = max(_max_ratio(work, c - p, c) for c, p in zip(current[:2], previous[:2]))
            disc_W = _max_ratio(work, current[2] - previous[2], current[3])
            ladder.append(disc_M)
            if (disc_M <= target and disc_W <= target) or levels >= MAX_LEVELS:
                break
            previous = current
        if disc_M > target or disc_W > target:
            raise ArithmeticError(
                f"integral route: the trapezoid ladder did not settle in {MAX_LEVELS} halvings "
                f"(relative differences {disc_M:.3g} for G_M, {disc_W:.3g} for G_W)"
            )
        pi = np.pi if isinstance(work, Float64) else gmpy2.const_pi()
        M_off, M_diag = -current[0] / pi, current[1] / pi  # (J, J), (J,)
        W_block = current[2] / (work.number(k) * pi)  # (J, J), without sqrt(n_i) on the diagonal
        smallest_M = min(_min_abs(work, M_off), _min_abs(work, M_diag))
        disc_W_abs = disc_W * _max_abs(work, current[3]) / (k * math.pi)

    if isinstance(ar, MPMath):
        convert = np.frompyfunc(ar.from_mpfr, 1, 1)
        M_off, M_diag, W_block = (convert(x).astype(object) for x in (M_off, M_diag, W_block))
    block_of_class = np.empty(k, dtype=int)
    for j, (_, classes) in enumerate(blocks):
        block_of_class[list(classes)] = j
    spread = np.ix_(block_of_class, block_of_class)
    G_M = M_off[spread]
    G_M[np.diag_indices(k)] = M_diag[block_of_class]
    G_W = W_block[spread]
    roots = ar.sqrt(ar.array(a))
    G_W[np.diag_indices(k)] += roots[block_of_class]
    error = {
        "target_rel": target,
        "G_M_rel": disc_M + tail_M / math.pi / smallest_M,
        "G_W_abs": disc_W_abs + tail_W / math.pi,
        "tail_M": tail_M / math.pi,
        "tail_W": tail_W / math.pi,
        "discretization_M_rel": disc_M,
        "discretization_W_abs": disc_W_abs,
        "nodes": int(count0 * 2**levels + 1),
        "step": h,
        "levels": levels,
        "ladder_M": ladder,  # G_M's relative difference between successive halvings
        "log_t_range": [x_lo, x_lo + count0 * h0],
    }
    return IntegralGrams(counts, ar, G_W, G_M, error)


def _nodes(work: Arithmetic, x_lo: float, h: float, q: np.ndarray) -> np.ndarray:
    """x_lo + q h for integer q (exact: x_lo and h are binary fractions)."""
    x = x_lo + q.astype(float) * h
    if isinstance(work, Float64):
        return x
    return np.array([gmpy2.mpfr(v) for v in x.tolist()], dtype=object)


class _Sums:
    """Running sums over nodes of the five integrands, per pair of distinct counts."""

    def __init__(self, work: Arithmetic, a: list[int], r: list[int]):
        self.work = work
        self.float = isinstance(work, Float64)
        self.A = work.array(a)  # (J,)
        self.R = work.array(r)  # (J,)
        J = len(a)
        # row p: the multiplicities with class p itself left out, for sigma - u_p as a sum of
        # positive terms (no cancellation when u_p dominates sigma)
        others = np.array([[r[j] - (j == p) for j in range(J)] for p in range(J)])
        self.others = work.from_ints(others)  # (J, J)
        zero = work.number(0)
        self.off = np.full((J, J), zero, dtype=work.dtype)
        self.diag = np.full(J, zero, dtype=work.dtype)
        self.w1 = np.full((J, J), zero, dtype=work.dtype)
        self.w2 = np.full((J, J), zero, dtype=work.dtype)
        self.w3 = np.full((J, J), zero, dtype=work.dtype)
        self.batch = max(1, 2_000_000 // J) if self.float else max(1, 20_000 // J)

    def add(self, x: np.ndarray, ends: bool = False) -> None:
        weights = None
        if ends:  # trapezoid: half weight at the two ends of the first level
            weights = np.full(len(x), self.work.number(1), dtype=self.work.dtype)
            weights[0] = weights[-1] = self.work.number(1) / self.work.number(2)
        for start in range(0, len(x), self.batch):
            part = x[start : start + self.batch]
            self._add(part, None if weights is None else weights[start : start + self.batch])

    def _add(self, x: np.ndarray, weights) -> None:
        exp = np.exp if self.float else np.frompyfunc(gmpy2.exp, 1, 1)
        t = exp(x)  # (m,)
        root = exp(x / 2)  # sqrt(t): the measure dt / sqrt(t) is e^{x/2} dx
        if weights is not None:
            root = root * weights
        U = 1 / (1 + self.A[:, None] * t[None, :])  # (J, m): u_c(t) per distinct count
        sigma = self.R @ U  # (m,)
        A_t = (self.R * self.A) @ U  # (m,)
        w = root / sigma
        self.off += (U * w[None, :]) @ U.T
        self.diag += ((self.others @ U) * U * w[None, :]).sum(axis=1)
        self.w1 += (U * (w * A_t)[None, :]) @ U.T
        self.w2 += (U * root[None, :]) @ U.T
        self.w3 += (U * (root * t)[None, :]) @ U.T

    def totals(self, h: float):
        """At step h (without the 1/pi): the G_M off-diagonal (J, J) and diagonal (J,)
        integrals, the G_W bracket integral (J, J), and the size of the G_W terms (J, J)."""
        hw = h if self.float else self.work.number(0) + h
        A = self.A
        pair_sum, pair_prod = A[:, None] + A[None, :], A[:, None] * A[None, :]
        W = self.w1 - pair_sum * self.w2 - pair_prod * self.w3
        size = self.w1 + pair_sum * self.w2 + pair_prod * self.w3  # sums of positive terms
        return hw * self.off, hw * self.diag, hw * W, hw * size


def _max_ratio(work: Arithmetic, num: np.ndarray, den: np.ndarray) -> float:
    """max |num| / |den| entrywise (den > 0: sums of positive terms)."""
    if isinstance(work, Float64):
        return float(np.max(np.abs(num) / np.abs(den)))
    return float(max(abs(x) / abs(y) for x, y in zip(np.ravel(num), np.ravel(den))))


def _max_abs(work: Arithmetic, x: np.ndarray) -> float:
    if isinstance(work, Float64):
        return float(np.max(np.abs(x)))
    return float(max(abs(v) for v in np.ravel(x)))


def _min_abs(work: Arithmetic, x: np.ndarray) -> float:
    if isinstance(work, Float64):
        return float(np.min(np.abs(x)))
    return float(min(abs(v) for v in np.ravel(x)))
