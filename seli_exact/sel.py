"""The SEL matrix of Definition 2, built densely (k x n) only when asked.

Zhat[c, i] = 1 - 1/k if c = y_i else -1/k, i.e. Zhat = P Y with P = I - 11^T/k.

>>> from seli_exact.counts import from_counts
>>> sel_matrix(from_counts([2, 1])).tolist()
[[0.5, 0.5, -0.5], [-0.5, -0.5, 0.5]]
"""

from __future__ import annotations

import numpy as np

from .arithmetic import Arithmetic, arithmetic
from .counts import ClassCounts


def sel_matrix(counts: ClassCounts, arith: str | Arithmetic = "float64", digits: int | None = None) -> np.ndarray:
    """Zhat, shape (k, n), in the given arithmetic (exact gives SymPy Rationals)."""
    ar = arithmetic(arith, digits)
    k, y = counts.k, counts.labels()
    Z = np.full((k, counts.n), ar.number(-1) / ar.number(k), dtype=ar.dtype)
    Z[y, np.arange(counts.n)] += ar.number(1)
    return Z
