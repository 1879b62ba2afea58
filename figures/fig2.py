"""Fig 2's layout: a deep net's distances to SELI (solid) and ETF (dashed) over training.

Three panels (classifiers, class means centred by their balanced mean, logits), one colour per
R, epochs on the x axis, and a thin vertical dashed line in each R's colour at its
zero-training-error epoch (one per seed). With several seeds each line is the mean over the
seeds at the epochs all of them measured, with their range (min to max) shaded. For the logits
both geometries share the target G* = I - 11^T/k, so the solid and dashed lines coincide.
`fig2_table` is the CSV behind the figure; `final_table` the end of training over seeds (the
figures a README quotes: CPU training is not bit-reproducible across machines, so a single
seed's digits would overstate what is known).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from seli_io.atomic import atomic_savefig, atomic_write
from seli_io.tables import csv_text

PANELS = (("classifiers", "Classifiers  $W$"), ("embeddings", "Centred class means  $M$"),
          ("logits", "Logits  $W^TM$"))
TABLE_FIELDS = ("R", "seed", "epoch", "quantity", "geometry", "distance", "zero_error_epoch")
FINAL_KEYS = ("zero_error_epoch", "seli_classifiers", "etf_classifiers", "seli_embeddings",
              "etf_embeddings", "seli_logits", "nc1")


def _seeds(results) -> list:
    """The results of one R: a DeepNetResult, or a list of them (one per seed)."""
    return list(results) if isinstance(results, (list, tuple)) else [results]


def _ordered(runs: dict) -> list:
    return sorted(runs, key=lambda R: Fraction(str(R)))


def fig2_table(runs: dict[str, object]) -> list[dict]:
    """One row per (R, seed, measured epoch, quantity, geometry) from {R: result(s)}."""
    out = []
    for R in _ordered(runs):
        for res in _seeds(runs[R]):
            for r in res.rows:
                for q, _ in PANELS:
                    for geo in ("seli", "etf"):
                        out.append({"R": str(R), "seed": res.config.seed, "epoch": int(r["epoch"]),
                                    "quantity": q, "geometry": geo,
                                    "distance": float(r[f"{geo}_{q}"]),
                                    "zero_error_epoch": res.zero_error_epoch})
    return out


def final_table(runs: dict[str, object]) -> list[dict]:
    """Per R, over its seeds: {"R", "seeds", KEY: (mean, min, max)} for the zero-error epoch
    (None when a seed never reached zero training error) and the last row's distances and NC1."""
    out = []
    for R in _ordered(runs):
        results = _seeds(runs[R])
        row = {"R": str(R), "seeds": [res.config.seed for res in results]}
        for key in FINAL_KEYS:
            vals = [res.zero_error_epoch if key == "zero_error_epoch" else res.rows[-1][key]
                    for res in results]
            if any(v is None for v in vals):
                row[key] = None
                continue
            v = np.asarray(vals, dtype=float)
            row[key] = (float(v.mean()), float(v.min()), float(v.max()))
        out.append(row)
    return out


def table_csv(table: list[dict]) -> str:
    return csv_text(table, TABLE_FIELDS)


def _mean_curve(results, key: str):
    """Epochs every seed measured, and the mean, min and max of `key` there."""
    common = sorted(set.intersection(*({r["epoch"] for r in res.rows} for res in results)))
    vals = np.array([[next(r[key] for r in res.rows if r["epoch"] == e) for e in common]
                     for res in results], dtype=float)  # (seeds, epochs)
    return np.array(common), vals.mean(axis=0), vals.min(axis=0), vals.max(axis=0)


def plot_fig2(runs: dict[str, object], out, *, title: str | None = None,
              log_x: bool = False, label: str = "R") -> dict[str, Path]:
    """Write fig2.png, fig2.pdf and fig2.csv into `out` from {R: DeepNetResult or a list of
    them, one per seed}; their paths. Lines are named `label`=<key>: "R" for STEP, "ratio" for
    long-tail profiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    out = Path(out)
    table = fig2_table(runs)
    Rs = _ordered(runs)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(Rs), 1)))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True, constrained_layout=True)
    for ax, (q, panel) in zip(axes, PANELS):
        for colour, R in zip(colours, Rs):
            results = _seeds(runs[R])
            for geo, style in (("seli", "-"), ("etf", "--")):
                e, mean, lo, hi = _mean_curve(results, f"{geo}_{q}")
                keep = e > 0 if log_x else np.ones(e.shape, dtype=bool)
                ax.plot(e[keep], mean[keep], style, color=colour, lw=1.6,
                        label=f"{label}={R}" if geo == "seli" else None)
                if len(results) > 1:
                    ax.fill_between(e[keep], lo[keep], hi[keep], color=colour, alpha=0.12, lw=0)
            for res in results:
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
