"""`seli reproduce fig3 --out DIR`: Fig 3, global minimizers of (1) along the regularization path.

k = 4, rho = 1/2 and, for each R, n_min chosen so that n = ((R + 1)/2) k n_min is about 400
(as in Sec. 5). Each lam is solved by the structured solver of (7) with a certified duality gap,
and Theorem 2 (8) turns the solution into Gram matrices. Panels: (a) distance to SELI of
classifiers, class means and logits; (b) the minimum margin; (c) distance to ETF. Writes
fig3.png, fig3.pdf and fig3.csv (one row per (R, lam), with the UF-SVM (5) reference per R when
its solver is available).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from seli_exact import step
from seli_exact.atomic import atomic_write
from seli_exact.regpath import parse_lambdas
from seli_exact.validate import whole

from .path import compute_path, ufsvm_reference

DEFAULT_RS = "2,5,10,50,100"
DEFAULT_LAMBDAS = "logspace:-8:0:17"
N_TARGET = 400

COLUMNS = [
    "R", "n_min", "n", "lambda", "objective", "duality_gap", "relative_gap",
    "dist_seli_classifiers", "dist_seli_embeddings", "dist_seli_logits",
    "dist_etf_classifiers", "dist_etf_embeddings", "dist_etf_logits",
    "min_margin", "normalized_margin", "direction_error", "method",
    "ufsvm_objective", "ufsvm_duality_gap",
]


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, help="output folder for fig3.png, fig3.pdf, fig3.csv")
    p.add_argument("--R", dest="Rs", default=DEFAULT_RS,
                   help=f"imbalance ratios, comma-separated (default {DEFAULT_RS})")
    p.add_argument("--lambdas", default=DEFAULT_LAMBDAS,
                   help='a list "1e-1,1e-2" or "logspace:A:B:N" (default %(default)s)')


def n_min_for(R: int, k: int = 4) -> int:
    """n_min with n = ((R + 1)/2) k n_min closest to 400 (at least 1)."""
    return max(1, round(N_TARGET / ((R + 1) / 2 * k)))


def fig3_rows(Rs, lambdas) -> list[dict]:
    rows = []
    for R in Rs:
        counts = step(4, R, "1/2", n_min_for(R))
        ref = ufsvm_reference(counts) or {}
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
                "ufsvm_objective": ref.get("objective", ""),
                "ufsvm_duality_gap": ref.get("duality_gap", ""),
            })
    return rows


def rows_to_csv(rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def plot_fig3(rows, Rs):
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
    png, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    fig.savefig(pdf, format="pdf")
    plt.close(fig)
    return png.getvalue(), pdf.getvalue()


def make_fig3(out, Rs, lambdas) -> list[Path]:
    rows = fig3_rows(Rs, lambdas)
    png, pdf = plot_fig3(rows, Rs)
    out = Path(out)
    return [atomic_write(out / "fig3.csv", rows_to_csv(rows)), atomic_write(out / "fig3.png", png),
            atomic_write(out / "fig3.pdf", pdf)]


def run(args) -> int:
    Rs = [whole("R", r.strip(), minimum=1, fix="Give whole imbalance ratios, e.g. 1,10,100.")
          for r in str(args.Rs).split(",") if r.strip()]
    for path in make_fig3(args.out, Rs, parse_lambdas(args.lambdas)):
        print(path)
    return 0
