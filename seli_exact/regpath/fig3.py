"""Fig 3: global minimizers of (1) along the regularization path, computed and drawn.

k = 4, rho = 1/2 and, for each R, n_min chosen so that n = ((R + 1)/2) k n_min is about 400
(as in Sec. 5). Each lam is solved by the structured solver of (7) with a certified duality gap,
and Theorem 2 (8) turns the solution into Gram matrices. Panels: (a) distance to SELI of
classifiers, class means and logits; (b) the minimum margin; (c) distance to ETF. The CSV has
one row per (R, lam), with the UF-SVM (5) reference per R.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..atomic import atomic_savefig, atomic_write
from ..tables import csv_text
from ..counts import step
from ..solvers.ufsvm import solve_ufsvm
from .path import direction_error, path_metrics
from .solver import solve_regpath_point


def ufsvm_reference(counts):
    """The reduced UF-SVM (5), the lam -> 0 reference: objective, duality gap, direction error."""
    sol = solve_ufsvm(counts)
    return {"objective": float(sol.objective), "duality_gap": float(sol.duality_gap),
            "direction_error": direction_error(np.asarray(sol.Z_class, dtype=float), counts)}


def compute_path(counts, lambdas, solver: str = "structured", cvxpy_solver: str = "SCS"):
    """[(PathMetrics, RegPathPoint, seconds)] along `lambdas`."""
    out = []
    for lam in lambdas:
        t0 = time.perf_counter()
        if solver == "cvxpy":
            from .cvx import solve_full_cvxpy

            _, point = solve_full_cvxpy(counts, lam, solver=cvxpy_solver)
        else:
            point = solve_regpath_point(counts, lam)
        out.append((path_metrics(point), point, time.perf_counter() - t0))
    return out


N_TARGET = 400

COLUMNS = [
    "R", "n_min", "n", "lambda", "objective", "duality_gap", "relative_gap",
    "dist_seli_classifiers", "dist_seli_embeddings", "dist_seli_logits",
    "dist_etf_classifiers", "dist_etf_embeddings", "dist_etf_logits",
    "min_margin", "normalized_margin", "direction_error", "method",
    "ufsvm_objective", "ufsvm_duality_gap",
]


def n_min_for(R: int, k: int = 4) -> int:
    """n_min with n = ((R + 1)/2) k n_min closest to 400 (at least 1)."""
    return max(1, round(N_TARGET / ((R + 1) / 2 * k)))


def fig3_rows(Rs, lambdas) -> list[dict]:
    rows = []
    for R in Rs:
        counts = step(4, R, "1/2", n_min_for(R))
        ref = ufsvm_reference(counts)
        for m, point, _ in compute_path(counts, lambdas):
            s, e = m.dist_seli, m.dist_etf
            rows.append({
                "R": R, "n_min": counts.params["n_min"], "n": counts.n, "lambda": m.lam,
                "objective": m.objective, "duality_gap": m.duality_gap,
                "relative_gap": m.relative_gap,
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


def plot_fig3(rows, Rs, out) -> list[Path]:
    """Draw Fig 3's three panels from `rows` and write out/fig3.png and out/fig3.pdf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
    colours = plt.cm.viridis([i / max(len(Rs) - 1, 1) * 0.85 for i in range(len(Rs))])
    styles = {"classifiers": "-", "embeddings": "--", "logits": ":"}
    for R, col in zip(Rs, colours):
        sub = [r for r in rows if r["R"] == R]
        lam = [r["lambda"] for r in sub]
        for metric, ls in styles.items():
            axes[0].plot(lam, [r[f"dist_seli_{metric}"] for r in sub], ls, color=col, marker=".")
            axes[2].plot(lam, [r[f"dist_etf_{metric}"] for r in sub], ls, color=col, marker=".")
        axes[1].plot(lam, [r["min_margin"] for r in sub], "-", color=col, marker=".",
                     label=f"R={R}")
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
    axes[1].legend(title="imbalance ratio", fontsize=8)
    axes[2].set_ylabel("distance to ETF")
    axes[2].set_title("(c) distance to ETF")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="grey", ls=ls, label=lab) for lab, ls in
               (("classifiers $G_W$", "-"), ("class means $G_M$", "--"), ("logits $W^TM$", ":"))]
    axes[0].legend(handles=handles, fontsize=8)
    axes[2].legend(handles=handles, fontsize=8, loc="lower left")
    fig.suptitle("Fig 3: global minimizers of (1) along the regularization path "
                 r"($k=4$, $\rho=1/2$, $n\approx 400$; solved via (7) and (8))")
    paths = atomic_savefig(fig, Path(out) / "fig3")
    plt.close(fig)
    return paths


def make_fig3(out, Rs, lambdas) -> list[Path]:
    """Compute the path for every R and write fig3.csv, fig3.png and fig3.pdf into `out`."""
    rows = fig3_rows(Rs, lambdas)
    csv_path = atomic_write(Path(out) / "fig3.csv", rows_to_csv(rows))
    return [csv_path, *plot_fig3(rows, Rs, out)]


