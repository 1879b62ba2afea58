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
from .reduction import one_hot
from .solver import _check_lam, certified_point, check_counts

SOLVERS = ("SCS", "CLARABEL")
# The conic problem carries an n x n semidefinite block: memory ~ n^2 and time ~ n^3 per
# iteration (n = 400 takes tens of seconds with SCS); larger n is refused rather than attempted.
MAX_N = 500


def check_cvxpy(counts: ClassCounts, solver: str = "SCS") -> str:
    """The conic solver's name if the cvxpy route can take `counts` (cvxpy installed, a known
    solver, n <= MAX_N), else a SeliInputError; imports cvxpy only to see that it is there."""
    counts = check_counts(counts)
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        raise SeliInputError(
            "the cvxpy route needs the optional dependency cvxpy, which is not installed; "
            "install it with `pip install seli[cvxpy]` or use the structured solver."
        ) from None
    name = str(solver).upper()
    if name not in SOLVERS:
        raise SeliInputError(
            f"`solver` must be one of {', '.join(SOLVERS)}; got {solver!r}. Try SCS."
        )
    if counts.n > MAX_N:
        raise SeliInputError(
            f"the cvxpy route solves the full k x n problem with an n x n semidefinite block and "
            f"takes at most n={MAX_N} examples; got n={counts.n}. Use the structured solver, or "
            "fewer examples."
        )
    return name


def solve_full_cvxpy(counts: ClassCounts, lam, *, solver: str = "SCS", digits: int = 40,
                     **solver_options):
    """(Z (k, n), RegPathPoint) from cvxpy on the full problem; solver SCS or CLARABEL.

    The point is certified by solver.certified_point at `digits` digits, as every solver's is."""
    name = check_cvxpy(counts, solver)
    lam = _check_lam(lam)
    import cvxpy as cp

    k, n = counts.k, counts.n
    Y = one_hot(counts)
    Z = cp.Variable((k, n))
    loss = cp.sum(cp.log_sum_exp(Z, axis=0)) - cp.sum(cp.multiply(Y, Z))
    problem = cp.Problem(cp.Minimize(loss + lam * cp.normNuc(Z)))
    try:
        problem.solve(solver=getattr(cp, name), **solver_options)
    except cp.error.SolverError as err:
        raise ArithmeticError(f"cvxpy/{name} failed: {err}") from None
    if Z.value is None:
        raise ArithmeticError(f"cvxpy/{name} returned no solution (status {problem.status})")
    Zv = np.asarray(Z.value, dtype=float)
    M = Zv @ Y.T / np.asarray(counts.counts, dtype=float)[None, :]  # class means of the columns
    if not np.all(np.isfinite(M)):
        raise ArithmeticError(f"cvxpy/{name} returned a non-finite point (status {problem.status})")
    # the same certificate as the structured solver's points: `certified` is False whenever the
    # conic solver's accuracy falls short of GAP_TARGET (SCS at its defaults mostly does)
    return Zv, certified_point(counts, lam, M, 0, f"cvxpy-{name}", digits=digits)
