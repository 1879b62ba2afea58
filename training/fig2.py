"""Fig 2's layout: a deep net's distances to SELI (solid) and ETF (dashed) over training.

Three panels (classifiers, class means centred by their balanced mean, logits), one colour per
R, epochs on the x axis, and a thin vertical dashed line in each R's colour at its zero-training-error
epoch. For the logits both geometries share the target G* = I - 11^T/k, so the solid and dashed
lines coincide. `fig2_table` is the CSV behind the figure.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from seli_exact.atomic import atomic_savefig, atomic_write
from seli_exact.tables import csv_text

PANELS = (("classifiers", "Classifiers  $W$"), ("embeddings", "Centred class means  $M$"),
          ("logits", "Logits  $W^TM$"))
TABLE_FIELDS = ("R", "epoch", "quantity", "geometry", "distance", "zero_error_epoch")


def fig2_table(runs: dict[str, "object"]) -> list[dict]:
    """One row per (R, measured epoch, quantity, geometry) from {R: DeepNetResult}."""
    out = []
    for R, res in sorted(runs.items(), key=lambda kv: Fraction(str(kv[0]))):
        for r in res.rows:
            for q, _ in PANELS:
                for geo in ("seli", "etf"):
                    out.append({"R": str(R), "epoch": int(r["epoch"]), "quantity": q,
                                "geometry": geo, "distance": float(r[f"{geo}_{q}"]),
                                "zero_error_epoch": res.zero_error_epoch})
    return out


def table_csv(table: list[dict]) -> str:
    return csv_text(table, TABLE_FIELDS)


def plot_fig2(runs: dict[str, "object"], out, *, title: str | None = None,
              log_x: bool = False, label: str = "R") -> dict[str, Path]:
    """Write fig2.png, fig2.pdf and fig2.csv into `out` from {R: DeepNetResult}; their paths.

    Lines are named `label`=<key>: "R" for STEP, "ratio" for long-tail profiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    out = Path(out)
    table = fig2_table(runs)
    Rs = sorted(runs, key=lambda R: Fraction(str(R)))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(Rs), 1)))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True, constrained_layout=True)
    for ax, (q, panel) in zip(axes, PANELS):
        for colour, R in zip(colours, Rs):
            res = runs[R]
            rows = [r for r in res.rows if r["epoch"] > 0 or not log_x]
            e = np.array([r["epoch"] for r in rows])
            for geo, style in (("seli", "-"), ("etf", "--")):
                ax.plot(e, [r[f"{geo}_{q}"] for r in rows], style, color=colour, lw=1.6,
                        label=f"{label}={R}" if geo == "seli" else None)
            if res.zero_error_epoch is not None:
                ax.axvline(res.zero_error_epoch, color=colour, ls="--", lw=0.9, alpha=0.7)
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(panel)
        ax.grid(True, alpha=0.25)
    axes[0].set_ylabel("distance to geometry")
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [Line2D([], [], color="k", ls="-"), Line2D([], [], color="k", ls="--"),
                Line2D([], [], color="k", ls="--", lw=0.9, alpha=0.7)]
    labels += ["SELI", "ETF", "zero training error (vertical)"]
    axes[-1].legend(handles, labels, loc="best", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    paths = {"png": out / "fig2.png", "pdf": out / "fig2.pdf", "csv": out / "fig2.csv"}
    atomic_savefig(fig, out / "fig2")
    plt.close(fig)
    atomic_write(paths["csv"], table_csv(table))
    return paths
