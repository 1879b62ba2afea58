"""The reference route: (7) on the full k x n matrix through cvxpy (an optional dependency).

This is what the paper did with CVX. It is slow (an n x n semidefinite block for the nuclear
norm plus n exponential cones) and its accuracy is the conic solver's; the returned point is
certified by the same duality gap as the structured solver, computed from the class means of
its columns (by reduction.py (b), averaging within classes never increases the objective).
"""

from __future__ import annotations

import numpy as np

from ..counts import ClassCounts
from ..errors import SeliInputError
from .reduction import certify, one_hot
from .solver import _RANK_FLOOR, RegPathPoint, _check_lam, kkt_residual

SOLVERS = ("SCS", "CLARABEL")


def solve_full_cvxpy(counts: ClassCounts, lam, *, solver: str = "SCS", **solver_options):
    """(Z (k, n), RegPathPoint) from cvxpy on the full problem; solver SCS or CLARABEL."""
    try:
        import cvxpy as cp
    except ImportError:
        raise SeliInputError(
            "the cvxpy route needs the optional dependency cvxpy, which is not installed; "
            "install it with `pip install seli[cvxpy]` or use the structured solver."
        ) from None
    lam = _check_lam(lam)
    name = str(solver).upper()
    if name not in SOLVERS:
        raise SeliInputError(
            f"`solver` must be one of {', '.join(SOLVERS)}; got {solver!r}. Try SCS."
        )
    k, n = counts.k, counts.n
    Y = one_hot(counts)
    Z = cp.Variable((k, n))
    loss = cp.sum(cp.log_sum_exp(Z, axis=0)) - cp.sum(cp.multiply(Y, Z))
    problem = cp.Problem(cp.Minimize(loss + lam * cp.normNuc(Z)))
    problem.solve(solver=getattr(cp, name), **solver_options)
    if Z.value is None:
        raise ArithmeticError(f"cvxpy/{name} returned no solution (status {problem.status})")
    Zv = np.asarray(Z.value, dtype=float)
    M = Zv @ Y.T / np.asarray(counts.counts, dtype=float)[None, :]  # class means of the columns
    cert = certify(M, counts, lam)
    root = np.sqrt(np.asarray(counts.counts, dtype=float))
    s = np.linalg.svd(M * root[None, :], compute_uv=False)
    rank = int(np.sum(s > _RANK_FLOOR * s[0])) if s[0] > 0 else 0
    point = RegPathPoint(counts, lam, M, cert["objective"], cert["dual_objective"],
                         cert["duality_gap"], cert["relative_gap"], kkt_residual(M, counts, lam),
                         0, f"cvxpy-{name}", rank, cert)
    return Zv, point
