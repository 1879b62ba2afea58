"""Fig 3's numbers: global minimizers of (1) along the regularization path, one row per (R, lam).

k = 4, rho = 1/2 and, for each R, n_min chosen so that n = ((R + 1)/2) k n_min is about 400
(Sec. 5; seli_exact.counts.step_near_n). Each lam is solved by the structured solver of (7) with
a certified duality gap, and Theorem 2 (8) turns the solution into Gram matrices. Panels: (a)
distance to SELI of classifiers, class means and logits; (b) the minimum margin; (c) distance to
ETF. The CSV has one row per (R, lam), with the UF-SVM (5) reference per R and whether the point
is certified (relative gap <= solver.GAP_TARGET); the figure marks uncertified points.

The library never prints: long loops take a `progress(done, total)` callback (cells of the grid).
The figure and fig3.csv are drawn and written by figures.fig3.
"""

from __future__ import annotations

import time

import numpy as np

from ..counts import step_near_n
from ..solvers import ufsvm
from .path import direction_error, path_metrics
from .solver import solve_regpath_point


def ufsvm_reference(counts):
    """The reduced UF-SVM (5), the lam -> 0 reference: objective, duality gap, direction error.
    (solve_ufsvm is looked up at call time, so a replaced solver is seen here too.)"""
    sol = ufsvm.solve_ufsvm(counts)
    return {"objective": float(sol.objective), "duality_gap": float(sol.duality_gap),
            "direction_error": direction_error(np.asarray(sol.Z_class, dtype=float), counts)}


def compute_path(counts, lambdas, solver: str = "structured", cvxpy_solver: str = "SCS", *,
                 progress=None):
    """[(PathMetrics, RegPathPoint, seconds)] along `lambdas`; every point carries the same
    mpmath certificate (RegPathPoint.certified) whichever solver produced it.

    progress: optional callable progress(done, total), called after each lam.
    """
    out = []
    lambdas = list(lambdas)
    for lam in lambdas:
        t0 = time.perf_counter()
        if solver == "cvxpy":
            from .cvx import solve_full_cvxpy

            _, point = solve_full_cvxpy(counts, lam, solver=cvxpy_solver)
        else:
            point = solve_regpath_point(counts, lam)
        out.append((path_metrics(point), point, time.perf_counter() - t0))
        if progress is not None:
            progress(len(out), len(lambdas))
    return out


N_TARGET = 400
K, RHO = 4, "1/2"

COLUMNS = [
    "R", "n_min", "n", "lambda", "objective", "duality_gap", "relative_gap", "certified",
    "dist_seli_classifiers", "dist_seli_embeddings", "dist_seli_logits",
    "dist_etf_classifiers", "dist_etf_embeddings", "dist_etf_logits",
    "min_margin", "normalized_margin", "direction_error", "method",
    "ufsvm_objective", "ufsvm_duality_gap",
]


def fig3_counts(R):
    """The class counts of Fig 3 at imbalance ratio R: (R, 1/2)-STEP, k = 4, n near 400."""
    return step_near_n(K, R, RHO, N_TARGET)


def fig3_rows(Rs, lambdas, *, progress=None) -> list[dict]:
    """One row per (R, lam); progress(done, total) after each cell of the len(Rs) x len(lambdas)
    grid."""
    rows = []
    lambdas = list(lambdas)
    total = len(Rs) * len(lambdas)
    for i, R in enumerate(Rs):
        counts = fig3_counts(R)
        ref = ufsvm_reference(counts)
        cell = None
        if progress is not None:
            cell = lambda done, _n, i=i: progress(i * len(lambdas) + done, total)  # noqa: E731
        for m, point, _ in compute_path(counts, lambdas, progress=cell):
            s, e = m.dist_seli, m.dist_etf
            rows.append({
                "R": R, "n_min": counts.params["n_min"], "n": counts.n, "lambda": m.lam,
                "objective": m.objective, "duality_gap": m.duality_gap,
                "relative_gap": m.relative_gap, "certified": point.certified,
                "dist_seli_classifiers": float(s.classifiers),
                "dist_seli_embeddings": float(s.embeddings), "dist_seli_logits": float(s.logits),
                "dist_etf_classifiers": float(e.classifiers),
                "dist_etf_embeddings": float(e.embeddings), "dist_etf_logits": float(e.logits),
                "min_margin": m.min_margin, "normalized_margin": m.normalized_margin,
                "direction_error": m.direction_error, "method": point.method,
                "ufsvm_objective": ref["objective"],
                "ufsvm_duality_gap": ref["duality_gap"],
            })
    return rows
