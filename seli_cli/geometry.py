"""`seli geometry`: Theorem 1's UF-SVM minimizer geometry (alpha = 1) as a table or JSON.

Every input is checked first (`check_args`): the class counts (one source, see
seli_cli.common), --digits in [1, MAX_DIGITS], and the estimated memory and time of the
computation and its output against the limits of seli_cli.limits.
"""

from __future__ import annotations

import math

import numpy as np

from seli_exact import ROUTES, seli_geometry

from .args import MAX_DIGITS
from .args import digits as parse_digits
from .common import add_counts_arguments, counts_from_args, emit_json, to_json_tree
from .limits import TIME_LIMIT_S, check_cost, geometry_cost


def add_arguments(p, argv=()) -> None:
    p.epilog = (f"Inputs whose estimated memory exceeds half of this machine's, or whose time "
                f"exceeds {TIME_LIMIT_S / 60:g} min, are refused before any work, with the "
                "estimate (the cost grows like k^2 and like the cube of the number of distinct "
                "counts).")
    add_counts_arguments(p)
    p.add_argument("--digits", metavar="D", help=f"compute with mpmath at D significant digits, "
                   f"1 to {MAX_DIGITS} (JSON gives decimal strings when D > 15)")
    p.add_argument("--route", choices=ROUTES, default="secular",
                   help="how the geometry is computed: secular (default; the structured SVD of "
                   "the SEL matrix from the secular equation), dense (an eigen-decomposition of "
                   "the k x k matrix P D P: LAPACK, or mpmath at --digits) or integral (G_M and "
                   "G_W by quadrature of Theorem 1's integral formulas for any counts; the JSON "
                   "then reports the quadrature's error estimate). All three agree; see "
                   "`seli check --claims thm1.any_counts`")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def check_args(args):
    """(counts, digits) after every check of the input, before anything is computed."""
    counts = counts_from_args(args)
    digits = None if args.digits is None else parse_digits(args.digits)
    J = len(set(counts.counts))
    at = "" if digits is None else f" at {digits} digits"
    check_cost(geometry_cost(counts, digits, json=args.json, route=args.route),
               f"the geometry of {counts.k:,} classes ({J:,} distinct counts){at}"
               + ("" if args.route == "secular" else f" by the {args.route} route"),
               "give fewer classes or fewer distinct counts" + ("" if digits is None else
                                                                  ", or fewer --digits") + ".")
    return counts, digits


def run(args) -> int:
    counts, digits = check_args(args)
    ar = "float64" if digits is None else "mpmath"
    g = seli_geometry(counts, ar, digits, route=args.route)
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
        "route": g.route,
        # the integral route's quadrature error estimate (None for the other routes)
        "error": _jsonable(g.error) if g.error else None,
    }


def _jsonable(x):
    """The integral route's error record (numbers, lists and dicts of mpmath/numpy numbers)."""
    if isinstance(x, dict):
        return {key: _jsonable(v) for key, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return int(x) if isinstance(x, int) else float(x)


def geometry_table(g, digits) -> str:
    nd = 8 if digits is None else digits
    f = g.to_float() if digits is None else g
    num = lambda x: _fmt(x, nd)  # noqa: E731
    deg = lambda c: f"{math.degrees(math.acos(max(-1.0, min(1.0, float(c))))):.4f}"  # noqa: E731
    sig = f.singular_values
    lines = [
        f"SELI geometry at Theorem 1's scale (alpha = 1): {g.counts.describe()}",
        f"route: {g.route}" + (f" (quadrature error estimate: G_M relative "
                               f"{float(g.error['G_M_rel']):.2g}, G_W absolute "
                               f"{float(g.error['G_W_abs']):.2g})" if g.error else ""),
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
            # (k, k) degrees at once: k^2 entries are formatted, not k^2 acos calls
            D = np.degrees(np.arccos(np.clip(np.asarray(C, dtype=float), -1.0, 1.0)))
            for i in range(g.k):
                lines.append("  " + " ".join(f"{D[i, j]:9.4f}" if i != j else f"{'-':>9}"
                                             for j in range(g.k)))
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
