"""Per-instance evidence for the strict sign condition B_hat * Zhat^T > 0 (Sec. 3.3), shared by
cert.strict_sign (STEP) and thm1.any_counts (arbitrary counts).

B_hat = U V^T has row i equal to G_M[y_i, :], so the condition is diag(G_M) > 0 > offdiag(G_M).
For one instance, three routes report the smallest sign margin:

* the interval certificate (proofs_check.certificate): a proof, or a refutation, in ball
  arithmetic, around candidates from seli_exact's secular roots;
* seli_exact's float64 geometry (the certificate's `float64_margin`);
* B_hat = U V^T read off numpy's dense SVD of Zhat^T (proofs_check.lapack.dense_polar):
  min_i,c B_hat[i, c] sign(Zhat^T[i, c]), with its own positivity required above LAPACK's error.

The proof decides the sign; the three margins must also agree with each other to LAPACK's
accuracy, so a route that is wrong by a relative 1 % is refuted even where signs survive it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seli_exact import ClassCounts, sel_matrix

from . import certificate, tolerances
from .evidence import failed_row, margin_row, residual_row, undecided_row
from .lapack import DENSE_MAX_N, dense_polar


@dataclass(frozen=True, eq=False)
class CertCase:
    name: str
    counts: ClassCounts
    certificate: certificate.SignCertificate
    dense_margin: float | None  # from numpy's dense SVD; None when n > DENSE_MAX_N


def dense_margin(counts: ClassCounts, B: np.ndarray | None = None) -> float | None:
    """min B[i, c] sign(Zhat^T[i, c]) for B (n, k), by default the dense B_hat = U V^T."""
    if B is None:
        if counts.n > DENSE_MAX_N:
            return None
        B = dense_polar(counts)
    return float(np.min(np.asarray(B, dtype=float) * np.sign(sel_matrix(counts).T)))


def cert_case(name: str, counts: ClassCounts) -> CertCase:
    cert = certificate.sign_certificate(counts, digits=tolerances.DIGITS)
    return CertCase(name, counts, cert, dense_margin(counts))


def _agreement(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b))


def cert_rows(case: CertCase) -> list[dict]:
    c, name = case.certificate, case.name
    rows = []
    if c.proven:
        rows.append(margin_row(f"{name}: interval proof", c.interval_margin, 0.0,
                               certificate=c.to_json()))
    elif c.refuted:
        rows.append(failed_row(f"{name}: interval proof", "an enclosure lies on the wrong side of 0",
                               certificate=c.to_json()))
    else:
        rows.append(undecided_row(f"{name}: interval proof", c.failure or "not proven",
                                  certificate=c.to_json()))
    tol = tolerances.lapack(case.counts)
    if case.dense_margin is not None:
        rows.append(margin_row(f"{name}: B_hat * Zhat^T > 0 (dense SVD)", case.dense_margin, tol))
        rows.append(residual_row(f"{name}: seli_exact's float64 margin vs the dense SVD's",
                                 _agreement(c.float64_margin, case.dense_margin), tol))
        if c.interval_margin is not None:
            rows.append(residual_row(f"{name}: certified margin vs the dense SVD's",
                                     _agreement(c.interval_margin, case.dense_margin), tol))
    return rows
