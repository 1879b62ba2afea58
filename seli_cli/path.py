"""`seli path`: the regularization path of (7) with certified duality gaps and Fig 3's measurements.

--lambdas takes a comma-separated list ("1e-1,1e-2") or a log range "logspace:A:B:N" (N values
10^A .. 10^B, evenly spaced in the exponent, listed from the largest lam down).
--solver structured (default: the reduced k x k problem, Newton, seli_exact.regpath) or cvxpy
(the full k x n problem, as the paper did with CVX; needs the optional cvxpy; --cvxpy-solver
SCS or CLARABEL). Either way each point's gap is certified by the same dual point, in mpmath;
for cvxpy the reported point is the class-mean matrix of its columns (reduction.py (b):
averaging within classes never raises the objective), so its metrics and gap are those of that
point. A point whose certified relative gap is above the target is flagged, never hidden.
"""

from __future__ import annotations

import argparse
import math
import sys

from seli_exact.errors import SeliInputError
from seli_exact.regpath import GAP_TARGET
from seli_exact.regpath.rows import compute_path, ufsvm_reference
from seli_exact.regpath.cvx import check_cvxpy
from seli_exact.regpath.lambdas import MAX_LAMBDAS
from seli_exact.regpath.solver import LAM_MAX, LAM_MIN, check_counts

from .args import lambdas as parse_lambdas
from .common import add_counts_arguments, counts_from_args, emit_json
from .progress import Progress, add_progress_argument

DEFAULT_LAMBDAS = "logspace:-8:0:17"

COLUMNS_HELP = f"""\
table columns (one row per lambda):
  lambda     the regularization strength of (7)
  objective  L(Z) + lambda ||Z||_* at the returned Z_lambda (the full k x n problem)
  gap        certified duality gap: objective minus the value of a feasible dual point,
             evaluated in 40-digit arithmetic; it bounds objective - min (7) from above
  rel.gap    gap / objective
  cert       yes when rel.gap <= {GAP_TARGET:.1e} (the point is certified); NO otherwise: its
             distances and margin may be inaccurate, and one warning line on stderr names
             every such lambda (exit status 0, or 1 with --strict)
  SELI W/M/WM  distances to SELI (Sec. 5) of the classifier Gram G_W, the class-mean Gram G_M
             and the logits W^T M, from the global minimizers of (1) given by (8)
  ETF W/M    the same distances to the simplex ETF
  margin     the minimum margin of Z_lambda: min over i and c != y_i of Z[y_i,i] - Z[c,i]
  dir.err    || Z/||Z||_* - Zhat/||Zhat||_* ||_F, the distance in direction to the SEL
             matrix (Prop. 2: tends to 0 as lambda -> 0)
  A "-" marks a value that is undefined: for lambda >= sigma_max(Zhat) the solution is Z = 0.
The last line is the UF-SVM (5) reference (the lambda -> 0 limit). --json prints the same
numbers (and "certified") as one JSON object, with null for undefined values."""


def add_arguments(p, argv=()) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = COLUMNS_HELP
    add_counts_arguments(p)
    p.add_argument("--lambdas", default=DEFAULT_LAMBDAS,
                   help='a list "1e-1,1e-2" or a log range "logspace:A:B:N" '
                        f"(default {DEFAULT_LAMBDAS}: 1 down to 1e-8, two points per decade); "
                        f"each in [{LAM_MIN:g}, {LAM_MAX:g}], at most {MAX_LAMBDAS} values")
    p.add_argument("--solver", choices=("structured", "cvxpy"), default="structured",
                   help="structured: reduced k x k Newton solver (default); cvxpy: full k x n "
                        "problem through cvxpy (slow; its points are certified the same way "
                        "and are often flagged NO at small lambda)")
    p.add_argument("--cvxpy-solver", dest="cvxpy_solver", choices=("SCS", "CLARABEL"),
                   help="conic solver behind --solver cvxpy (default SCS)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 when a point is not certified (default: status 0 "
                        "and a warning line on stderr)")
    add_progress_argument(p)


def _num(x):
    if isinstance(x, (bool, int)):
        return x
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _cell(x, fmt: str, width: int) -> str:
    """A table cell: the number, or "-" where it is undefined (NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-".rjust(width)
    text = format(float(x), fmt)
    if text.startswith("-") and float(text) == 0:  # a rounding-level -1e-16 shows as 0, unsigned
        text = text[1:]
    return text.rjust(width)


def check_args(args):
    """(counts, lambdas, cvxpy solver name) after every check of the input, before any solve:
    the class counts (and the solver's size limits), the lambda grid, conflicting flags."""
    counts = counts_from_args(args)
    lambdas = parse_lambdas("--lambdas", args.lambdas)
    if args.cvxpy_solver is not None and args.solver != "cvxpy":
        raise SeliInputError(
            f"`--cvxpy-solver {args.cvxpy_solver}` only applies with --solver cvxpy; got "
            f"--solver {args.solver}. Add --solver cvxpy or drop --cvxpy-solver."
        )
    cvxpy_solver = args.cvxpy_solver or "SCS"
    if args.solver == "cvxpy":
        check_cvxpy(counts, cvxpy_solver)
    else:
        check_counts(counts)
    return counts, lambdas, cvxpy_solver


def run(args) -> int:
    counts, lambdas, cvxpy_solver = check_args(args)
    try:
        with Progress.from_args(args, "seli path") as progress:
            rows = compute_path(counts, lambdas, args.solver, cvxpy_solver, progress=progress)
    except ArithmeticError as err:  # a conic solver that returned nothing usable
        print(f"error: the {args.solver} solver failed: {err}. Try --solver structured.",
              file=sys.stderr)
        return 1
    solver_name = "structured" if args.solver == "structured" else f"cvxpy-{cvxpy_solver}"
    ref = ufsvm_reference(counts)
    bad = [point.lam for _, point, _ in rows if not point.certified]
    if args.json:
        points = []
        for m, point, secs in rows:
            d = m.as_dict()
            d = {k: (_num(v) if not isinstance(v, dict) else {a: _num(b) for a, b in v.items()})
                 for k, v in d.items()}
            d.update({"certified": point.certified, "method": point.method,
                      "iterations": point.iterations, "kkt_residual": point.kkt_residual,
                      "seconds": secs})
            points.append(d)
        emit_json({"solver": solver_name, "class_counts": list(counts.counts),
                   "gap_target": GAP_TARGET, "points": points, "ufsvm": ref})
    else:
        _print_table(counts, solver_name, rows, ref)
    if bad:
        lams = ", ".join(f"{v:.3g}" for v in bad)
        print(f"warning: {len(bad)} of {len(rows)} points not certified (relative duality gap "
              f"above {GAP_TARGET:.1e}) at lambda = {lams}; their distances and margins may be "
              "inaccurate.", file=sys.stderr)
        return 1 if args.strict else 0
    return 0


def _print_table(counts, solver_name, rows, ref) -> None:
    print(f"regularization path of (7), {counts.describe()}, solver {solver_name}; "
          f"cert = relative gap <= {GAP_TARGET:.1e}")
    head = (f"{'lambda':>9} {'objective':>13} {'gap':>9} {'rel.gap':>9} {'cert':>4} | "
            f"{'SELI W':>8} {'SELI M':>8} {'SELI WM':>8} | {'ETF W':>8} {'ETF M':>8} | "
            f"{'margin':>8} {'dir.err':>9}")
    print(head)
    print("-" * len(head))
    for m, point, _ in rows:
        s, e = m.dist_seli, m.dist_etf
        print(f"{m.lam:9.2e} {m.objective:13.6e} {m.duality_gap:9.1e} {m.relative_gap:9.1e} "
              f"{'yes' if point.certified else 'NO':>4} | "
              f"{_cell(s.classifiers, '.4f', 8)} {_cell(s.embeddings, '.4f', 8)} "
              f"{_cell(s.logits, '.4f', 8)} | {_cell(e.classifiers, '.4f', 8)} "
              f"{_cell(e.embeddings, '.4f', 8)} | {_cell(m.min_margin, '.3f', 8)} "
              f"{_cell(m.direction_error, '.3e', 9)}")
    print(f"UF-SVM (5), the lam -> 0 reference: objective {ref['objective']:.12g}, "
          f"duality gap {ref['duality_gap']:.1e}, direction error {ref['direction_error']:.1e}")
