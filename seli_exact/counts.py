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
from .validate import rational, relative_path, whole

# The most classes any model here takes: the dense (k, k) Gram matrices cost 8 k^2 bytes each.
MAX_CLASSES = 100_000
# The largest class count: counts are float64 numbers in the float64 route, and the secular
# iteration brackets each root by the midpoint of a gap between counts (seli_exact.svd), a
# half-integer that float64 holds exactly only below 2^52 (at 2^53 a gap of 1 has no float64
# midpoint and the iteration stalls; tested in tests/test_counts.py).
MAX_COUNT = 2**52
# A counts file holds at most MAX_CLASSES counts of at most 16 digits, one per line.
MAX_COUNTS_FILE_BYTES = 4_000_000


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
        if len(self.counts) > MAX_CLASSES:
            raise SeliInputError(
                f"`counts` must name at most {MAX_CLASSES:,} classes; got {len(self.counts):,}. "
                "Give fewer classes."
            )
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
            if n_c > MAX_COUNT:
                raise SeliInputError(
                    f"every class count must be at most 2^52 = {MAX_COUNT} (float64 must hold "
                    f"it and the gaps between counts exactly); got {_big(n_c)} for class {c}. "
                    "Scale the counts down; the geometry depends on their ratios."
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
    k = whole("k", k, minimum=2, maximum=MAX_CLASSES, fix="The model needs at least two classes.")
    R_text, rho_text = R, rho
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
    rho = _whole_classes(rho, rho_text, k)
    s = rho * k
    if s.denominator != 1:
        good = sorted({Fraction(j, k) for j in range(1, k)}, key=lambda q: abs(q - rho))[:2]
        raise SeliInputError(
            f"`rho` * `k` must be a whole number of minority classes; got rho={_dec(rho)}, k={k} "
            f"({_dec(s)} classes). Try rho={' or rho='.join(_dec(q) for q in good)}."
        )
    n_maj = R * n_min
    if n_maj > MAX_COUNT:
        raise SeliInputError(
            f"`R` * `n_min` must be at most 2^52 = {MAX_COUNT} majority examples (float64 must "
            f"hold every count exactly); got R={_dec(R)}, n_min={n_min} ({_big(n_maj)}). Lower R "
            "or n_min."
        )
    if n_maj.denominator != 1:
        raise SeliInputError(
            f"`R` * `n_min` must be a whole number of majority examples; got R={_dec(R)}, "
            f"n_min={n_min} ({_dec(n_maj)} examples). Choose n_min a multiple of {R.denominator}."
        )
    s = int(s)
    m = k - s
    counts = (int(n_maj),) * m + (n_min,) * s
    return ClassCounts(counts, "step", {"k": k, "R": R, "rho": rho, "n_min": n_min, "m": m, "s": s})


def _whole_classes(rho: Fraction, given, k: int) -> Fraction:
    """rho as j/k when it was given as a decimal (text or float) whose nearest float64 is the
    float64 nearest j/k: such a decimal cannot be told from j/k in float64, so it means j/k.

    >>> _whole_classes(Fraction("0.3333333333333333"), "0.3333333333333333", 3)
    Fraction(1, 3)
    >>> _whole_classes(Fraction("0.333"), "0.333", 3)
    Fraction(333, 1000)
    """
    if (rho * k).denominator == 1 or not isinstance(given, (str, float)):
        return rho
    j = round(rho * k)
    if 0 < j < k and float(rho) == float(Fraction(j, k)):
        return Fraction(j, k)
    return rho


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
    """An arbitrary vector of counts, from a sequence or from text like "50,50,5,5".

    In text, spaces around a comma are allowed; an empty item (",5,2", "5,,2", "5,2,") or a
    space inside one ("5 5,2") is refused, never dropped or joined.

    >>> from_counts("50, 50,5,5").counts
    (50, 50, 5, 5)
    >>> from_counts("5,,2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seli_exact.errors.SeliInputError: `counts` has an empty item in '5,,2' (item 2); give one ...
    """
    if isinstance(values, str):
        parts = [p.strip() for p in values.split(",")]
        if not values.strip():
            raise SeliInputError(
                f"`counts` must be a comma-separated list of class sizes; got {values!r}. "
                "Try --counts 50,50,5,5."
            )
        for c, p in enumerate(parts):
            if p == "":
                raise SeliInputError(
                    f"`counts` has an empty item in {_quote(values)} (item {c + 1}); give one "
                    "class size between each pair of commas, e.g. --counts 50,50,5,5."
                )
            if len(p.split()) > 1:
                raise SeliInputError(
                    f"`counts` item {_quote(p)} has a space inside; separate class sizes by "
                    "commas, e.g. --counts 50,50,5,5."
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

    The floor is taken exactly, so the counts do not depend on floating-point rounding (they
    agree with CIFAR-10-LT's published counts): n_c is the largest m with
    m^(k-1) p^c <= n_max^(k-1) q^c for ratio = p/q. It is decided by logarithms with an error
    bound (float64, then 60 digits where float64 cannot tell, see _Tail) and by integers only
    on a tie, so k = 100,000 classes cost a second, not powers of 10^5-digit integers.

    >>> long_tailed(10, 100).counts
    (5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50)
    >>> long_tailed(5, 16, 160).counts   # exact powers: 160 / 2^c, on the boundary
    (160, 80, 40, 20, 10)
    """
    k = whole("k", k, minimum=2, maximum=MAX_CLASSES, fix="The model needs at least two classes.")
    ratio = rational("ratio", ratio, fix="ratio is n_max / n_min, e.g. 100.")
    if ratio < 1:
        raise SeliInputError(
            f"`ratio` must be at least 1 (the head class is the largest); got ratio={_dec(ratio)}. "
            "Use ratio=1 for balanced data."
        )
    n_max = whole("n_max", n_max, minimum=1, maximum=MAX_COUNT,
                  fix="n_max is the size of the largest class, e.g. 5000.")
    if ratio > n_max:
        raise SeliInputError(
            f"`ratio` must be at most `n_max` so that every class keeps an example; got "
            f"ratio={_dec(ratio)}, n_max={n_max}. Raise n_max or lower the ratio."
        )
    p, q = ratio.numerator, ratio.denominator
    e = k - 1
    log_ratio, log_n_max = math.log(p) - math.log(q), math.log(n_max)
    counts = []
    tail = None  # the 60-digit decider, made when float64 first cannot tell
    for c in range(k):
        # ln of the real value n_max ratio^(-c/e); n_c is the largest m with ln m <= t
        t = log_n_max - c / e * log_ratio
        tol = 1e-12 * (1 + abs(log_n_max) + abs(log_ratio))  # float64 rounding of t, ln m
        m = min(n_max, max(1, int(math.exp(t))))
        if math.log(m) < t - tol and (m == n_max or math.log(m + 1) > t + tol):
            counts.append(m)  # both sides decided in float64, with room for its rounding
            continue
        tail = tail or _Tail(p, q, n_max)
        counts.append(tail.count(c, e))
    return ClassCounts(tuple(counts), "exp", {"k": k, "ratio": ratio, "n_max": n_max})


class _Tail:
    """n_c = max{m : m^e p^c <= n_max^e q^c} where float64 logarithms cannot decide (counts
    near 2^52, or m n_max^(-1) ratio^(c/e) within rounding of 1)."""

    def __init__(self, p: int, q: int, n_max: int):
        import mpmath

        self.mp = mpmath.MPContext()
        self.mp.dps = 60
        self.p, self.q, self.n_max = p, q, n_max
        self.lp, self.lq, self.ln = (self.mp.log(x) for x in (p, q, n_max))

    def count(self, c: int, e: int) -> int:
        t = self.ln - self.mp.mpf(c) / e * (self.lp - self.lq)
        m = min(self.n_max, max(1, int(self.mp.floor(self.mp.exp(t)))))
        while m > 1 and not self.at_most(m, c, e):
            m -= 1
        while m < self.n_max and self.at_most(m + 1, c, e):
            m += 1
        return m

    def at_most(self, m: int, c: int, e: int) -> bool:
        """Whether m^e p^c <= n_max^e q^c: the sign of e ln m + c ln p - e ln n_max - c ln q at
        60 digits where it clears the rounding bound; on a tie (ratio^(c/e) rational, so the
        value is exact), integers with the exponents reduced by gcd(c, e)."""
        mp = self.mp
        terms = (e * mp.log(m), c * self.lp, e * self.ln, c * self.lq)
        f = (terms[0] + terms[1]) - (terms[2] + terms[3])
        if abs(f) > mp.mpf(10) ** -50 * (1 + sum(abs(x) for x in terms)):
            return bool(f < 0)
        g = math.gcd(c, e)
        e, c = e // g, c // g
        return m**e * self.p**c <= self.n_max**e * self.q**c


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
    skipped) or a JSON list of whole numbers. It must be a regular file of at most
    MAX_COUNTS_FILE_BYTES (a device or a pipe would be read without end)."""
    import json
    import stat
    from pathlib import Path

    relative_path("counts-file", path)
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise SeliInputError(
                f"`counts-file` {str(path)!r} is not a regular file (a device or a pipe). Give a "
                "file with one class count per line."
            )
        if st.st_size > MAX_COUNTS_FILE_BYTES:
            raise SeliInputError(
                f"`counts-file` {str(path)!r} holds {st.st_size:,} bytes, more than the "
                f"{MAX_COUNTS_FILE_BYTES:,} that {MAX_CLASSES:,} counts need. Check that it is "
                "the right file."
            )
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} does not exist. Give a file with one class count per line."
        ) from None
    except IsADirectoryError:
        raise SeliInputError(
            f"`counts-file` {str(path)!r} is a folder. Give a file with one class count per line."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, SeliInputError):
            raise
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


def _quote(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _dec(q: Fraction) -> str:
    """Exact text for a Fraction: its decimal digits when it terminates, else 'p/q'; never
    rounded, so 0.999999 classes is not shown as 1.

    >>> _dec(Fraction(1, 4)), _dec(Fraction(999999, 1000000)), _dec(Fraction(1, 3))
    ('0.25', '0.999999', '1/3')
    """
    if q.denominator == 1:
        return _big(q.numerator)
    d, places = q.denominator, 0
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{q.numerator}/{q.denominator}"
    places = max(twos, fives)
    if places > 24:  # 1e-30 and the like: 17 significant digits tell it from its neighbours
        return format(float(q), ".17g")
    digits = str(abs(q.numerator) * 10**places // q.denominator).rjust(places + 1, "0")
    text = (digits[:-places] + "." + digits[-places:]).rstrip("0").rstrip(".")
    return ("-" if q < 0 else "") + text


def _big(n) -> str:
    """An integer (or Fraction) as short text: exact below 10^18, else d.ddde+XX.

    >>> _big(12), _big(10**300 + 1), _big(Fraction(3, 2) * 10**20)
    ('12', '1.000e+300', '1.500e+20')
    """
    n = Fraction(n)
    if abs(n) < 10**18 and n.denominator == 1:
        return str(n.numerator)
    if abs(n) < 10**15:
        return format(float(n), ".6g")
    m = abs(n.numerator) // n.denominator
    if m.bit_length() > 3000:
        return f"about 2^{m.bit_length() - 1}"
    text = str(m)
    return f"{'-' if n < 0 else ''}{text[0]}.{text[1:4]}e+{len(text) - 1}"
