"""Section 4: the regularization path of (7), its certificates, and the models beside it.

Public names:
  reduction   one_hot, class_sel, reduced_objective, full_objective, certify
  solver      RegPathPoint, solve_regpath_point, solve_regpath, solve_reduced, certified_point,
              kkt_residual, GAP_TARGET (the certified relative gap every point is held to),
              METHODS (the solver's branches; `method=` runs one alone)
  reference   reference_solution (mpmath-polished, in seli_exact.regpath.reference)
  path        PathMetrics, path_metrics, min_margin, direction_error, minority_cosine
  ufm_gd      GDResult, gd_ufm, ufm_objective_and_grad      (gradient descent on (1))
  linear      linear_scale, linear_solution, linear_stationarity, ce_gradient   (Sec. 4.4)
  lambdas     parse_lambdas                                  ("1e-1,1e-2" or "logspace:-8:0:17")
  rows        compute_path, ufsvm_reference, fig3_rows, fig3_counts (in seli_exact.regpath.rows:
              Fig 3's numbers; figures.fig3 draws them)
"""

from .lambdas import parse_lambdas
from .linear import ce_gradient, linear_scale, linear_solution, linear_stationarity
from .path import PathMetrics, direction_error, min_margin, minority_cosine, path_metrics
from .reduction import (
    certify,
    class_sel,
    full_objective,
    one_hot,
    reduced_objective,
)
from .solver import (
    GAP_TARGET,
    METHODS,
    RegPathPoint,
    certified_point,
    kkt_residual,
    solve_reduced,
    solve_regpath,
    solve_regpath_point,
)
from .ufm_gd import GDResult, gd_ufm, ufm_objective_and_grad

__all__ = [
    "parse_lambdas", "ce_gradient", "linear_scale", "linear_solution", "linear_stationarity",
    "PathMetrics", "direction_error", "min_margin", "minority_cosine", "path_metrics",
    "certify", "class_sel", "full_objective", "one_hot", "reduced_objective",
    "GAP_TARGET", "METHODS", "RegPathPoint", "certified_point", "kkt_residual", "solve_reduced",
    "solve_regpath", "solve_regpath_point",
    "GDResult", "gd_ufm", "ufm_objective_and_grad",
]
