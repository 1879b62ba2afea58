"""Class-count models: (R, rho)-STEP (Definition 1), an arbitrary vector of counts, long tails.

Examples are ordered by class (Section 2): the first n_1 examples have label 0, and so on.

>>> c = step(k=4, R=10, rho="1/2", n_min=5)   # the paper's Fig 1 case
>>> c.counts, c.n
((50, 50, 5, 5), 110)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .errors import SeliInputError
from .validate import rational, whole


@dataclass(frozen=True)
class ClassCounts:
    """Number of training examples of each class, n_c >= 1, in label order.

    `model` names where the counts came from ("step", "counts", "long_tail") and `params`
    holds that model's exact parameters (Fractions for R and rho).
    """

    counts: tuple[int, ...]
    model: str = "counts"
    params: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if len(self.counts) < 2:
            raise SeliInputError(
                f"`counts` must name at least 2 classes; got {list(self.counts)}. "
                "Give one count per class, e.g. 50,50,5,5."
            )
        for c, n_c in enumerate(self.counts):
            if not isinstance(n_c, int) or isinstance(n_c, bool) or n_c < 1:
                raise SeliInputError(
                    f"every class count must be a whole number >= 1; got {n_c!r} for class {c}. "
                    "Drop empty classes or fix the count."
                )

    @property
    def k(self) -> int:
        return len(self.counts)

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def is_balanced(self) -> bool:
        return len(set(self.counts)) == 1

    @property
    def imbalance_ratio(self) -> Fraction:
        """R = max n_c / min n_c."""
        return Fraction(max(self.counts), min(self.counts))

    def labels(self) -> np.ndarray:
        """y, shape (n,): class c repeated n_c times (majorities first for STEP)."""
        return np.repeat(np.arange(self.k), self.counts)

    def blocks(self) -> list[tuple[int, tuple[int, ...]]]:
        """Distinct counts ascending, each with the classes that have it: [(a_j, classes)]."""
        by_value: dict[int, list[int]] = {}
        for c, n_c in enumerate(self.counts):
            by_value.setdefault(n_c, []).append(c)
        return [(a, tuple(by_value[a])) for a in sorted(by_value)]

    def groups(self) -> dict[str, tuple[int, ...]]:
        """Majority and minority classes: for STEP as in Definition 1; otherwise by max/min count."""
        hi, lo = max(self.counts), min(self.counts)
        return {
            "majority": tuple(c for c, n_c in enumerate(self.counts) if n_c == hi),
            "minority": tuple(c for c, n_c in enumerate(self.counts) if n_c == lo),
        }

    def describe(self) -> str:
        if self.model == "step":
            p = self.params
            return f"({p['R']}, {p['rho']})-STEP, k={self.k}, n_min={p['n_min']}, n={self.n}"
        return f"counts {list(self.counts)}, k={self.k}, n={self.n}"


def step(k, R, rho, n_min) -> ClassCounts:
    """(R, rho)-STEP imbalance, Definition 1: (1-rho)k majorities of R*n_min, then rho*k minorities."""
    k = whole("k", k, minimum=2, fix="The model needs at least two classes.")
    R = rational("R", R, fix="R is the imbalance ratio, e.g. 10.")
    if R < 1:
        raise SeliInputError(
            f"`R` must be at least 1 (majorities have R times the minority size); got R={R}. "
            "Use R=1 for balanced data."
        )
    rho = rational("rho", rho, fix="rho is the minority fraction, e.g. 0.5.")
    if not 0 < rho < 1:
        raise SeliInputError(
            f"`rho` must lie strictly between 0 and 1; got rho={rho}. Try rho=1/2."
        )
    n_min = whole("n_min", n_min, minimum=1, fix="n_min is the size of a minority class.")
    s = rho * k
    if s.denominator != 1:
        good = sorted({Fraction(j, k) for j in range(1, k)}, key=lambda q: abs(q - rho))[:2]
        raise SeliInputError(
            f"`rho` * `k` must be a whole number of minority classes; got rho={_dec(rho)}, k={k} "
            f"({_dec(s)} classes). Try rho={' or rho='.join(_dec(q) for q in good)}."
        )
    n_maj = R * n_min
    if n_maj.denominator != 1:
        raise SeliInputError(
            f"`R` * `n_min` must be a whole number of majority examples; got R={_dec(R)}, "
            f"n_min={n_min} ({_dec(n_maj)} examples). Choose n_min a multiple of {R.denominator}."
        )
    s = int(s)
    m = k - s
    counts = (int(n_maj),) * m + (n_min,) * s
    return ClassCounts(counts, "step", {"k": k, "R": R, "rho": rho, "n_min": n_min, "m": m, "s": s})


def step_near_n(k, R, rho, n_target) -> ClassCounts:
    """(R, rho)-STEP with n_min chosen so that n = ((1-rho) k R + rho k) n_min is nearest
    n_target (Sec. 5: "we select n_min so that n = ((R + 1)/2) k n_min is about 400"); n_min is
    at least 1 and a multiple of R's denominator, so R n_min is whole.

    >>> [step_near_n(4, R, "1/2", 400).counts for R in (1, 10, 100)]
    [(100, 100, 100, 100), (180, 180, 18, 18), (200, 200, 2, 2)]
    """
    R = rational("R", R, fix="R is the imbalance ratio, e.g. 10.")
    rho = rational("rho", rho, fix="rho is the minority fraction, e.g. 0.5.")
    n_target = whole("n_target", n_target, minimum=1, fix="Try 400.")
    k = whole("k", k, minimum=2, fix="The model needs at least two classes.")
    per = (1 - rho) * k * R + rho * k  # examples per unit of n_min
    den = R.denominator  # R n_min must be whole
    n_min = max(1, round(Fraction(n_target) / (per * den))) * den
    return step(k, R, rho, n_min)


def from_counts(values) -> ClassCounts:
    """An arbitrary vector of counts, from a sequence or from text like "50,50,5,5"."""
    if isinstance(values, str):
        parts = [p for p in values.replace(" ", "").split(",") if p != ""]
        if not parts:
            raise SeliInputError(
                f"`counts` must be a comma-separated list of class sizes; got {values!r}. "
                "Try --counts 50,50,5,5."
            )
        values = parts
    out = []
    for c, v in enumerate(values):
        try:
            n_c = whole(f"counts[{c}]", v)
        except SeliInputError:
            raise SeliInputError(
                f"every class count must be a whole number >= 1; got {v!r} for class {c}. "
                "Give positive integers, e.g. 50,50,5,5."
            ) from None
        out.append(n_c)
    return ClassCounts(tuple(out), "counts", {})


def long_tailed(k, R, n_max) -> ClassCounts:
    """Exponential profile n_c = floor(n_max * R^(-c/(k-1))), c = 0..k-1, so n_0/n_{k-1} ~ R."""
    k = whole("k", k, minimum=2, fix="The model needs at least two classes.")
    R = rational("R", R, fix="R is the imbalance ratio, e.g. 10.")
    if R < 1:
        raise SeliInputError(f"`R` must be at least 1; got R={R}. Use R=1 for balanced data.")
    n_max = whole("n_max", n_max, minimum=1, fix="n_max is the size of the largest class.")
    counts = tuple(
        max(1, math.floor(n_max * float(R) ** (-c / (k - 1)) + 1e-9)) for c in range(k)
    )
    return ClassCounts(counts, "long_tail", {"k": k, "R": R, "n_max": n_max})


def _dec(q: Fraction) -> str:
    """Short text for a Fraction: '0.25' when it terminates, else '1/3'."""
    if q.denominator == 1:
        return str(q.numerator)
    d = q.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        return format(float(q), "g")
    return f"{q.numerator}/{q.denominator}"
