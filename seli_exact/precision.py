"""Tolerances that follow the working precision, and one `close` helper.

float64: 2^-43 (about 1e-13, 2^9 ulps of headroom); mpmath: 10^-digits, the digits the caller was
promised (the arithmetic carries guard digits beyond them); exact: 0.

>>> from seli_exact.arithmetic import arithmetic
>>> close(1.0, 1.0 + 1e-15, arithmetic("float64"))
True
"""

from __future__ import annotations

import numpy as np

from .arithmetic import Arithmetic, MPMath


def default_rtol(ar: Arithmetic) -> float:
    if ar.exact:
        return 0.0
    if isinstance(ar, MPMath):
        return 10.0 ** (-ar.digits)
    return 2.0**-43


def close(a, b, ar: Arithmetic, *, rtol: float | None = None, atol: float | None = None) -> bool:
    """|a - b| <= atol + rtol * max(|a|, |b|) elementwise, all of it; exact: a - b == 0."""
    a, b = np.asarray(a, dtype=ar.dtype), np.asarray(b, dtype=ar.dtype)
    if a.shape != b.shape:
        return False
    if ar.exact and rtol is None and atol is None:
        import sympy

        return all(sympy.simplify(x - y) == 0 for x, y in zip(a.ravel(), b.ravel()))
    rt = default_rtol(ar) if rtol is None else rtol
    at = rt if atol is None else atol
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(diff <= at + rt * scale))
