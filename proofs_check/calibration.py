"""Calibrating the metric library where a claim reads its distances from it.

Claims that measure distances to SELI with seli_exact.metrics (prop1 on the regularization
path, the training claims) first read the instrument at a point whose answer is known by a
route apart from seli_exact: the SELI geometry of the dense route (proofs_check.lapack,
Theorem 1 (iii) with a random R). There the distances to SELI must vanish and the distances to
ETF must equal those computed from the dense route's Gram matrices by Sec. 5's definition
||A/||A||_F - B/||B||_F||_F. A metric library whose SELI reference is wrong fails here even when
the claim's own measurements would still look plausible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seli_exact import ClassCounts, metrics, simplex_gram

from . import tolerances
from .evidence import residual_row
from .lapack import reference, seli_factors

OBJECTS = ("classifiers", "embeddings", "logits")


@dataclass(frozen=True, eq=False)
class Calibration:
    counts: ClassCounts
    seli: tuple[float, float, float]  # metrics' distances to SELI at the dense SELI point
    etf: tuple[float, float, float]  # metrics' distances to ETF there
    etf_expected: tuple[float, float, float]  # the same by Sec. 5's definition, dense Grams


def _distance(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.linalg.norm(A / np.linalg.norm(A) - B / np.linalg.norm(B)))


def calibrate(counts: ClassCounts, d: int | None = None) -> Calibration:
    d = counts.k + 1 if d is None else d
    W, M = seli_factors(counts, d, seed=d)
    got = metrics.distances(W, M, counts)
    ref = reference(counts)
    G = simplex_gram(counts.k)
    expected = (_distance(ref.G_W, G), _distance(ref.G_M, G), _distance(ref.logits, G))
    return Calibration(counts, tuple(float(getattr(got.seli, o)) for o in OBJECTS),
                       tuple(float(getattr(got.etf, o)) for o in OBJECTS), expected)


def calibration_rows(cal: Calibration) -> list[dict]:
    tol = tolerances.lapack(cal.counts)
    name = f"metric calibration at the dense SELI point of {cal.counts.describe()}"
    seli = max(cal.seli)
    etf = max(abs(a - b) for a, b in zip(cal.etf, cal.etf_expected))
    return [residual_row(f"{name}: distance to SELI", seli, tol, distances=list(cal.seli)),
            residual_row(f"{name}: distance to ETF", etf, tol, distances=list(cal.etf),
                         expected=list(cal.etf_expected))]
