"""Remark 3.2: minority collapse as R -> inf, and its slow rate.

From Eq. (4)'s printed minority cosine (derivations.paper.eq_4()): Cos(w_min, w_min') -> 1
(symbolic limit), and 1 - Cos ~ sqrt(2) k / sqrt(R) (the rate the remark calls slow; the
symbolic limit of sqrt(R) (1 - Cos) must be exactly sqrt(2) k). Then the SELI geometry itself,
computed by seli_exact at 50 digits at R = 10^2 .. 10^8: 1 - Cos decreases, and sqrt(R)(1 - Cos)
approaches sqrt(2) k within the next-order term of Eq. (4) (tolerances.remark32).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy

from derivations import paper, symbols
from seli_exact import seli_geometry, step
from seli_exact.verdict import Verdict

from .. import printed, tolerances
from ..evidence import failed_row, proven_row, residual_row, to_mpf, undecided_row, verdict

ID = "remark3.2"
REFERENCE = "Remark 3.2"
STATEMENT = ("As R -> inf the minority classifiers collapse (Cos -> 1), slowly: "
             "1 - Cos(w_min, w_min') ~ sqrt(2) k / sqrt(R)")
PROFILES = ("quick", "thorough")
ORDER = 70
ROUTES = ("structured_svd",)


@dataclass(frozen=True, eq=False)
class LimitCase:
    printed: sympy.Expr  # the minority cosine, in k, R


@dataclass(frozen=True, eq=False)
class RateCase:
    printed: sympy.Expr


@dataclass(frozen=True, eq=False)
class ApproachCase:
    k: int
    exponents: tuple[int, ...]  # R = 10^j
    one_minus_cos: tuple  # 1 - Cos(w_min, w_min') of seli_exact's geometry at each R, 50 digits


Case = LimitCase | RateCase | ApproachCase


def stated_rate(k):
    """The rate of the remark: sqrt(R) (1 - Cos) -> sqrt(2) k."""
    return sympy.sqrt(2) * k


def _one_minus_cos(k: int, R: int):
    g = seli_geometry(step(k, R, "1/2", 1), "mpmath", tolerances.DIGITS)
    _, mnr = printed.majority_minority(g)
    with mpmath.workdps(tolerances.DIGITS + 10):
        return 1 - to_mpf(g.classifier_cosines[mnr[0], mnr[1]])


def build(cos_min: sympy.Expr, profile: str) -> list[Case]:
    ks = [4] if profile == "quick" else [4, 10]
    exps = (2, 4, 6, 8) if profile == "quick" else (2, 3, 4, 5, 6, 7, 8, 10)
    out: list[Case] = [LimitCase(cos_min), RateCase(cos_min)]
    out += [ApproachCase(k, exps, tuple(_one_minus_cos(k, 10**j) for j in exps)) for k in ks]
    return out


def cases(profile: str) -> list[Case]:
    return build(paper.eq_4()["cos_w_minmin"], profile)


def _limit_row(case: LimitCase) -> dict:
    k, R, _, _ = symbols()
    name = "symbolic: lim Cos(w_min, w_min') = 1"
    lim = sympy.simplify(sympy.limit(case.printed, R, sympy.oo))
    if lim == 1:
        return proven_row(name)
    at4 = sympy.N(lim.subs(k, 4) - 1, 30)  # a limit that is not 1 at k = 4 is not 1
    if at4.is_number and at4 != 0:
        return failed_row(name, f"the limit is {lim}")
    return undecided_row(name, f"limit {lim} not decided")


def _rate_row(case: RateCase) -> dict:
    k, R, _, _ = symbols()
    name = "symbolic: sqrt(R) (1 - Cos) -> sqrt(2) k"
    rate = sympy.simplify(sympy.limit(sympy.sqrt(R) * (1 - case.printed), R, sympy.oo))
    gap = sympy.expand(rate - stated_rate(k))
    if gap == 0:
        return proven_row(name, limit=str(rate))
    at4 = sympy.N(gap.subs(k, 4), 30)
    if at4.is_number and at4 != 0:
        return failed_row(name, f"the limit is {rate}", limit=str(rate))
    return undecided_row(name, f"the limit {rate} is not decided against sqrt(2) k")


def _approach_row(case: ApproachCase) -> dict:
    k, exps, gaps = case.k, case.exponents, case.one_minus_cos
    with mpmath.workdps(tolerances.DIGITS + 10):
        scaled = [float(to_mpf(g) * mpmath.sqrt(10**j)) for g, j in zip(gaps, exps)]
        decreasing = all(to_mpf(a) > to_mpf(b) for a, b in zip(gaps, gaps[1:]))
    target = math.sqrt(2) * k
    err = abs(scaled[-1] - target) / target
    row = residual_row(f"k={k}: sqrt(R)(1 - Cos) at R=1e{exps[-1]}", err,
                       tolerances.remark32(k, 10 ** exps[-1]), scaled=scaled, target=target,
                       decreasing=decreasing)
    row["ok"] = row["ok"] and decreasing
    return row


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, LimitCase):
            rows.append(_limit_row(case))
        elif isinstance(case, RateCase):
            rows.append(_rate_row(case))
        else:
            rows.append(_approach_row(case))
    return verdict(ID, rows, kind="residual")


def planted() -> dict[str, list[Case]]:
    k, R, _, _ = symbols()
    good = cases("quick")
    approach = [c for c in good if isinstance(c, ApproachCase)][0]
    twice = 1 - 2 * k / (k - 2 + sympy.sqrt((R + 1) / sympy.Integer(2)))
    return {
        "the majority cosine (no collapse)": [LimitCase(paper.eq_4()["cos_w_majmaj"])],
        "collapse at twice the stated rate": [RateCase(twice)],
        "a geometry whose gap stalls at the last R": [
            ApproachCase(approach.k, approach.exponents,
                         approach.one_minus_cos[:-1] + (approach.one_minus_cos[-2],))],
        "a geometry 1% off the rate": [
            ApproachCase(approach.k, approach.exponents,
                         tuple(g * mpmath.mpf("1.01") for g in approach.one_minus_cos))],
    }


def undecided() -> dict[str, list[Case]]:
    k, R, _, _ = symbols()
    good = paper.eq_4()["cos_w_minmin"]
    # the gap scaled by an unknown factor c(k): the rate sqrt(2) k c(k) cannot be decided
    # against sqrt(2) k, and nothing refutes it
    unknown = 1 - (1 - good) * sympy.Function("c")(k)
    return {"a rate with an unknown factor": [RateCase(unknown)]}
