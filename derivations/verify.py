"""Verification of the derivations: verified / refuted / undecided, with the residual.

`verify_identity` proves lhs = rhs by reducing the difference modulo the radical relations (see
algebra.py) over the domain's positive parametrization; failing that, it evaluates the difference
at sample points of the domain at 50 digits: a nonzero value refutes, and values that all vanish
leave the identity *undecided* (never verified). `verify_sign` decides a sign from SymPy's
assumptions after factoring; otherwise it samples, refuting on a wrong sign and staying undecided
otherwise.

Every function returns a seli_exact.verdict.Verdict (the suite's one verdict type): its
`claim_id` names the statement, `worst` is the residual (0.0 for a symbolic proof; None for sign
statements, whose sampled margin is in the evidence) and `evidence` says how it was decided.

>>> k, R, rho, n_min = symbols()
>>> verify_identity("demo", sympy.sqrt(4 * R), 2 * sympy.sqrt(R)).status.value
'verified'
>>> verify_identity("demo", sympy.sqrt(R), R).status.value
'refuted'
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy

from seli_exact import arithmetic, default_rtol
from seli_exact.verdict import Status, Verdict

from .algebra import is_zero_modulo_radicals, radical_form, reduce_numerator
from .symbols import positive_parametrization, symbols

# Domain points (k, R, rho, n_min) for numeric evaluation; the paper's Fig 1 case first.
SAMPLE_POINTS: tuple = (
    (4, Fraction(10), Fraction(1, 2), 5), (5, Fraction(3), Fraction(2, 5), 7),
    (7, Fraction(2), Fraction(1, 7), 3), (7, Fraction(5, 2), Fraction(6, 7), 2),
    (3, Fraction(100), Fraction(2, 3), 1), (12, Fraction(37, 3), Fraction(5, 12), 9),
    (2, Fraction(9), Fraction(1, 2), 4), (9, Fraction(1), Fraction(1, 3), 6),
)
DIGITS = 50




def mp_tol(digits: int) -> float:
    """Relative tolerance of a comparison at `digits` decimal digits: 10^-(digits - 5).

    Five digits of headroom below the working precision cover the rounding of a few hundred
    operations (each loses at most one unit in the last place) and the guard digits the
    arithmetic adds; a difference above it is a real one.
    """
    return 10.0 ** (-(int(digits) - 5))


def float64_tol(k: int) -> float:
    """Relative tolerance of a float64 result of O(k) dense operations on O(1) data:
    seli_exact.precision.default_rtol(float64) = 2^-43 (2^10 unit roundoffs) times k + 1
    (about one rounding per dimension)."""
    return default_rtol(arithmetic("float64")) * (int(k) + 1)


# Numeric fallbacks run at DIGITS digits; a difference above NUMERIC_TOL there is a real one,
# anything below cannot be told from 0.
NUMERIC_TOL = mp_tol(DIGITS)


def outcome(name: str, status: Status, residual: float | None, evidence: dict,
            instances: int = 1) -> Verdict:
    """A derivation statement's verdict: `name` is its id, `residual` its worst residual."""
    return Verdict(name, status, instances, residual, "residual", evidence)


def _eval(expr, point, digits: int = DIGITS):
    """expr at a domain point, as an mpmath number at `digits` digits (None if not a number)."""
    k, R, rho, n_min = symbols()
    kk, RR, rr, nn = point
    sub = {k: sympy.Integer(kk), R: sympy.Rational(RR.numerator, RR.denominator),
           rho: sympy.Rational(rr.numerator, rr.denominator), n_min: sympy.Integer(nn)}
    val = sympy.N(sympy.sympify(expr).subs(sub), digits + 10)
    if not val.is_number:
        return None
    re, im = val.as_real_imag()
    with mpmath.workdps(digits + 10):
        return mpmath.mpc(str(sympy.N(re, digits + 10)), str(sympy.N(im, digits + 10)))


def numeric_residual(diff: sympy.Expr, points=SAMPLE_POINTS, scale: sympy.Expr | None = None):
    """max |diff| / (1 + |scale|) over the points (points where diff is undefined are skipped)."""
    worst, at = 0.0, None
    for p in points:
        try:
            v = _eval(diff, p)
        except (ZeroDivisionError, ValueError, TypeError):
            continue
        if v is None or not mpmath.isfinite(v):
            continue
        s = _eval(scale, p) if scale is not None else 0
        r = abs(v) / (1 + (abs(s) if s is not None and mpmath.isfinite(s) else 0))
        if float(r) >= worst:
            worst, at = float(r), p
    return worst, at


def verify_identity(name: str, lhs: sympy.Expr, rhs: sympy.Expr, *, points=SAMPLE_POINTS,
                    parametrize: bool = True, square_signs: bool = False) -> Verdict:
    """lhs = rhs on the domain. square_signs: also try lhs^2 = rhs^2 with equal, decided signs
    (for quotients by square roots of radical expressions)."""
    lhs, rhs = sympy.sympify(lhs), sympy.sympify(rhs)
    sub = positive_parametrization()[0] if parametrize else {}
    diff, scale = lhs - rhs, rhs  # in k, R, rho, n_min: what numeric_residual evaluates
    if parametrize:
        lhs, rhs = _unabs(lhs.subs(sub)), _unabs(rhs.subs(sub))
        sub = {}
    tol = NUMERIC_TOL
    try:
        if is_zero_modulo_radicals((lhs - rhs).subs(sub)):
            return outcome(name, Status.VERIFIED, 0.0, {"method": "reduction modulo radicals"})
        if square_signs:
            sl, sr = _sign(lhs.subs(sub)), _sign(rhs.subs(sub))
            if sl is not None and sl == sr and is_zero_modulo_radicals((lhs**2 - rhs**2).subs(sub)):
                return outcome(name, Status.VERIFIED, 0.0,
                               {"method": "squares equal modulo radicals, signs equal", "sign": sl})
    except Exception as err:  # noqa: BLE001 - a failed proof attempt only leaves numbers to decide
        reason = f"reduction failed: {type(err).__name__}"
    else:
        reason = "reduction left a nonzero remainder"
    residual, at = numeric_residual(diff, points, scale=scale)
    if residual > tol:
        return outcome(name, Status.REFUTED, residual,
                       {"method": f"numeric at {DIGITS} digits", "point": _point_json(at)})
    return outcome(name, Status.UNDECIDED, residual,
                   {"method": f"{reason}; numerically zero at {DIGITS} digits", "points": len(points)})


def _unabs(expr: sympy.Expr) -> sympy.Expr:
    """|x| -> x or -x where the sign of x is decided (after factoring)."""
    def drop(x):
        f = sympy.factor(x)
        if f.is_nonnegative:
            return x
        if f.is_nonpositive:
            return -x
        return sympy.Abs(x)

    return expr.replace(sympy.Abs, drop)


def _sign(expr: sympy.Expr) -> int | None:
    """+1 / -1 / 0 when SymPy's assumptions decide it (after factoring), else None."""
    expr = _unabs(expr)
    for e in (expr, sympy.factor(expr)):
        if e.is_zero:
            return 0
        if e.is_positive:
            return 1
        if e.is_negative:
            return -1
    return None


def decide_sign(expr: sympy.Expr) -> int | None:
    """The sign of expr on the domain if provable: assumptions under the positive parametrization,
    then with the numerator reduced modulo its radicals and factored."""
    sub = positive_parametrization()[0]
    e = sympy.sympify(expr).subs(sub)
    s = _sign(e)
    if s is not None:
        return s
    form = radical_form(e)
    num = sympy.factor(reduce_numerator(form))
    den = sympy.factor(form.denominator)
    sn, sd = _sign(form.back(num)), _sign(form.back(den))
    if sn is not None and sd not in (None, 0):
        return sn * sd
    return None


def verify_sign(name: str, expr: sympy.Expr, sign: int, *, points=SAMPLE_POINTS,
                strict: bool = True) -> Verdict:
    """expr has sign `sign` (+1 or -1) on the domain (strictly, or allowing 0 when not strict)."""
    decided = decide_sign(expr)
    margin, at = None, None
    for p in points:
        try:
            v = _eval(expr, p)
        except (ZeroDivisionError, ValueError, TypeError):
            continue
        if v is None or not mpmath.isfinite(v):
            continue
        m = float(sign * v.real)
        if margin is None or m < margin:
            margin, at = m, p
    bad = margin is not None and (margin < 0 or (strict and margin == 0))
    info = {"smallest_sampled_margin": margin, "decided_sign": decided}
    if decided == sign and not bad:
        return outcome(name, Status.VERIFIED, None, {"method": "sign decided symbolically", **info})
    if decided == 0 and not strict and not bad:
        return outcome(name, Status.VERIFIED, None, {"method": "identically zero", **info})
    if bad or (decided is not None and decided != sign and decided != 0):
        return outcome(name, Status.REFUTED, None, {"method": "sign", "point": _point_json(at), **info})
    return outcome(name, Status.UNDECIDED, None, {"method": "sign undecided; samples agree", **info})


def _point_json(p):
    if p is None:
        return None
    return {"k": p[0], "R": str(p[1]), "rho": str(p[2]), "n_min": p[3]}
