"""`seli path`: the regularization path of (7) with certified duality gaps and Fig 3's measurements.

--lambdas takes a comma-separated list ("1e-1,1e-2") or a log range "logspace:A:B:N" (N values
10^A .. 10^B, evenly spaced in the exponent, listed from the largest lam down).
--solver structured (default: the reduced k x k problem, Newton, seli_exact.regpath) or cvxpy
(the full k x n problem, as the paper did with CVX; needs the optional cvxpy; --cvxpy-solver
SCS or CLARABEL). Either way each point's gap is certified by the same dual point; for cvxpy the
reported point is the class-mean matrix of its columns (reduction.py (b): averaging within classes
never raises the objective), so its metrics and gap are those of that point.
"""

from __future__ import annotations

import math

from seli_exact.regpath import parse_lambdas
from seli_exact.regpath.fig3 import compute_path, ufsvm_reference

from .common import add_counts_arguments, counts_from_args, emit_json

DEFAULT_LAMBDAS = "logspace:-8:0:17"


def add_arguments(p, argv=()) -> None:
    add_counts_arguments(p)
    p.add_argument("--lambdas", default=DEFAULT_LAMBDAS,
                   help='a list "1e-1,1e-2" or a log range "logspace:A:B:N" '
                        f"(default {DEFAULT_LAMBDAS}: 1 down to 1e-8, two points per decade)")
    p.add_argument("--solver", choices=("structured", "cvxpy"), default="structured",
                   help="structured: reduced k x k Newton solver (default); cvxpy: full k x n "
                        "problem through cvxpy")
    p.add_argument("--cvxpy-solver", dest="cvxpy_solver", choices=("SCS", "CLARABEL"),
                   default="SCS", help="conic solver behind --solver cvxpy (default SCS)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _num(x):
    if isinstance(x, int):
        return x
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def run(args) -> int:
    counts = counts_from_args(args)
    lambdas = parse_lambdas(args.lambdas)
    rows = compute_path(counts, lambdas, args.solver, args.cvxpy_solver)
    solver_name = "structured" if args.solver == "structured" else f"cvxpy-{args.cvxpy_solver}"
    ref = ufsvm_reference(counts)
    if args.json:
        points = []
        for m, point, secs in rows:
            d = m.as_dict()
            d = {k: (_num(v) if not isinstance(v, dict) else {a: _num(b) for a, b in v.items()})
                 for k, v in d.items()}
            d.update({"method": point.method, "iterations": point.iterations,
                      "kkt_residual": point.kkt_residual, "seconds": secs})
            points.append(d)
        emit_json({"solver": solver_name, "class_counts": list(counts.counts), "points": points,
                   "ufsvm": ref})
        return 0
    print(f"regularization path of (7), {counts.describe()}, solver {solver_name}")
    head = (f"{'lambda':>9} {'objective':>13} {'gap':>9} {'rel.gap':>9} | {'SELI W':>8} "
            f"{'SELI M':>8} {'SELI WM':>8} | {'ETF W':>8} {'ETF M':>8} | {'margin':>8} "
            f"{'dir.err':>9}")
    print(head)
    print("-" * len(head))
    for m, _, _ in rows:
        s, e = m.dist_seli, m.dist_etf
        print(f"{m.lam:9.2e} {m.objective:13.6e} {m.duality_gap:9.1e} {m.relative_gap:9.1e} | "
              f"{float(s.classifiers):8.4f} {float(s.embeddings):8.4f} {float(s.logits):8.4f} | "
              f"{float(e.classifiers):8.4f} {float(e.embeddings):8.4f} | {m.min_margin:8.3f} "
              f"{m.direction_error:9.3e}")
    print(f"UF-SVM (5), the lam -> 0 reference: objective {ref['objective']:.12g}, "
          f"duality gap {ref['duality_gap']:.1e}, direction error {ref['direction_error']:.1e}")
    return 0
