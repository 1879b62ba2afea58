"""Class-count models: (R, rho)-STEP (Definition 1), an arbitrary vector of counts, long tails.

Where counts come from, as the CLI names them: --k/--R/--rho/--n-min (STEP), --counts 50,50,5,5,
--counts-file F (one count per line, or a JSON list) and --profile exp:k=K:ratio=R[:n_max=N]
(parse_profile).

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

# The most classes any model here takes: the dense (k, k) Gram matrices cost 8 k^2 bytes each.
MAX_CLASSES = 100_000


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
        p = self.params
        if self.model == "step":
            return f"({p['R']}, {p['rho']})-STEP, k={self.k}, n_min={p['n_min']}, n={self.n}"
        if self.model == "exp":
            return (f"exp long tail, k={self.k}, ratio={_dec(p['ratio'])}, n_max={p['n_max']}, "
                    f"n={self.n}")
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


def long_tailed(k, ratio, n_max=5000) -> ClassCounts:
    """Exponential long tail, as CIFAR-10-LT builds its profile (Cao et al., LDAM):
    n_c = floor(n_max * ratio^(-c/(k-1))) for c = 0..k-1, so n_0 = n_max and n_{k-1} = n_max/ratio.

    The floor is taken exactly (integer arithmetic on m^(k-1) ratio^c <= n_max^(k-1)), so the
    counts do not depend on floating-point rounding; they agree with CIFAR-10-LT's published
    counts.

    >>> long_tailed(10, 100).counts
    (5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50)
    """
    k = whole("k", k, minimum=2, maximum=MAX_CLASSES, fix="The model needs at least two classes.")
    ratio = rational("ratio", ratio, fix="ratio is n_max / n_min, e.g. 100.")
    if ratio < 1:
        raise SeliInputError(
            f"`ratio` must be at least 1 (the head class is the largest); got ratio={_dec(ratio)}. "
            "Use ratio=1 for balanced data."
        )
    n_max = whole("n_max", n_max, minimum=1, fix="n_max is the size of the largest class, e.g. 5000.")
    if ratio > n_max:
        raise SeliInputError(
            f"`ratio` must be at most `n_max` so that every class keeps an example; got "
            f"ratio={_dec(ratio)}, n_max={n_max}. Raise n_max or lower the ratio."
        )
    p, q = ratio.numerator, ratio.denominator
    e = k - 1
    counts = []
    for c in range(k):
        # largest m with (m / n_max)^(k-1) <= (q / p)^c, i.e. m^e p^c <= n_max^e q^c
        bound = n_max**e * q**c
        lo, hi = 0, n_max  # m = n_max * (q/p)^(c/e) <= n_max
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if mid**e * p**c <= bound:
                lo = mid
            else:
                hi = mid - 1
        counts.append(lo)
    return ClassCounts(tuple(counts), "exp", {"k": k, "ratio": ratio, "n_max": n_max})


# profile name -> (function, parameters in order, required parameters)
PROFILES = {
    "exp": (long_tailed, ("k", "ratio", "n_max"), ("k", "ratio")),
    "step": (step, ("k", "R", "rho", "n_min"), ("k", "R", "rho", "n_min")),
}
PROFILE_HELP = (
    "a count profile: exp:k=K:ratio=R[:n_max=N] (n_c = floor(N R^(-c/(K-1))), CIFAR-10-LT's rule; "
    "N defaults to 5000) or step:k=K:R=R:rho=RHO:n_min=N (Definition 1)"
)


def parse_profiles(spec: str) -> list[ClassCounts]:
    """Every ClassCounts named by a profile spec; one parameter may list several values.

    >>> [c.counts for c in parse_profiles("exp:k=3:ratio=1,4:n_max=8")]
    [(8, 8, 8), (8, 4, 2)]
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise SeliInputError(
            f"`profile` must look like exp:k=K:ratio=R[:n_max=N]; got {spec!r}. "
            "Try exp:k=10:ratio=100."
        )
    name, *parts = spec.strip().split(":")
    if name not in PROFILES:
        raise SeliInputError(
            f"`profile` must start with one of {', '.join(PROFILES)}; got {name!r} in {spec!r}. "
            "Try exp:k=10:ratio=100."
        )
    fn, names, required = PROFILES[name]
    given: dict[str, list[str]] = {}
    for part in parts:
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in names or key in given:
            problem = "is given twice" if key in given else "is not one of its parameters"
            raise SeliInputError(
                f"`profile` parameter {part!r} {problem} in {spec!r}; {name} takes "
                f"{', '.join(names)} as name=value. Try {_profile_example(name)}."
            )
        values = [v.strip() for v in value.split(",")]
        if not value.strip() or any(v == "" for v in values):
            raise SeliInputError(
                f"`profile` parameter {key} has an empty value in {spec!r}. "
                f"Try {_profile_example(name)}."
            )
        given[key] = values
    missing = [r for r in required if r not in given]
    if missing:
        raise SeliInputError(
            f"`profile` {spec!r} lacks {', '.join(missing)}. Try {_profile_example(name)}."
        )
    listed = [key for key, v in given.items() if len(v) > 1]
    if len(listed) > 1:
        raise SeliInputError(
            f"`profile` may list several values for one parameter only; {spec!r} lists "
            f"{' and '.join(listed)}. Give a list for one of them."
        )
    key = listed[0] if listed else None
    out = []
    for v in given[key] if key else [None]:
        kw = {n: (v if n == key else given[n][0]) for n in given}
        out.append(fn(**kw))
    return out


def parse_profile(spec: str) -> ClassCounts:
    """The one ClassCounts of a profile spec such as "exp:k=10:ratio=100:n_max=5000"."""
    out = parse_profiles(spec)
    if len(out) != 1:
        raise SeliInputError(
            f"`profile` must name one count vector here; {spec!r} lists {len(out)}. "
            "Give one value per parameter."
        )
    return out[0]


def _profile_example(name: str) -> str:
    return "exp:k=10:ratio=100:n_max=5000" if name == "exp" else "step:k=4:R=10:rho=1/2:n_min=5"


def counts_from_file(path) -> ClassCounts:
    """Class counts from a text file: one whole number per line (blank lines and # comments are
    skipped) or a JSON list of whole numbers."""
    import json
    from pathlib import Path

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} does not exist. Give a file with one class count per line."
        ) from None
    except IsADirectoryError:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} is a folder. Give a file with one class count per line."
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} cannot be read ({type(err).__name__}). Give a readable "
            "text file with one class count per line."
        ) from None
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError as err:
            raise SeliInputError(
                f"`counts-file` {str(path)!r} starts like a JSON list but is not one ({err.msg} at "
                f"line {err.lineno}). Write a list of whole numbers, e.g. [500, 120, 9]."
            ) from None
        if not isinstance(values, list) or any(isinstance(v, (list, dict)) for v in values):
            raise SeliInputError(
                f"`counts-file` {str(path)!r} must hold a flat JSON list of whole numbers. "
                "Write e.g. [500, 120, 9]."
            )
        items = [(f"item {i + 1}", v) for i, v in enumerate(values)]
    else:
        items = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                items.append((f"line {lineno}", line))
    if not items:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} holds no counts. Put one class count per line."
        )
    out = []
    for where, v in items:
        ok = not isinstance(v, (bool, float)) or (isinstance(v, float) and v.is_integer())
        try:
            n_c = whole("count", v, minimum=1) if ok else None
        except SeliInputError:
            n_c = None
        if n_c is None:
            raise SeliInputError(
                f"`counts-file` {str(path)!r} {where}: every class count must be a whole number "
                f">= 1; got {v!r}. Fix that entry."
            )
        out.append(n_c)
    return ClassCounts(tuple(out), "counts", {"file": str(path)})


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
