"""Fig 3, drawn and written: three panels from the rows of seli_exact.regpath.rows (distance to
SELI, minimum margin, distance to ETF along the regularization path) and fig3.csv.
"""

from __future__ import annotations

from pathlib import Path

from seli_exact.regpath.rows import COLUMNS, K, fig3_rows
from seli_io.atomic import atomic_write_all, figure_files
from seli_io.tables import csv_text


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
