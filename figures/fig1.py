"""Fig 1 of the paper: the SEL matrix as a heat map and the SELI geometry in 3D beside ETF (k = 4).

With d = k - 1 = 3 and R = I in Theorem 1 (iii), the classifiers are the columns of
Lam^{1/2} V^T and the class means those of Lam^{1/2} U_class^T = Lam^{-1/2} V^T.

Drawing choices (the data in fig1.json are the unscaled coordinates):
  * the heat map draws each class's columns as one block of width n_c: the columns of a class
    are equal (Zhat[c, i] = 1[y_i = c] - 1/k, Definition 2), so the picture is exact for any n
    and costs nothing that grows with n;
  * the 3D panels carry no tick labels: the geometry is defined up to a rotation (Theorem 1
    (iii), any partial orthonormal R), so coordinates mean nothing, only lengths and angles do;
  * at Theorem 1's scale the class means are several times shorter than the classifiers (their
    norms are the diagonal of G_M = V Lam^{-1} V^T, the classifiers' that of V Lam V^T), so the
    means are drawn enlarged by one stated factor, which keeps every angle and every ratio of
    mean norms; the spheres (at the minority norms, as in the paper) follow the same scales.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seli_io.atomic import atomic_write_all, figure_files
from seli_exact.counts import ClassCounts, from_counts
from seli_exact.errors import SeliInputError
from seli_exact.svd import sel_svd

CLASSIFIER, MEAN = "#c0392b", "#1f5fa8"  # red and blue, as the paper's spheres


def fig1_coordinates(counts: ClassCounts) -> dict:
    """3D coordinates (3, 4) of the classifiers W and class means M at Theorem 1's scale."""
    if counts.k != 4:
        raise SeliInputError(
            f"Fig 1 draws the geometry in 3D, so it needs k = 4 classes; got k={counts.k}. Use --k 4."
        )
    s = sel_svd(counts)
    root = np.sqrt(s.sigma)
    return {"W": root[:, None] * s.V.T, "M": root[:, None] * s.U_class.T}


def mean_scale(W: np.ndarray, M: np.ndarray) -> float:
    """The drawing factor of the class means: the largest multiple of 1/2 (at least 1) that
    keeps the longest mean within 55% of the shortest classifier, so the means are long enough
    to see and the two spheres stay apart.

    >>> mean_scale(np.eye(3), np.eye(3) / 4)
    2.0
    >>> mean_scale(np.eye(3), np.eye(3))
    1.0
    """
    ratio = 0.55 * np.linalg.norm(W, axis=0).min() / np.linalg.norm(M, axis=0).max()
    return max(1.0, float(np.floor(ratio * 2) / 2))


def make_fig1(counts: ClassCounts, out_dir) -> list[Path]:
    """Write fig1.png, fig1.pdf and fig1.json (the coordinates) into `out_dir`; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seli = fig1_coordinates(counts)
    etf = fig1_coordinates(from_counts([1, 1, 1, 1]))
    minority = set(counts.groups()["minority"]) if not counts.is_balanced else set()

    with plt.rc_context({"font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8,
                         "pdf.fonttype": 42}):
        fig = plt.figure(figsize=(11.5, 3.9))
        grid = fig.add_gridspec(1, 3, width_ratios=(1.15, 1, 1), wspace=0.22)
        _heat_map(fig.add_subplot(grid[0]), fig, counts)
        panels = ((seli, "(b) SELI geometry", minority),
                  (etf, "(c) ETF geometry (balanced): W = M", set()))
        for pos, (coords, title, mins) in enumerate(panels, start=1):
            _geometry_3d(fig.add_subplot(grid[pos], projection="3d"), coords, title, mins)
        handles = [
            plt.Line2D([], [], color=CLASSIFIER, lw=2.5, label="classifiers $w_c$"),
            plt.Line2D([], [], color=MEAN, lw=2.5, label=r"class means $\mu_c$"),
            plt.Line2D([], [], color="0.2", ls="", marker="o", ms=6, label="majority class"),
            plt.Line2D([], [], color="0.2", ls="", marker="P", ms=7, label="minority class"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False,
                   bbox_to_anchor=(0.62, -0.02))

        out = Path(out_dir)
        files = figure_files(fig, out / "fig1", bbox_inches="tight")
        plt.close(fig)
    data = {
        "class_counts": list(counts.counts),
        "seli": {k: v.tolist() for k, v in seli.items()},
        "etf": {k: v.tolist() for k, v in etf.items()},
        "drawn_mean_scale": {"seli": mean_scale(seli["W"], seli["M"]),
                             "etf": mean_scale(etf["W"], etf["M"])},
    }
    files[out / "fig1.json"] = json.dumps(data, indent=2)
    return atomic_write_all(files)  # the three as one: a failed write leaves the old ones


def _heat_map(ax, fig, counts: ClassCounts) -> None:
    """Zhat (k, n) as k x k blocks: column block j (the n_j examples of class j) holds e_j - 1/k."""
    k = counts.k
    edges = np.concatenate([[0], np.cumsum(counts.counts)]).astype(float)  # (k+1,)
    C = np.eye(k) - 1.0 / k  # (k, k): row c, block j
    mesh = ax.pcolormesh(edges, np.arange(k + 1), C, cmap="coolwarm", vmin=-1, vmax=1,
                         shading="flat", rasterized=True)
    ax.set_ylim(k, 0)
    ax.set_yticks(np.arange(k) + 0.5, [f"class {c + 1}" for c in range(k)])
    ax.set_xticks(_boundary_ticks(edges))
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(f"example $i$, grouped by class ($n = {counts.n}$)")
    case = counts.describe().split(", k=")[0]
    ax.set_title(r"(a) SEL matrix $\hat{Z}$" + f", {case}")
    # Zhat takes two values only (Definition 2): 1 - 1/k where y_i = c, -1/k elsewhere
    bar = fig.colorbar(mesh, ax=ax, fraction=0.05, pad=0.03, ticks=[-1 / k, 1 - 1 / k])
    bar.ax.set_yticklabels([f"$-1/k$\n$={-1 / k:g}$", f"$1-1/k$\n$={1 - 1 / k:g}$"],
                           fontsize=8)


def _boundary_ticks(edges: np.ndarray) -> list[float]:
    """Class boundaries as x ticks, leaving out those closer than 15% of n to a kept one (the
    last boundary, n, is always kept)."""
    n = edges[-1]
    kept = [edges[0]]
    for x in edges[1:-1]:
        if x - kept[-1] >= 0.15 * n and n - x >= 0.15 * n:
            kept.append(x)
    return kept + [n]


def _geometry_3d(ax, coords: dict, title: str, minority: set) -> None:
    W, M = coords["W"], coords["M"]  # (3, 4) each
    scale = mean_scale(W, M)
    Ms = scale * M
    for c in range(W.shape[1]):
        marker, size = ("P", 70) if c in minority else ("o", 36)
        # classifiers drawn wider underneath, so that W = M (ETF) shows both colours
        for vec, colour, lw in ((W[:, c], CLASSIFIER, 4.0), (Ms[:, c], MEAN, 2.0)):
            ax.plot([0, vec[0]], [0, vec[1]], [0, vec[2]], color=colour, lw=lw,
                    solid_capstyle="round")
            ax.scatter(*vec, color=colour, marker=marker, s=size, depthshade=False,
                       edgecolors="white", linewidths=0.6)
    if minority:
        c0 = min(minority)
        u, v = np.mgrid[0 : 2 * np.pi : 36j, 0 : np.pi : 18j]
        for radius, colour in ((np.linalg.norm(W[:, c0]), CLASSIFIER),
                               (np.linalg.norm(Ms[:, c0]), MEAN)):
            ax.plot_wireframe(radius * np.cos(u) * np.sin(v), radius * np.sin(u) * np.sin(v),
                              radius * np.cos(v), color=colour, alpha=0.10, lw=0.5)
    lim = max(np.abs(W).max(), np.abs(Ms).max()) * 1.02
    ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_zlim(-lim, lim)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=18, azim=-60)
    # the geometry is defined up to a rotation: no coordinates, only the frame
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_ticklabels([])
        axis.set_pane_color((0.96, 0.96, 0.96, 1.0))
        axis._axinfo["grid"]["color"] = (0.85, 0.85, 0.85, 1.0)
    ax.tick_params(length=0)
    note = []
    if scale != 1:
        note.append(f"class means drawn {scale:g}x longer")
    if minority:
        note.append("spheres at the minority norms")
    ax.set_title(title, pad=0)
    if note:
        ax.text2D(0.5, 0.0, "\n".join(note), transform=ax.transAxes, ha="center", va="top",
                  fontsize=8, color="0.25")
