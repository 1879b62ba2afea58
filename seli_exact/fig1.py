"""Fig 1 of the paper: the SEL matrix as a heat map and the SELI geometry in 3D beside ETF (k = 4).

With d = k - 1 = 3 and R = I in Theorem 1 (iii), the classifiers are the columns of
Lam^{1/2} V^T and the class means those of Lam^{1/2} U_class^T = Lam^{-1/2} V^T.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import atomic_savefig, atomic_write
from .counts import ClassCounts, from_counts
from .errors import SeliInputError
from .sel import sel_matrix
from .svd import sel_svd


def fig1_coordinates(counts: ClassCounts) -> dict:
    """3D coordinates (3, 4) of the classifiers W and class means M at Theorem 1's scale."""
    if counts.k != 4:
        raise SeliInputError(
            f"Fig 1 draws the geometry in 3D, so it needs k = 4 classes; got k={counts.k}. Use --k 4."
        )
    s = sel_svd(counts)
    root = np.sqrt(s.sigma)
    return {"W": root[:, None] * s.V.T, "M": root[:, None] * s.U_class.T}


def make_fig1(counts: ClassCounts, out_dir) -> list[Path]:
    """Write fig1.png, fig1.pdf and fig1.json (the coordinates) into `out_dir`; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seli = fig1_coordinates(counts)
    etf = fig1_coordinates(from_counts([1, 1, 1, 1]))
    groups = counts.groups()
    minority = set(groups["minority"]) if not counts.is_balanced else set()

    fig = plt.figure(figsize=(15, 4.8))
    ax0 = fig.add_subplot(1, 3, 1)
    Z = sel_matrix(counts)
    im = ax0.imshow(Z, aspect="auto", cmap="coolwarm", vmin=-1, vmax=1, interpolation="nearest")
    ax0.set_yticks(range(4), [f"class {c + 1}" for c in range(4)])
    ax0.set_xlabel(f"example i (n = {counts.n})")
    ax0.set_title(r"SEL matrix $\hat{Z}$ " + f"({counts.describe().split(', k=')[0]})")
    fig.colorbar(im, ax=ax0, fraction=0.046, pad=0.04)

    for pos, (coords, title, mins) in enumerate(
        [(seli, "SELI geometry", minority), (etf, "ETF geometry (balanced): W = M", set())], start=2
    ):
        ax = fig.add_subplot(1, 3, pos, projection="3d")
        W, M = coords["W"], coords["M"]
        for c in range(4):
            marker = "+" if c in mins else "o"
            for vec, colour, label, lw in ((W[:, c], "tab:red", "classifier", 3.5),
                                           (M[:, c], "tab:blue", "class mean", 1.5)):
                # classifiers drawn wider underneath, so W = M (ETF) shows both
                ax.plot([0, vec[0]], [0, vec[1]], [0, vec[2]], color=colour, lw=lw, alpha=0.8)
                ax.scatter(*vec, color=colour, marker=marker, s=80 if marker == "+" else 30,
                           label=f"{label}s" if c == 0 else None)
        if mins:
            c0 = min(mins)
            u, v = np.mgrid[0 : 2 * np.pi : 30j, 0 : np.pi : 15j]
            for radius, colour in ((np.linalg.norm(W[:, c0]), "tab:red"), (np.linalg.norm(M[:, c0]), "tab:blue")):
                ax.plot_wireframe(radius * np.cos(u) * np.sin(v), radius * np.sin(u) * np.sin(v),
                                  radius * np.cos(v), color=colour, alpha=0.12, lw=0.5)
        lim = max(np.abs(W).max(), np.abs(M).max()) * 1.05
        ax.set_xlim(-lim, lim), ax.set_ylim(-lim, lim), ax.set_zlim(-lim, lim)
        ax.set_box_aspect((1, 1, 1))
        ax.set_title(title + ("\n(o majority, + minority; spheres at minority norms)" if mins else ""))
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()

    out = Path(out_dir)
    paths = atomic_savefig(fig, out / "fig1", bbox_inches="tight")
    plt.close(fig)
    data = {
        "class_counts": list(counts.counts),
        "seli": {k: v.tolist() for k, v in seli.items()},
        "etf": {k: v.tolist() for k, v in etf.items()},
    }
    paths.append(atomic_write(out / "fig1.json", json.dumps(data, indent=2)))
    return paths
