"""Shared steps of the claims about Sec. 3.2's printed formulas (Lemma 3.1, Eq. (4), Remark 3.2).

The formulas themselves are typed in once, in derivations.paper; here they are evaluated
exactly at (R, 1/2)-STEP points, the SELI geometry is computed at tolerances.DIGITS digits by
seli_exact at the same points, and a printed formula is matched with a derived closed form by
derivations.verify_identity (proven by reduction modulo the radical relations, refuted by a
nonzero value at a domain point, undecided otherwise).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy

from derivations import symbols, verify_identity
from seli_exact import seli_geometry, step
from seli_exact.verdict import Status

from . import tolerances
from .cache import memo
from .evidence import failed_row, proven_row, to_mpf, undecided_row


def half_step_points(profile: str, kmin: int = 2) -> list[tuple[int, Fraction]]:
    """(k, R) of the (R, 1/2)-STEP instances the printed formulas are evaluated at."""
    ks = [2, 4, 6, 10] if profile == "quick" else [2, 4, 6, 8, 10, 20, 40]
    Rs = ([1, Fraction(3, 2), 10, 1000] if profile == "quick"
          else [1, Fraction(3, 2), 2, 10, 99, 1000, 10**6])
    return [(k, Fraction(R)) for k in ks if k >= kmin for R in Rs]


def at(expr: sympy.Expr, k: int, R) -> sympy.Expr:
    """A formula in derivations' symbols k, R at a point, exactly."""
    ks, Rs, _, _ = symbols()
    R = Fraction(R)
    return expr.subs({ks: sympy.Integer(k), Rs: sympy.Rational(R.numerator, R.denominator)})


@memo
def half_step_geometry(k: int, R: Fraction):
    """seli_exact's SELI geometry of (R, 1/2)-STEP at tolerances.DIGITS digits (n_min makes
    R n_min whole)."""
    return seli_geometry(step(k, R, "1/2", R.denominator), "mpmath", tolerances.DIGITS)


def majority_minority(g) -> tuple[tuple[int, ...], tuple[int, ...]]:
    groups = g.counts.groups()
    return groups["majority"], groups["minority"]


def value_residual(printed, measured) -> float:
    """max |measured - printed| / max(|printed|, 1) at DIGITS + 10 digits."""
    worst = mpmath.mpf(0)
    with mpmath.workdps(tolerances.DIGITS + 10):
        for p, m in zip(printed, measured):
            p = to_mpf(p)
            worst = max(worst, abs(to_mpf(m) - p) / max(abs(p), 1))
    return float(worst)


def identity_row(name: str, derived: sympy.Expr, printed: sympy.Expr) -> dict:
    """derived == printed for all k, R (derivations.verify_identity) as a row."""
    v = verify_identity(name, derived, printed, parametrize=False)
    method = v.evidence.get("method", "")
    if v.status is Status.VERIFIED:
        return proven_row(f"symbolic: {name} (all k, R)", method=method)
    if v.status is Status.REFUTED:
        return failed_row(f"symbolic: {name} (all k, R)", "differs at a domain point",
                          residual=v.worst, method=method)
    return undecided_row(f"symbolic: {name} (all k, R)", method)


def half(expr: sympy.Expr) -> sympy.Expr:
    """A closed form at rho = 1/2."""
    _, _, rho, _ = symbols()
    return expr.subs(rho, sympy.Rational(1, 2))
