"""Resource estimates made before any allocation, and the limits they are held to.

`seli geometry` builds dense (k, k) matrices (Gram matrices, cosines, logits), solves J - 1
secular equations over the J distinct counts, and prints or serializes k^2 numbers per matrix;
in mpmath every entry is a Python object. Its cost therefore grows like k^2 and J^3. The
constants below were fitted (rounded up) to benchmarks/bench_limits.py on a 2-core x86 machine:
fresh processes, peak memory above start-up (ru_maxrss), CPU time; k up to 3000, J = 2 (STEP)
or J = k (distinct counts), 50 and 300 digits. Rerun it to check them on other hardware.

  float64   memory  120 k^2 (table) or 260 k^2 (JSON: Python floats for every entry) + 40 J^2
                    bytes (the secular iteration's (J-1, J) arrays)
            time    1.5e-7 k^2 + 2e-10 J^3 s, plus 5.5e-6 k^2 s to write the JSON or 2.5e-6 k^2 s
                    for a table of k^2 angles (any model but unbalanced STEP, whose table is
                    a few rows)
  mpmath    memory  (1800 + 6 D) k^2 bytes at D digits, JSON (200 + 4 D) k^2 more
            time    (2.5e-5 k^2 + 6.5e-6 J^3)(1 + D/600) s, plus (3.5e-5 + 1e-7 D) k^2 s for
                    the JSON's decimal text (or the float table's 2.5e-6 k^2 s)

The other routes of `seli geometry --route` add their own work on top (measured on the same
machine with distinct counts 1..J, CPU time):

  dense     float64 3.6e-10 k^3 s (LAPACK eigh); mpmath 4e-5 k^3 (1 + D/600) s (mpmath.eigsy)
  integral  float64 1.2e-6 J^2 s; mpmath (0.5 + 0.01 J^2) (D/50)^2.4 s (quadrature nodes grow
            with D and each node's operations with the precision: 40 distinct counts take 15 s
            at 50 digits and 374 s at 200)

For example (measured / estimated): 3000 distinct counts as JSON, 49 s / 56 s and 2.2 GB /
2.7 GB; 120 distinct counts at 300 digits, 17 s / 17 s. An input whose estimate exceeds a limit
is refused before anything is allocated, with the estimate and the limit in one sentence:
memory is held to half of this machine's physical memory, time to TIME_LIMIT_S. The digits
above 300 are not modelled (MAX_DIGITS in seli_cli.args).

Training runs are held to their own limit, TRAIN_TIME_LIMIT_S (1 h), estimated from the run's
counted arithmetic by training.cost (steps x runs x the engine's cost per step, plus the metric
evaluations; for deep nets the network's FLOPs and layers times n x epochs, one CPU thread):
`check_train_time` refuses a longer run unless --allow-long is given. The longest training the
README documents, the long-tail Fig 4 (about 8 min on 2 cores), is estimated at about 7 min;
`--epochs 1e9` on Fig 4's setup at about 19 days.

>>> from seli_exact.counts import step
>>> cost = geometry_cost(step(4, 10, "1/2", 5))
>>> cost.bytes < 1e6 and cost.seconds < 1e-3
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from seli_exact.errors import SeliInputError

# A command that would run longer than this is refused: the CLI is interactive, and such an
# input is almost always a typo (a k or a count list with too many entries).
TIME_LIMIT_S = 600.0
# A training estimated to run longer than this on the CPU is refused unless --allow-long: an
# hour is seven times the longest training the README documents, and far below what a mistyped
# --epochs asks for (days to years).
TRAIN_TIME_LIMIT_S = 3600.0

# Measured constants (see the module docstring): bytes and seconds per k^2, J^2 or J^3.
F64_BYTES_K2, F64_BYTES_JSON_K2, F64_BYTES_J2 = 120.0, 260.0, 40.0
F64_S_K2, F64_S_J3, F64_S_JSON_K2, F64_S_TABLE_K2 = 1.5e-7, 2e-10, 5.5e-6, 2.5e-6
MP_BYTES_K2, MP_BYTES_K2_PER_DIGIT = 1800.0, 6.0
MP_BYTES_JSON_K2, MP_BYTES_JSON_K2_PER_DIGIT = 200.0, 4.0
MP_S_K2, MP_S_J3, MP_DIGITS_SCALE = 2.5e-5, 6.5e-6, 600.0
MP_S_TEXT_K2, MP_S_TEXT_K2_PER_DIGIT = 3.5e-5, 1e-7
# the dense and integral routes (see the module docstring)
DENSE_F64_S_K3, DENSE_MP_S_K3 = 3.6e-10, 4e-5
INTEGRAL_F64_S_J2, INTEGRAL_MP_S, INTEGRAL_MP_S_J2, INTEGRAL_MP_DIGITS, INTEGRAL_MP_POWER = (
    1.2e-6, 0.5, 0.01, 50.0, 2.4)


@dataclass(frozen=True)
class Cost:
    """An estimate of peak memory (bytes above start-up) and wall time (seconds)."""

    bytes: float
    seconds: float


def memory_limit() -> float:
    """Half of this machine's physical memory, in bytes (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2
    except (AttributeError, OSError, ValueError):
        return 8 * 2.0**30


def geometry_cost(counts, digits: int | None = None, *, json: bool = False,
                  route: str = "secular") -> Cost:
    """The estimated cost of `seli geometry` on `counts` (float64, or mpmath at `digits`), by
    `route`: the secular route's cost, plus the dense or integral route's own work."""
    base = _secular_cost(counts, digits, json=json)
    k, J = float(counts.k), float(len(set(counts.counts)))
    if route == "dense":
        extra = (DENSE_F64_S_K3 * k**3 if digits is None
                 else DENSE_MP_S_K3 * k**3 * (1 + digits / MP_DIGITS_SCALE))
    elif route == "integral":
        # and the eigenvalues of its G_W, by the dense route's eigensolver
        extra = (INTEGRAL_F64_S_J2 * J**2 + DENSE_F64_S_K3 * k**3 if digits is None
                 else (INTEGRAL_MP_S + INTEGRAL_MP_S_J2 * J**2)
                 * (digits / INTEGRAL_MP_DIGITS) ** INTEGRAL_MP_POWER
                 + DENSE_MP_S_K3 * k**3 * (1 + digits / MP_DIGITS_SCALE))
    else:
        extra = 0.0
    return Cost(base.bytes, base.seconds + extra)


def _secular_cost(counts, digits: int | None = None, *, json: bool = False) -> Cost:
    k = counts.k
    J = len(set(counts.counts))
    k2, j2, j3 = float(k) ** 2, float(J) ** 2, float(J) ** 2 * (J - 1)
    # seli_cli.geometry's table of an unbalanced STEP model is a few rows; any other is k^2
    # angles, formatted as floats in either arithmetic
    short_table = counts.model == "step" and not counts.is_balanced
    table_s = 0.0 if short_table else F64_S_TABLE_K2 * k2
    if digits is None:
        return Cost((F64_BYTES_JSON_K2 if json else F64_BYTES_K2) * k2 + F64_BYTES_J2 * j2,
                    F64_S_K2 * k2 + F64_S_J3 * j3 + (F64_S_JSON_K2 * k2 if json else table_s))
    memory = (MP_BYTES_K2 + MP_BYTES_K2_PER_DIGIT * digits) * k2
    text = table_s
    if json:
        memory += (MP_BYTES_JSON_K2 + MP_BYTES_JSON_K2_PER_DIGIT * digits) * k2
        text = (MP_S_TEXT_K2 + MP_S_TEXT_K2_PER_DIGIT * digits) * k2
    return Cost(memory, (MP_S_K2 * k2 + MP_S_J3 * j3) * (1 + digits / MP_DIGITS_SCALE) + text)


def check_cost(cost: Cost, what: str, fix: str) -> None:
    """Refuse `what` (a phrase naming the input) when its estimate exceeds a limit."""
    limit = memory_limit()
    if cost.bytes > limit:
        raise SeliInputError(f"{what} needs an estimated {_bytes(cost.bytes)} of memory, more "
                             f"than the limit of {_bytes(limit)} (half of this machine's); {fix}")
    if cost.seconds > TIME_LIMIT_S:
        raise SeliInputError(f"{what} would take an estimated {_seconds(cost.seconds)}, more than "
                             f"the limit of {_seconds(TIME_LIMIT_S)}; {fix}")


def check_train_time(seconds: float | None, what: str, *, allowed: bool) -> None:
    """Refuse a training (`what`, a phrase naming it) estimated to run longer than
    TRAIN_TIME_LIMIT_S, unless `allowed` (--allow-long); None (not estimated: cuda) passes."""
    if seconds is None or allowed or seconds <= TRAIN_TIME_LIMIT_S:
        return
    raise SeliInputError(
        f"{what} would take an estimated {_seconds(seconds)} on this CPU, more than the limit of "
        f"{_seconds(TRAIN_TIME_LIMIT_S)}; pass --allow-long to train anyway, or lower --epochs."
    )


def seconds_text(s: float) -> str:
    """A duration as the limits' messages write it: 600 -> "10 min"."""
    return _seconds(s)


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def _seconds(s: float) -> str:
    if s >= 86400 * 365:
        return f"{s / (86400 * 365):.3g} years"
    if s >= 86400:
        return f"{s / 86400:.3g} days"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.3g} s"
