"""`seli geometry`: Theorem 1's UF-SVM minimizer geometry (alpha = 1) as a table or JSON."""

from __future__ import annotations

import math

import numpy as np

from seli_exact import seli_geometry
from seli_exact.validate import whole

from .common import add_counts_arguments, counts_from_args, emit_json, to_json_tree


def add_arguments(p, argv=()) -> None:
    add_counts_arguments(p)
    p.add_argument("--digits", help="compute with mpmath at D significant digits (JSON gives "
                   "decimal strings when D > 15)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args) -> int:
    counts = counts_from_args(args)
    digits = None
    if args.digits is not None:
        digits = whole("digits", args.digits, minimum=1, fix="Try --digits 50.")
        g = seli_geometry(counts, "mpmath", digits)
    else:
        g = seli_geometry(counts)
    if args.json:
        emit_json(geometry_json(g, digits))
    else:
        print(geometry_table(g, digits))
    return 0


def geometry_json(g, digits) -> dict:
    t = lambda a: to_json_tree(a, digits)  # noqa: E731
    return {
        "class_counts": list(g.counts.counts),
        "singular_values": t(g.singular_values),
        "nuclear_norm": t(g.nuclear_norm),
        "W_gram": t(g.W_gram),
        "M_gram": t(g.M_gram),
        "logits": t(g.logits),
        "classifier_norms": t(g.classifier_norms),
        "embedding_norms": t(g.embedding_norms),
        "classifier_cosines": t(g.classifier_cosines),
        "embedding_cosines": t(g.embedding_cosines),
        "alignment": t(g.alignment),
    }


def geometry_table(g, digits) -> str:
    nd = 8 if digits is None else digits
    f = g.to_float() if digits is None else g
    num = lambda x: _fmt(x, nd)  # noqa: E731
    deg = lambda c: f"{math.degrees(math.acos(max(-1.0, min(1.0, float(c))))):.4f}"  # noqa: E731
    sig = f.singular_values
    lines = [
        f"SELI geometry at Theorem 1's scale (alpha = 1): {g.counts.describe()}",
        "singular values of Zhat: " + ", ".join(f"{num(v)} (x{m})" for v, m in _distinct(sig)),
        f"nuclear norm ||Zhat||_* = p* = ||W||_F^2 = ||H||_F^2: {num(f.nuclear_norm)}",
        "",
    ]
    groups = g.counts.groups()
    wn, hn = f.classifier_norms, f.embedding_norms
    cw, ch, al = f.classifier_cosines, f.embedding_cosines, f.alignment
    if g.counts.model == "step" and not g.counts.is_balanced:
        maj, mnr = groups["majority"], groups["minority"]
        rows = [
            ("||w_c||", num(wn[maj[0]]), num(wn[mnr[0]])),
            ("||mu_c||", num(hn[maj[0]]), num(hn[mnr[0]])),
            ("angle(w_c, mu_c) [deg]", deg(al[maj[0]]), deg(al[mnr[0]])),
        ]
        width = max(len(r[1]) for r in rows) + 2
        lines.append(f"{'':26}{'majority':>{width}}{'minority':>{width}}")
        lines += [f"{a:26}{b:>{width}}{c:>{width}}" for a, b, c in rows]
        lines.append("")
        pair = lambda C, i, j: deg(C[i, j]) if i != j else "-"  # noqa: E731
        mm = (maj[0], maj[1]) if len(maj) > 1 else (maj[0], maj[0])
        nn = (mnr[0], mnr[1]) if len(mnr) > 1 else (mnr[0], mnr[0])
        lines.append(f"{'angles [deg]':26}{'maj-maj':>10}{'min-min':>10}{'maj-min':>10}")
        for label, C in (("classifiers", cw), ("class means", ch)):
            lines.append(
                f"{label:26}{pair(C, *mm):>10}{pair(C, *nn):>10}{pair(C, maj[0], mnr[0]):>10}"
            )
    else:
        lines.append(f"{'class':>5} {'n_c':>8} {'||w_c||':>{nd + 6}} {'||mu_c||':>{nd + 6}} "
                     f"{'angle(w_c, mu_c) [deg]':>24}")
        for c in range(g.k):
            lines.append(f"{c:>5} {g.counts.counts[c]:>8} {num(wn[c]):>{nd + 6}} "
                         f"{num(hn[c]):>{nd + 6}} {deg(al[c]):>24}")
        for label, C in (("classifiers", cw), ("class means", ch)):
            lines.append("")
            lines.append(f"angles between {label} [deg]:")
            for i in range(g.k):
                lines.append("  " + " ".join(f"{deg(C[i, j]) if i != j else '-':>9}" for j in range(g.k)))
    return "\n".join(lines)


def _fmt(x, nd: int) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{nd}g}"
    import mpmath

    return mpmath.nstr(x, nd)


def _distinct(values):
    """Distinct singular values with their multiplicities, in the order listed."""
    out = []
    for v in values:
        if out and abs(float(out[-1][0]) - float(v)) <= 1e-12 * abs(float(v)):
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out
