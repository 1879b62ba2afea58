"""Every tolerance a judge uses, in one place, each derived from the working precision or from
the accuracy a solver certifies, with the reason for its size.

Judges never read a tolerance from a case (a wrong input could carry a loose one): each judge
calls these functions with what it knows about the case (its counts, its arithmetic, which
route produced it). tests/test_soundness_tolerances.py puts a residual just inside each one
(verified) and just outside an independently stated bound (refuted), so loosening any of them
makes a test fail.

Units. u = 2^-53 is float64's unit roundoff; RTOL64 = seli_exact.precision.default_rtol(float64)
= 2^-43 = 2^10 u is the suite's relative tolerance for one float64 result (ten bits of headroom
over a single rounding). High-precision routes run at DIGITS decimal digits and are compared at
mp(DIGITS) = 10^-(DIGITS - 5).

>>> from seli_exact import step
>>> lapack(step(4, 10, "1/2", 5)) == RTOL64 * 5 * 10
True
>>> decidable(1e-2), decidable(1e-9)
(False, True)
"""

from __future__ import annotations

import math

from derivations.verify import float64_tol, mp_tol
from seli_exact import ClassCounts, arithmetic, default_rtol

UNIT_ROUNDOFF = 2.0**-53
RTOL64 = default_rtol(arithmetic("float64"))  # 2^-43

# Working precision of the high-precision routes (mpmath candidates, eigsy references).
DIGITS = 50

# A comparison whose tolerance is above this cannot tell a 0.1 % error from agreement: its
# "agreement" decides nothing, and the row is undecided (see evidence.residual_row).
UNDECIDABLE = 1e-3


def decidable(tol: float) -> bool:
    """Whether a comparison at relative tolerance `tol` can decide anything (tol <= UNDECIDABLE)."""
    return tol <= UNDECIDABLE


def float64(k: int) -> float:
    """A float64 result of O(k) dense operations on O(1) data (Gram products, projections):
    RTOL64 (k + 1), about one rounding per dimension (derivations.verify.float64_tol)."""
    return float64_tol(k)


def nc4_tie(size: int) -> float:
    """NC4 of `seli measure` (sec5.metrics): a decision whose best and second-best scores (logits,
    or squared distances to the class means) differ by at most 10^2 float64(size), relative to
    the largest score, is a near tie. The library and the judge form the scores in different
    orders (d-term dot products over features of `size` entries), so a disagreement there decides
    nothing: the row is undecided."""
    return 1e2 * float64(size)


def condition(counts: ClassCounts) -> float:
    """max n_c / min n_c: the condition number of P D P on its range 1^perp."""
    return max(counts.counts) / min(counts.counts)


def lapack(counts: ClassCounts) -> float:
    """A quantity read off LAPACK's eigen-decomposition of P D P (or numpy's dense SVD of Zhat):
    RTOL64 (k + 1) cond(P D P). Eigenvectors are accurate to about u ||P D P|| / gap, and the
    gaps between eigenvalues are at least of the order of the smallest count; k + 1 roundings per
    dimension as in float64()."""
    return RTOL64 * (counts.k + 1) * condition(counts)


def mp(digits: int = DIGITS) -> float:
    """A comparison at `digits` decimal digits: 10^-(digits - 5) (derivations.verify.mp_tol):
    five digits of headroom for the rounding of a few hundred operations and guard digits."""
    return mp_tol(digits)


EXACT = 0.0  # exact arithmetic: equal means equal

# --- solvers, judged at the accuracy their stopping rules certify -----------------------------
# solve_ufsvm (ADMM on (5)) stops when its certified relative duality gap AND its primal and
# dual residuals are below ADMM_STOP (its `tol` default). The optimum of (5) is sharp (a norm
# over a polyhedron grows linearly away from a unique minimizer), so the iterate is within a
# modest factor of ADMM_STOP of Zhat; measured 1e-13 .. 1e-11. ADMM_GROWTH allows 10^3.
ADMM_STOP = 1e-11
ADMM_GROWTH = 1e3


def admm() -> float:
    """Values and minimizers from solve_ufsvm: ADMM_STOP * ADMM_GROWTH (= 1e-8)."""
    return ADMM_STOP * ADMM_GROWTH


# proofs_check.local_search runs SLSQP with ftol = SLSQP_FTOL on the relative change of the
# objective; near a smooth minimum the objective is quadratic, so the minimizer (and every Gram
# matrix built from it) is accurate to about the square root.
SLSQP_FTOL = 1e-12


def local() -> float:
    """Solutions of (2) from local search: sqrt(SLSQP_FTOL) (= 1e-6)."""
    return math.sqrt(SLSQP_FTOL)


# cvxpy with SCS at its default accuracy (eps_rel = 1e-4 on the conic residuals) lands within
# about 1e-6 of Zhat and ||Zhat||_* on the small instances it is run on; one decade of margin.
SCS = 1e-5


# --- the regularization path (7) --------------------------------------------------------------
def gap7() -> float:
    """A solution of (7) counts as certified when reduction.certify's relative duality gap (a
    40-digit dual point, independent of the iteration) is below 10^3 RTOL64 (~1e-10); above
    it, judgements that rely on the solution are undecided."""
    return 1e3 * RTOL64


def kkt7(counts: ClassCounts) -> float:
    """First-order optimality of (7) checked independently (proofs_check.kkt7): the residual
    ||-grad L(Z)/lam - U V^T|| relative to ||U V^T||, formed in float64 from the softmax of
    margins (relative accuracy kept for tiny losses) and an eigen-decomposition of M D M^T:
    10^3 RTOL64 cond(counts) (measured 1e-14 .. 1e-11 on the path instances)."""
    return 1e3 * RTOL64 * condition(counts)


def distance_floor() -> float:
    """Proposition 1: a SELI distance must exceed 10^4 RTOL64 (~1e-9) to count as "not SELI";
    distances of certified solutions are accurate to ~1e-13."""
    return 1e4 * RTOL64


def thm2() -> float:
    """Theorem 2: GD's Gram matrices vs those of (8), relative: 10^5 RTOL64 (~1e-8). GD stops at
    ||grad|| <= 1e-11 and the problem's curvature at small lam is ~1e-3, so its iterate is within
    ~1e-8 of a stationary point."""
    return 1e5 * RTOL64


def gd_stationary() -> float:
    """A GD run counts as stationary when ||grad|| <= 10^4 RTOL64 (~1e-9); above it, undecided."""
    return 1e4 * RTOL64


def sec44() -> float:
    """Sec. 4.4: the strong-convexity error bound ||grad + lam Xi|| / (lam ||Xi||) of the linear
    model's candidate: 10^3 RTOL64 (~1e-10); the candidate's scale is a brentq root to 4 u."""
    return 1e3 * RTOL64


def sec44_contrast() -> float:
    """Sec. 4.4's contrast: under imbalance the two-layer solution of (7) must be off the SEL
    direction by more than 10^6 RTOL64 (~1e-7), 10^3 times what a solution on it could show
    (sec44); the measured distances are 1e-2 .. 1e-1."""
    return 1e6 * RTOL64


def minority_floor() -> float:
    """Table 1: 1 - Cos(w_min, w_min') must exceed 10^4 RTOL64 (~1e-9) to count as "no
    collapse"; cosines of certified solutions are accurate to ~1e-13."""
    return 1e4 * RTOL64


# Prop. 2's rate: the smallest local exponent p_j = -d log err / d log log(1/lam) accepted along
# the tail of lam = 1e-1 .. 1e-8. Not a precision: the paper states no rate; the measured local
# exponents of (7) are 0.43 .. 0.82 (0.70 .. 0.82 on the judged tail), and a plateau err -> a > 0
# drives them to 0. A judgement call placed well below the measurements.
PROP2_MIN_EXPONENT = 0.25

# Lemma A.1 (v) at LEMMA_A1V_DIGITS digits: softmax - e_c cancels about alpha / ln 10 digits
# (alpha <= 30 here, 13 digits), so half the working digits remain.
LEMMA_A1V_DIGITS = 80


def lemma_a1v(digits: int = LEMMA_A1V_DIGITS) -> float:
    """Relative residual bound of grad L(alpha Zhat) + alpha' Zhat at `digits` digits:
    10^-(digits // 2)."""
    return 10.0 ** -(int(digits) // 2)


def slack_tightness() -> float:
    """Step 6 of Theorem 1 for any counts (derivations/any_counts.py): the slack bound judged
    must come within 10^-6 of -G_M[i, j] somewhere on proofs_check.any_counts_steps'
    tightness family, or it is not the best bound in k, n_i, n_j alone. Mathematics, not
    precision: F_k is approached as the pair's counts grow against the others', on the
    family's members (N^2, N, 1, ..., 1) with relative gap about 2 / N^{3/2} (measured
    1.3e-9 for k = 3 and 1.1e-9 for k = 6 at N = 10^6, in interval arithmetic); 10^-6 sits
    three decades above that and three below a bound 0.1 % weaker. The same tolerance holds the
    simple bound's constant to F_k's infimum, read off F_k at n_i / n_j = 10^40, where the two
    differ by O(10^-20)."""
    return 1e-6


def remark32(k: int, R) -> float:
    """Remark 3.2 at a finite R: sqrt(R) (1 - Cos) / (sqrt(2) k) = 1 - sqrt(2)(k - 2)/sqrt(R) +
    O(1/R) by Eq. (4), so the relative distance to the limit rate is bounded by 2 k / sqrt(R)
    for R >= 100. Mathematics, not precision."""
    return 2 * k / math.sqrt(R)
