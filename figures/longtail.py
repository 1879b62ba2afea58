"""The SELI geometry of long-tailed class counts, drawn: `seli reproduce longtail`.

Theorem 1 holds for every count vector (derivations/any_counts.py), so the geometry of a real
long tail is SELI, computed here by the secular route (float64). One row per count profile:

(a) the classifier norms ||w_c|| and class-mean norms ||mu_c|| against class rank (head first),
    each divided by its root mean square so that ETF, whose norms are all equal, is the line 1;
    the class counts n_c in grey on the right axis;
(b, c) the cosines between classifiers and between class means under SELI, and
(d) under ETF (Corollary 1.3: W = M, every off-diagonal cosine -1/(k - 1)).

The cosines are drawn as (k - 1) cos, so ETF is -1 for every k and one colour scale serves both
CIFAR-10-LT (k = 10) and ImageNet-LT (k = 1000); the diagonal (cos = 1) is left out. A k x k
matrix wider than MAX_PIXELS is averaged over square blocks of classes (off-diagonal entries
only) before drawing, so a 1000 x 1000 matrix is neither aliased by the renderer nor embedded
at full size in the PDF; the JSON holds the per-class numbers exactly and the matrices as drawn.

>>> from seli_exact.counts import parse_profile
>>> d = longtail_numbers(parse_profile("exp:k=4:ratio=16:n_max=160"))
>>> d["counts"], [round(x, 4) for x in d["classifier_norms"]]
([160, 63, 25, 10], [2.9116, 2.41, 2.0851, 1.9254])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seli_io.atomic import atomic_write_all, figure_files
from seli_exact.counts import ClassCounts, parse_profile
from seli_exact.errors import SeliInputError
from seli_exact.geometry import seli_geometry

# CIFAR-10-LT (Cao et al.: 5000 down to 50) and an ImageNet-LT-sized tail (1280 down to 5).
DEFAULT_PROFILES = ("exp:k=10:ratio=100", "exp:k=1000:ratio=256:n_max=1280")
MAX_K = 5000  # the figure holds k x k matrices (8 k^2 bytes each)
MAX_PIXELS = 400  # a cosine matrix is drawn with at most this many cells a side
ANNOTATE_K = 12  # small matrices get their values printed in the cells


def longtail_numbers(counts: ClassCounts) -> dict:
    """What the figure shows for one count vector, as plain numbers (JSON-ready).

    `cosines` holds the two SELI cosine matrices as drawn: cos itself (not scaled by k - 1), the
    diagonal as None, exact (k x k) when k <= MAX_PIXELS, else averaged over blocks of
    `classes_per_cell` x `classes_per_cell` classes and rounded to 6 significant digits.
    """
    g = seli_geometry(counts)
    k = counts.k
    drawn = {name: _block_mean(C, MAX_PIXELS)
             for name, C in (("classifier", g.classifier_cosines), ("embedding", g.embedding_cosines))}
    cell = int(np.ceil(k / drawn["classifier"].shape[0]))

    def plain(M: np.ndarray) -> list[list[float | None]]:
        rnd = (lambda v: float(v)) if cell == 1 else (lambda v: float(f"{v:.6g}"))
        return [[None if np.isnan(v) else rnd(v) for v in row] for row in M]

    return {
        "description": counts.describe(),
        "k": k,
        "n": counts.n,
        "counts": list(counts.counts),
        "classifier_norms": g.classifier_norms.tolist(),
        "embedding_norms": g.embedding_norms.tolist(),
        "alignment": g.alignment.tolist(),
        "singular_values": g.singular_values.tolist(),
        "etf_cosine": -1.0 / (k - 1),
        "cosines": {"classes_per_cell": cell, **{name: plain(M) for name, M in drawn.items()}},
    }


def profile_rows(profiles) -> list[tuple[str, ClassCounts]]:
    """(label, counts) for each figure row: the profiles checked (parsed, k <= MAX_K)."""
    out = []
    for p in DEFAULT_PROFILES if profiles is None else profiles:
        counts = p if isinstance(p, ClassCounts) else parse_profile(p)
        if counts.k > MAX_K:
            raise SeliInputError(
                f"the long-tail figure draws k x k cosine matrices, so k must be at most {MAX_K}; "
                f"got k={counts.k} from {p!r}. Use fewer classes."
            )
        out.append((p if isinstance(p, str) else counts.describe(), counts))
    if not out:
        raise SeliInputError("`profiles` must name at least one count profile; got none. "
                             "Try exp:k=10:ratio=100.")
    return out


def _block_mean(C: np.ndarray, cells: int) -> np.ndarray:
    """C (k, k) with its diagonal left out, averaged over square blocks so at most `cells` a side."""
    k = C.shape[0]
    C = C.astype(float).copy()
    C[np.diag_indices(k)] = np.nan
    size = int(np.ceil(k / cells))
    if size == 1:
        return C
    m = int(np.ceil(k / size)) * size
    padded = np.full((m, m), np.nan)
    padded[:k, :k] = C
    view = padded.reshape(m // size, size, m // size, size)
    with np.errstate(invalid="ignore"):
        total = np.nansum(view, axis=(1, 3))
        count = np.sum(~np.isnan(view), axis=(1, 3))
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def make_longtail(out_dir, profiles=None) -> list[Path]:
    """Write longtail.png, longtail.pdf and longtail.json into `out_dir`; return their paths.

    `profiles`: count-profile specs ("exp:k=K:ratio=R[:n_max=N]", seli_exact.counts) or
    ClassCounts, one figure row each; default CIFAR-10-LT-like and ImageNet-LT-like tails.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SeliInputError(f"`out_dir` must be a folder; got {str(out_dir)!r}, which is a file. "
                             "Give a folder path, e.g. --out figs.")
    rows = profile_rows(profiles)
    numbers = [(label, longtail_numbers(counts), counts) for label, counts in rows]

    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, NullFormatter

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9})
    fig, axes = plt.subplots(len(numbers), 4, figsize=(16, 4.1 * len(numbers)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.35, 1, 1, 1], "wspace": 0.38,
                                          "hspace": 0.45})
    for row, (label, d, counts) in enumerate(numbers):
        k = d["k"]
        rank = np.arange(1, k + 1)
        letter = "abcdefghijklmnop"[row % 16]
        ax = axes[row, 0]
        w, h = np.array(d["classifier_norms"]), np.array(d["embedding_norms"])
        marker = "o" if k <= 30 else None
        w_rel, h_rel = w / np.sqrt(np.mean(w**2)), h / np.sqrt(np.mean(h**2))
        ax.plot(rank, w_rel, color="tab:red", marker=marker, ms=3.5, lw=1.6,
                label=r"classifier $\|w_c\|$")
        ax.plot(rank, h_rel, color="tab:blue", marker=marker, ms=3.5, lw=1.6,
                label=r"class mean $\|\mu_c\|$")
        ax.axhline(1.0, color="0.25", ls="--", lw=1, label="ETF (all equal)")
        ax.set_yscale("log")
        lo, hi = min(w_rel.min(), h_rel.min()), max(w_rel.max(), h_rel.max())
        ticks = [v for v in (0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3, 4) if lo / 1.2 <= v <= hi * 1.2]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_yticklabels([f"{v:g}" for v in ticks])
        ax.set_xlabel("class rank (head to tail)")
        ax.set_ylabel("norm / RMS over classes")
        pad = 0.5 if k <= 30 else 0
        ax.set_xlim(1 - pad, k + pad)
        ax.grid(True, which="major", alpha=0.25)
        counts_ax = ax.twinx()
        counts_ax.fill_between(rank, d["counts"], color="0.55", alpha=0.2, step="mid", lw=0)
        counts_ax.set_yscale("log")
        counts_ax.tick_params(axis="y", colors="0.45", labelsize=8)
        ax.set_zorder(counts_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_title(f"({letter}1) {label}\nk = {k}, n = {d['n']}, counts {d['counts'][0]} to "
                     f"{d['counts'][-1]}", loc="left")
        handles, names = ax.get_legend_handles_labels()
        handles.append(Patch(color="0.55", alpha=0.3))
        names.append("class count $n_c$ (right axis)")
        ax.legend(handles, names, loc="lower center", fontsize=7.5, frameon=False)

        g = seli_geometry(counts)
        etf = np.full((k, k), -1.0 / (k - 1))
        mats = [(k - 1) * g.classifier_cosines, (k - 1) * g.embedding_cosines, (k - 1) * etf]
        shown = [_block_mean(M, MAX_PIXELS) for M in mats]
        finite = np.concatenate([x[np.isfinite(x)] for x in shown])
        # colour = departure from ETF: white at -1, the same scale on both sides
        lim = max(abs(finite.min() + 1), abs(finite.max() + 1), 0.05)
        norm = TwoSlopeNorm(vmin=-1 - lim, vcenter=-1.0, vmax=-1 + lim)
        titles = [r"SELI: $(k-1)\cos(w_c, w_{c'})$", r"SELI: $(k-1)\cos(\mu_c, \mu_{c'})$",
                  r"ETF: $(k-1)\cos = -1$, $W = M$"]
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.8")
        for col, (S, title) in enumerate(zip(shown, titles), start=1):
            ax = axes[row, col]
            im = ax.imshow(S, cmap=cmap, norm=norm, interpolation="nearest",
                           extent=(0.5, k + 0.5, k + 0.5, 0.5))
            ax.set_title(f"({letter}{col + 1}) {title}", loc="left")
            cell = int(np.ceil(k / S.shape[0]))
            ax.set_xlabel("class rank" + (f" ({cell} x {cell} classes per cell)" if cell > 1 else ""))
            if col == 1:
                ax.set_ylabel("class rank")
            if k <= ANNOTATE_K:
                ax.set_xticks(rank)
                ax.set_yticks(rank)
                for a in range(k):
                    for b in range(k):
                        if a != b:
                            v = S[a, b]
                            ax.text(b + 1, a + 1, f"{v:.1f}", ha="center", va="center",
                                    fontsize=5.5 if k > 8 else 7,
                                    color="white" if abs(v + 1) > 0.6 * lim else "black")
            elif col == 3:
                ax.text(0.5, 0.5, "every off-diagonal entry is -1", transform=ax.transAxes,
                        ha="center", va="center", fontsize=8, color="0.35")
        cbar = fig.colorbar(im, ax=axes[row, 1:].tolist(), fraction=0.022, pad=0.015)
        cbar.set_label(r"$(k-1)\,\cos$ (white: ETF's $-1$)")
        if lim > 4:  # make the ETF level visible on wide scales
            cbar.ax.axhline(-1.0, color="black", lw=0.8)
    fig.suptitle("SELI geometry of long-tailed class counts (Theorem 1 for any counts) beside ETF",
                 y=0.99 + 0.03 / len(numbers), fontsize=11)
    files = figure_files(fig, out_dir / "longtail", dpi=220, bbox_inches="tight")
    plt.close(fig)
    payload = {"profiles": [{"profile": label, **d} for label, d, _ in numbers],
               "cosine_scale": "the figure draws (k - 1) cos; the JSON holds cos itself"}
    files[out_dir / "longtail.json"] = json.dumps(payload) + "\n"
    return atomic_write_all(files)  # the three as one: a failed write leaves the old ones
