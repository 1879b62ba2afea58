"""The lam grid of a path, from text: a list "1e-1,1e-2" or a log range "logspace:A:B:N".

"logspace:A:B:N" means N values 10^A, ..., 10^B evenly spaced in the exponent (numpy.logspace),
listed from the largest lam to the smallest whatever the order of A and B.

Every lam must lie in [LAM_MIN, LAM_MAX] = [1e-100, 1e100] (solver.py says why), and a path holds
at most MAX_LAMBDAS values.

>>> parse_lambdas("1e-1, 1e-2")
[0.1, 0.01]
>>> parse_lambdas("logspace:-2:0:3")
[1.0, 0.1, 0.01]
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SeliInputError
from ..validate import real, whole
from .solver import LAM_MAX, LAM_MIN

# Each lam costs a solve and a 40-digit certificate (~0.01-0.5 s); a longer path is a mistake.
MAX_LAMBDAS = 1000
_RANGE = (f"Give values in [{LAM_MIN:g}, {LAM_MAX:g}] (below, the loss curvature ~lam^2 "
          "underflows float64), e.g. 1e-1,1e-2 or logspace:-8:0:17.")


def parse_lambdas(text: str) -> list[float]:
    text = str(text).strip()
    if text.startswith("logspace:"):
        parts = text.split(":")[1:]
        if len(parts) != 3:
            raise SeliInputError(
                f"`lambdas` log range must read logspace:A:B:N with exponents A, B and a count "
                f"N >= 1; got {text!r}. Try logspace:-8:0:17."
            )
        lo, hi = math.log10(LAM_MIN), math.log10(LAM_MAX)
        fix = (f"The exponents give lam = 10^A .. 10^B, so they lie in [{lo:g}, {hi:g}]; try "
               "logspace:-8:0:17.")
        a = real("lambdas exponent A", parts[0], minimum=lo, maximum=hi, fix=fix)
        b = real("lambdas exponent B", parts[1], minimum=lo, maximum=hi, fix=fix)
        num = whole("lambdas count N", parts[2], minimum=1, maximum=MAX_LAMBDAS,
                    fix="Try logspace:-8:0:17.")
        # clip: 10^-100 may round just below LAM_MIN
        vals = sorted((min(max(float(v), LAM_MIN), LAM_MAX) for v in np.logspace(a, b, num)),
                      reverse=True)
        return vals
    parts = [p.strip() for p in text.split(",")]
    if any(parts) and any(p == "" for p in parts):
        raise SeliInputError(
            f"`lambdas` has an empty item in {text!r}; list values separated by single commas, "
            "e.g. 1e-1,1e-2."
        )
    if any(len(p.split()) > 1 for p in parts):
        raise SeliInputError(
            f"`lambdas` has an item with a space inside in {text!r}; separate values by commas, "
            "e.g. 1e-1,1e-2."
        )
    parts = [p for p in parts if p]
    if not parts:
        raise SeliInputError(
            f"`lambdas` must hold at least one value; got {text!r}. Try 1e-1,1e-2."
        )
    if len(parts) > MAX_LAMBDAS:
        raise SeliInputError(
            f"`lambdas` must hold at most {MAX_LAMBDAS} values; got {len(parts)}. "
            "Use a coarser grid, e.g. logspace:-8:0:17."
        )
    return [real("lambda", p, minimum=LAM_MIN, maximum=LAM_MAX, fix=_RANGE) for p in parts]
