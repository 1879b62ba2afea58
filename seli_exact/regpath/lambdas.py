"""The lam grid of a path, from text: a list "1e-1,1e-2" or a log range "logspace:A:B:N".

"logspace:A:B:N" means N values 10^A, ..., 10^B evenly spaced in the exponent (numpy.logspace),
listed from the largest lam to the smallest whatever the order of A and B.

>>> parse_lambdas("1e-1, 1e-2")
[0.1, 0.01]
>>> parse_lambdas("logspace:-2:0:3")
[1.0, 0.1, 0.01]
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SeliInputError


def parse_lambdas(text: str) -> list[float]:
    text = str(text).strip()
    if text.startswith("logspace:"):
        parts = text.split(":")[1:]
        try:
            a, b, num = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3 or num < 1 or not (math.isfinite(a) and math.isfinite(b)):
                raise ValueError
        except (ValueError, IndexError):
            raise SeliInputError(
                f"`lambdas` log range must read logspace:A:B:N with exponents A, B and a count "
                f"N >= 1; got {text!r}. Try logspace:-8:0:17."
            ) from None
        vals = sorted((float(v) for v in np.logspace(a, b, num)), reverse=True)
    else:
        vals = []
        for part in [p for p in text.replace(" ", "").split(",") if p]:
            try:
                vals.append(float(part))
            except ValueError:
                raise SeliInputError(
                    f"`lambdas` must be numbers separated by commas; got {part!r} in {text!r}. "
                    "Try 1e-1,1e-2 or logspace:-8:0:17."
                ) from None
    if not vals:
        raise SeliInputError(
            f"`lambdas` must hold at least one value; got {text!r}. Try 1e-1,1e-2."
        )
    for v in vals:
        if not (v > 0 and math.isfinite(v)):
            raise SeliInputError(
                f"every lambda must be a positive finite number; got {v!r} in {text!r}. "
                "Try 1e-1,1e-2."
            )
    return vals
