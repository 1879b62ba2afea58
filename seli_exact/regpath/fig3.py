"""Fig 3: global minimizers of (1) along the regularization path, computed and drawn.

k = 4, rho = 1/2 and, for each R, n_min chosen so that n = ((R + 1)/2) k n_min is about 400
(Sec. 5; seli_exact.counts.step_near_n). Each lam is solved by the structured solver of (7) with
a certified duality gap, and Theorem 2 (8) turns the solution into Gram matrices. Panels: (a)
distance to SELI of classifiers, class means and logits; (b) the minimum margin; (c) distance to
ETF. The CSV has one row per (R, lam), with the UF-SVM (5) reference per R and whether the point
is certified (relative gap <= solver.GAP_TARGET); the figure marks uncertified points.

The library never prints: long loops take a `progress(done, total)` callback (cells of the grid).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_all, figure_files
from ..counts import step_near_n
from ..solvers import ufsvm
from ..tables import csv_text
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


def rows_to_csv(rows) -> str:
    return csv_text(rows, COLUMNS)


def _n_text(rows) -> str:
    """The n actually run, for the title: one value, or the range over R."""
    ns = sorted({int(r["n"]) for r in rows})
    return f"$n={ns[0]}$" if len(ns) == 1 else f"$n$ from {ns[0]} to {ns[-1]}"


def draw_fig3(rows, Rs):
    """Fig 3's three panels from `rows`, as a matplotlib Figure (the caller closes it).

    The legends sit in a row below the panels, so they never cover a curve; uncertified points
    (if any) are circled in red; the title gives the n actually run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), layout="constrained")
    colours = plt.cm.viridis([i / max(len(Rs) - 1, 1) * 0.85 for i in range(len(Rs))])
    styles = {"classifiers": "-", "embeddings": "--", "logits": ":"}
    bad = [r for r in rows if not r["certified"]]
    for R, col in zip(Rs, colours):
        sub = [r for r in rows if r["R"] == R]
        lam = [r["lambda"] for r in sub]
        for metric, ls in styles.items():
            axes[0].plot(lam, [r[f"dist_seli_{metric}"] for r in sub], ls, color=col, marker=".")
            axes[2].plot(lam, [r[f"dist_etf_{metric}"] for r in sub], ls, color=col, marker=".")
        axes[1].plot(lam, [r["min_margin"] for r in sub], "-", color=col, marker=".")
    for r in bad:
        axes[1].plot([r["lambda"]], [r["min_margin"]], "o", mfc="none", mec="red", ms=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"regularization $\lambda$")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("distance to SELI")
    axes[0].set_title("(a) distance to SELI")
    axes[1].axhline(0.0, color="black", lw=0.8)
    axes[1].set_ylabel(r"minimum margin of $\hat Z_\lambda$")
    axes[1].set_title("(b) minimum margin")
    axes[2].set_ylabel("distance to ETF")
    axes[2].set_title("(c) distance to ETF")
    n_of = {r["R"]: r["n"] for r in rows}
    ratio = [Line2D([], [], color=col, marker=".", label=f"R={R} (n={n_of.get(R, '?')})")
             for R, col in zip(Rs, colours)]
    kinds = [Line2D([], [], color="grey", ls=ls, label=lab) for lab, ls in
             (("classifiers $G_W$", "-"), ("class means $G_M$", "--"), ("logits $W^TM$", ":"))]
    if bad:
        kinds.append(Line2D([], [], ls="none", marker="o", mfc="none", mec="red",
                            label="not certified"))
    fig.legend(handles=ratio, loc="outside lower left", ncols=len(ratio), fontsize=9,
               title="imbalance ratio (all panels)", frameon=False)
    fig.legend(handles=kinds, loc="outside lower right", ncols=len(kinds), fontsize=9,
               title="Gram matrix (panels a, c)", frameon=False)
    fig.suptitle("Fig 3: global minimizers of (1) along the regularization path "
                 rf"($k={K}$, $\rho=1/2$, {_n_text(rows)}; solved via (7) and (8))")
    return fig


OUTPUTS = ("fig3.csv", "fig3.png", "fig3.pdf")


def write_fig3(out, rows, Rs) -> list[Path]:
    """Write fig3.csv, fig3.png and fig3.pdf into `out` from `rows`, as one atomic group (a
    failure leaves every earlier file of the three as it was)."""
    import matplotlib.pyplot as plt

    fig = draw_fig3(rows, Rs)
    try:
        files = {Path(out) / "fig3.csv": rows_to_csv(rows), **figure_files(fig, Path(out) / "fig3")}
    finally:
        plt.close(fig)
    return atomic_write_all(files)


def make_fig3(out, Rs, lambdas, *, progress=None) -> list[Path]:
    """Compute the path for every R and write fig3.csv, fig3.png and fig3.pdf into `out`."""
    Rs = list(Rs)
    return write_fig3(out, fig3_rows(Rs, lambdas, progress=progress), Rs)
