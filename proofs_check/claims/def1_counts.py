"""Definition 1 and the count models every claim and command draws its instances from.

Every other claim takes its class counts from seli_exact.counts; a wrong count model would leave
each of them verified (the theorems hold for every count vector) while checking, and reporting,
other data than the user asked for. So the models are judged against their definitions, exactly:

* (R, rho)-STEP (Definition 1): (1 - rho) k majority classes of R n_min examples, then rho k
  minority classes of n_min, from `step` and from `--profile step:...`;
* Sec. 5's choice of n_min "so that n is about 400": among every admissible n_min (R n_min whole)
  none gives an n nearer the target (ties either way), by enumeration;
* the exponential long tail (`long_tailed`, `--profile exp:...`), n_c = floor(n_max
  ratio^(-c/(k-1))), c = 0..k-1, as CIFAR-10-LT builds it (Cao et al. 2019): with ratio = p/q,
  n_c is the largest m with m^(k-1) p^c <= n_max^(k-1) q^c, decided here in integers (the
  library decides it by logarithms with error bounds); and CIFAR-10-LT's published counts at
  ratio 100. An integer check whose operands would exceed BIT_BUDGET bits is undecided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from seli_exact import ClassCounts, long_tailed, parse_profile, step, step_near_n
from seli_exact.verdict import Verdict

from ..evidence import failed_row, proven_row, undecided_row, verdict

ID = "def1.counts"
REFERENCE = "Definition 1, Sec. 5 (n about 400), the long-tail profile of CIFAR-10-LT"
STATEMENT = ("The count models give the counts they define: (R, rho)-STEP, n_min nearest the "
             "target n, and the exponential long tail n_c = floor(n_max ratio^(-c/(k-1)))")
PROFILES = ("quick", "thorough")
ORDER = 5
ROUTES: tuple[str, ...] = ()

# The largest integer (in bits) the exact long-tail check forms, m^(k-1) p^c against
# n_max^(k-1) q^c: a budget of time, not a tolerance (2^20 bits: milliseconds per comparison).
BIT_BUDGET = 2**20

# CIFAR-10-LT at imbalance ratio 100 (Cao et al. 2019; Cui et al. 2019), as published
CIFAR10_LT_100 = (5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50)


@dataclass(frozen=True)
class StepCase:
    k: int
    R: Fraction
    rho: Fraction
    n_min: int
    got: tuple[int, ...]  # the library's counts
    source: str  # "step" or the profile spec it was parsed from


@dataclass(frozen=True)
class NearCase:
    k: int
    R: Fraction
    rho: Fraction
    n_target: int
    got: tuple[int, ...]  # step_near_n's counts


@dataclass(frozen=True)
class TailCase:
    k: int
    ratio: Fraction
    n_max: int
    got: tuple[int, ...]  # long_tailed's counts (or a parsed exp profile's)
    source: str
    published: tuple[int, ...] | None = None  # the counts as printed, where they were


Case = StepCase | NearCase | TailCase


def step_case(k, R, rho, n_min, spec: str | None = None) -> StepCase:
    got = parse_profile(spec) if spec else step(k, R, rho, n_min)
    return StepCase(k, Fraction(R), Fraction(rho), n_min, got.counts, spec or "step")


def near_case(k, R, rho, n_target) -> NearCase:
    return NearCase(k, Fraction(R), Fraction(rho), n_target, step_near_n(k, R, rho, n_target).counts)


def tail_case(k, ratio, n_max, spec: str | None = None, published=None) -> TailCase:
    got = parse_profile(spec) if spec else long_tailed(k, ratio, n_max)
    return TailCase(k, Fraction(ratio), n_max, got.counts, spec or "long_tailed", published)


def cases(profile: str) -> list[Case]:
    out: list[Case] = [
        step_case(4, 10, "1/2", 5), step_case(10, 100, "3/10", 2), step_case(6, "5/2", "1/3", 4),
        step_case(3, 1, "1/3", 7), step_case(5, 3, "4/5", 2),
        step_case(4, 10, "1/2", 5, "step:k=4:R=10:rho=1/2:n_min=5"),
        step_case(6, "7/2", "1/2", 2, "step:k=6:R=7/2:rho=1/2:n_min=2"),
    ]
    out += [near_case(4, R, "1/2", 400) for R in (1, 5, 10, 100)]
    out += [near_case(10, "7/2", "3/10", 1000), near_case(6, 3, "1/3", 50), near_case(4, 1000, "1/4", 400)]
    out += [
        tail_case(10, 100, 5000, published=CIFAR10_LT_100),
        tail_case(10, 100, 5000, "exp:k=10:ratio=100", published=CIFAR10_LT_100),
        tail_case(10, 10, 5000), tail_case(5, 16, 160), tail_case(100, "7/3", 999),
        tail_case(1000, 256, 1280, "exp:k=1000:ratio=256:n_max=1280"),
    ]
    if profile == "thorough":
        out += [step_case(20, 50, "1/4", 3), near_case(20, 50, "1/4", 10_000),
                tail_case(3000, 1000, 50_000), tail_case(64, "9/2", 2**40)]
    return out


# --------------------------------------------------------------------------- the definitions
def definition1(k: int, R: Fraction, rho: Fraction, n_min: int) -> tuple[int, ...] | None:
    """Definition 1's counts, majorities first; None when (1 - rho) k or R n_min is not whole."""
    majorities, big = (1 - rho) * k, R * n_min
    if majorities.denominator != 1 or big.denominator != 1:
        return None
    return (int(big),) * int(majorities) + (n_min,) * (k - int(majorities))


def nearest_n_mins(k: int, R: Fraction, rho: Fraction, n_target: int) -> set[int]:
    """Every admissible n_min (at least 1, R n_min whole) whose n is nearest n_target."""
    per = (1 - rho) * k * R + rho * k  # examples per unit of n_min
    step_ = R.denominator
    top = (int(2 * n_target / per) // step_ + 2) * step_  # beyond it n only moves away
    gaps = {m: abs(per * m - n_target) for m in range(step_, top + 1, step_)}
    best = min(gaps.values())
    return {m for m, g in gaps.items() if g == best}


def _tail_rows(case: TailCase) -> list[dict]:
    k, p, q, n_max, got = case.k, case.ratio.numerator, case.ratio.denominator, case.n_max, case.got
    name = f"exp tail k={k} ratio={case.ratio} n_max={n_max} ({case.source})"
    rows = []
    if case.published is not None:
        rows.append(proven_row(f"{name}: the published counts") if got == case.published
                    else failed_row(f"{name}: the published counts", f"got {got}"))
    if len(got) != k:
        return rows + [failed_row(name, f"{len(got)} counts for k={k}")]
    e = k - 1
    bits = e * (max(got[0], n_max) + 1).bit_length() + e * (p.bit_length() + q.bit_length())
    if bits > BIT_BUDGET:
        return rows + [undecided_row(name, f"the integer check needs {bits} bits, more than "
                                           f"{BIT_BUDGET}")]
    ceiling = n_max**e
    wrong = next((c for c, m in enumerate(got)
                  if not (m >= 1 and m**e * p**c <= ceiling * q**c < (m + 1)**e * p**c)), None)
    if wrong is None:
        rows.append(proven_row(name))
    else:
        rows.append(failed_row(name, f"n_{wrong} = {got[wrong]} is not floor(n_max ratio^(-c/(k-1)))"))
    return rows


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, StepCase):
            name = f"({case.R}, {case.rho})-STEP k={case.k} n_min={case.n_min} ({case.source})"
            want = definition1(case.k, case.R, case.rho, case.n_min)
            rows.append(proven_row(name) if want is not None and case.got == want
                        else failed_row(name, f"got {case.got}, Definition 1 gives {want}"))
        elif isinstance(case, NearCase):
            name = f"({case.R}, {case.rho})-STEP k={case.k} nearest n={case.n_target}"
            best = nearest_n_mins(case.k, case.R, case.rho, case.n_target)
            n_min = min(case.got) if case.got else 0
            ok = n_min in best and case.got == definition1(case.k, case.R, case.rho, n_min)
            rows.append(proven_row(name, n=sum(case.got)) if ok else
                        failed_row(name, f"got {case.got} (n={sum(case.got)}); the nearest n_min "
                                         f"are {sorted(best)}"))
        else:
            rows += _tail_rows(case)
    return verdict(ID, rows, kind="residual")


def planted() -> dict[str, list[Case]]:
    fig1, near, tail = step_case(4, 10, "1/2", 5), near_case(4, 100, "1/2", 400), tail_case(10, 100, 5000)
    lt = long_tailed(10, 100, 5000).counts
    return {
        "STEP with the minorities first": [replace(fig1, got=fig1.got[::-1])],
        "STEP with rho k majorities": [replace(fig1, got=(50, 5, 5, 5))],
        "n_min floored, not nearest (n = 202 for 400)": [replace(near, got=(100, 100, 1, 1))],
        "the long tail's exponent c/k": [replace(tail, got=tuple(
            int(5000 * 100 ** (-c / 10)) for c in range(10)))],
        "the long tail rounded, not floored": [replace(tail, got=tuple(
            round(5000 * 100 ** (-c / 9)) for c in range(10)))],
        "one tail count off by one": [replace(tail, got=lt[:5] + (lt[5] + 1,) + lt[6:])],
        "CIFAR-10-LT's counts misprinted": [replace(tail, published=CIFAR10_LT_100[:-1] + (51,))],
    }


def undecided() -> dict[str, list[Case]]:
    # 200,000 classes: the integer check would form numbers of millions of bits
    big = TailCase(200_000, Fraction(2), 2**40, (2**40,) * 200_000, "constructed")
    return {"a tail too large for the integer check": [big]}
