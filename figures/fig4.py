"""Fig 4's layout: distances of SGD iterates on the UFM to SELI (solid) and ETF (dashed).

Three panels (classifiers, embeddings, logits), one colour per R, epochs on a log x axis; each
line is the mean over seeds, with the seeds' range shaded. `fig4_table` is the CSV behind it.
In the logits panel SELI and ETF share the reference G* = I - 11^T/k (Sec. 5), so each dashed
line lies under its solid one; for R = 1 SELI is ETF and the same holds in every panel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seli_io.atomic import atomic_savefig, atomic_write
from seli_io.tables import csv_text

PANELS = (("classifiers", "Classifiers  $W$"), ("embeddings", "Embeddings  $M$"),
          ("logits", "Logits  $W^TM$"))
TABLE_FIELDS = ("epoch", "R", "quantity", "geometry", "mean", "min", "max", "seeds")


def fig4_table(rows: list[dict]) -> list[dict]:
    """Per (R, epoch, quantity, geometry): mean, min, max of the distance over seeds."""
    out = []
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        by.setdefault((r["R"], r["epoch"]), []).append(r)
    for (R, epoch), rs in sorted(by.items(), key=lambda kv: (float(_num(kv[0][0])), kv[0][1])):
        for q, _ in PANELS:
            for geo in ("seli", "etf"):
                v = np.array([r[f"{geo}_{q}"] for r in rs], dtype=float)
                out.append({"epoch": epoch, "R": R, "quantity": q, "geometry": geo,
                            "mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
                            "seeds": len(rs)})
    return out


def _num(text) -> float:
    from fractions import Fraction

    return float(Fraction(str(text)))


def table_csv(table: list[dict]) -> str:
    return csv_text(table, TABLE_FIELDS)


def plot_fig4(rows: list[dict], out, *, title: str | None = None,
              label: str = "R") -> dict[str, Path]:
    """Write fig4.png, fig4.pdf and fig4.csv into the folder `out`; returns their paths.

    Lines are named `label`=<the rows' R column>: "R" for STEP, "ratio" for long-tail profiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    table = fig4_table(rows)
    Rs = sorted({t["R"] for t in table}, key=_num)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(len(Rs), 1)))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True, constrained_layout=True)
    for ax, (q, panel) in zip(axes, PANELS):
        for colour, R in zip(colours, Rs):
            for geo, style in (("seli", "-"), ("etf", "--")):
                pts = [t for t in table if t["R"] == R and t["quantity"] == q
                       and t["geometry"] == geo and t["epoch"] > 0]
                if not pts:
                    continue
                e = np.array([t["epoch"] for t in pts])
                ax.plot(e, [t["mean"] for t in pts], style, color=colour, lw=1.6,
                        label=f"{label}={R}" if geo == "seli" else None)
                ax.fill_between(e, [t["min"] for t in pts], [t["max"] for t in pts],
                                color=colour, alpha=0.12, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(panel)
        ax.grid(True, which="both", alpha=0.25)
    axes[0].set_ylabel("distance to geometry")
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles += [Line2D([], [], color="k", ls="-"), Line2D([], [], color="k", ls="--")]
    labels += ["SELI", "ETF"]
    axes[-1].legend(handles, labels, loc="best", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    paths = {"png": out / "fig4.png", "pdf": out / "fig4.pdf", "csv": out / "fig4.csv"}
    atomic_savefig(fig, out / "fig4")
    plt.close(fig)
    atomic_write(paths["csv"], table_csv(table))
    return paths
