"""Independent solvers for the paper's convex programs.

Public names: solve_ufsvm, UFSVMResult (the reduced relaxation (5) with a duality-gap
certificate), nuclear_norm_weighted, dual_value;
solve_ufsvm_cvxpy, FullSolution (the full (k, n) problem through the optional cvxpy).
"""

from .ufsvm import (
    FullSolution,
    UFSVMResult,
    dual_value,
    nuclear_norm_weighted,
    solve_ufsvm,
    solve_ufsvm_cvxpy,
)

__all__ = [
    "solve_ufsvm",
    "UFSVMResult",
    "nuclear_norm_weighted",
    "dual_value",
    "solve_ufsvm_cvxpy",
    "FullSolution",
]
