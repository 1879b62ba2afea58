"""The figure of `seli measure --out`: a measured network beside SELI and ETF.

Two rows, classifiers W (top) and centred class means M (bottom). Left: the per-class norms
||w_c||, ||mu_c|| against SELI's (Theorem 1, at the least-squares scale) and against equal norms
(ETF), classes in label order with their counts on a log axis behind. Right: the normalized Gram
matrices G/||G||_F measured, of SELI (these counts) and of ETF on one colour scale per row, signed
square-root so that the off-diagonal entries (the angles) show beside the larger diagonal; the
Frobenius distance between two of these panels is Sec. 5's metric, printed in the titles.
matplotlib is imported only when drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seli_io.atomic import atomic_write_all, figure_files
from seli_exact.metrics import reference_grams

ROWS = (("classifiers", "Classifiers", r"$\|w_c\|$", "W_gram", "classifier_norms"),
        ("embeddings", "Class means", r"$\|\mu_c\|$", "M_gram", "embedding_norms"))
SELI_COLOUR, ETF_COLOUR, MEASURED_COLOUR, COUNT_COLOUR = "#c0392b", "#2c3e50", "#1f77b4", "#e6e6e6"


def plot_measurement(m, stem, *, formats=("png", "pdf")) -> list[Path]:
    """Write the figure of Measurement `m` as stem.png and stem.pdf (atomically); their paths."""
    return atomic_write_all(measurement_figure(m, stem, formats=formats))


def measurement_figure(m, stem, *, formats=("png", "pdf")) -> dict[Path, bytes]:
    """The figure of Measurement `m` rendered in memory, {stem.png: bytes, stem.pdf: bytes}, for
    seli_io.atomic.atomic_write_all (`seli measure --out` writes it with measure.json)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import FuncNorm
    from matplotlib.ticker import FuncFormatter, NullFormatter

    k = m.k
    G_W_seli, G_M_seli, G_star = reference_grams(m.class_counts)
    refs = {"classifiers": G_W_seli, "embeddings": G_M_seli}
    fig = plt.figure(figsize=(12.5, 5.9), constrained_layout=True)
    grid = fig.add_gridspec(2, 5, width_ratios=[1.55, 1, 1, 1, 0.06])
    x = np.arange(k)
    counts = np.asarray(m.class_counts, dtype=float)
    for row, (key, label, symbol, gram_attr, norm_attr) in enumerate(ROWS):
        prof = getattr(m, norm_attr)
        ax = fig.add_subplot(grid[row, 0])
        back = ax.twinx()
        back.bar(x, counts, width=0.8 if k <= 30 else 1.0, color=COUNT_COLOUR, zorder=0)
        back.set_yscale("log")
        back.set_ylim(counts.min() / 2, counts.max() * 4)  # bars below the legend
        back.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        back.yaxis.set_minor_formatter(NullFormatter())
        back.set_ylabel("$n_c$ (grey bars)", color="#7f7f7f")
        back.tick_params(axis="y", colors="#7f7f7f", labelsize=8)
        ax.set_zorder(back.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.axhline(np.mean(prof.measured), color=ETF_COLOUR, ls="--", lw=1.2,
                   label=f"equal norms (ETF), misfit {100 * prof.error_etf:.1f}%")
        ax.plot(x, prof.seli, color=SELI_COLOUR, lw=1.8, marker="D" if k <= 30 else None,
                ms=4, mfc="white", label=f"SELI, misfit {100 * prof.error_seli:.1f}%")
        ax.plot(x, prof.measured, ls="none", marker="o", ms=5 if k <= 30 else 2.5,
                alpha=1.0 if k <= 30 else 0.7, color=MEASURED_COLOUR, label="measured")
        top = 1.12 * max(prof.measured.max(), prof.seli.max())
        ax.set_ylim(0, top * 1.22)  # head room for the legend
        ax.set_xlim(-0.6, k - 0.4)
        ax.set_ylabel(symbol)
        ax.set_title(f"{label}: per-class norms", fontsize=10, loc="left")
        ax.legend(loc="upper right", fontsize=7.5, frameon=False, ncol=1)
        if k <= 20:
            ax.set_xticks(x)
        if row == 1:
            ax.set_xlabel("class (label order)")

        panels = (("measured", getattr(m, gram_attr), None),
                  ("SELI", refs[key], getattr(m.distance_to_seli, key)),
                  ("ETF", G_star, getattr(m.distance_to_etf, key)))
        mats = [A / np.linalg.norm(A) for _, A, _ in panels]
        vmax = max(float(np.abs(A).max()) for A in mats)
        norm = FuncNorm((_signed_sqrt, _signed_square), vmin=-vmax, vmax=vmax)
        for col, ((name, _, dist), A) in enumerate(zip(panels, mats), start=1):
            axg = fig.add_subplot(grid[row, col])
            im = axg.imshow(A, cmap="RdBu_r", norm=norm, interpolation="nearest")
            title = name if dist is None else f"{name}   (distance {dist:.3f})"
            axg.set_title(title, fontsize=10)
            if k <= 12:
                axg.set_xticks(x)
                axg.set_yticks(x)
                axg.tick_params(labelsize=7)
            else:
                axg.set_xticks([])
                axg.set_yticks([])
            if col == 1:
                G = "G_W = W^T W" if key == "classifiers" else "G_M = M^T M"
                axg.set_ylabel(f"${G}$ / $\\|\\cdot\\|_F$".replace("^T", "^{T}"), fontsize=9)
        bar = fig.colorbar(im, cax=fig.add_subplot(grid[row, 4]))
        bar.set_label("entry (signed square-root scale)", fontsize=8)
        bar.ax.tick_params(labelsize=7)

    ratio = max(m.class_counts) / min(m.class_counts)
    fig.suptitle(
        f"k = {k} classes, n = {m.n}, imbalance ratio {ratio:.4g}; class means centred: "
        f"{m.center}.  Distances (Sec. 5) are between normalized Grams.",
        fontsize=10.5,
    )
    files = figure_files(fig, stem, formats=formats)
    plt.close(fig)
    return files


def _signed_sqrt(x):
    return np.sign(x) * np.sqrt(np.abs(x))


def _signed_square(x):
    return np.sign(x) * np.square(x)
