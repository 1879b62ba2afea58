"""Three arithmetics for one algorithm: float64, arbitrary precision (mpmath), exact (SymPy).

Each arithmetic stores numbers in numpy arrays (float64, or object arrays of mpmath or SymPy
numbers), so the SEL-matrix routines are written once with numpy operators and run unchanged in
all three. An mpmath arithmetic owns a private context, so its precision never leaks into, or
depends on, the global ``mpmath.mp``. A fourth, MPFR (gmpy2), is the fast inner arithmetic in
which the mpmath route polishes the secular roots at the same binary precision (the same Newton
routine, about six times fewer microseconds per operation); its results are handed to mpmath
exactly.

mpmath, gmpy2 and SymPy are imported when an arithmetic that needs them is first built, so that
float64 work (the `seli geometry` default) starts without their import time.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

import contextlib

import numpy as np

from .errors import SeliInputError


def digits_to_bits(digits: int) -> int:
    """Binary precision that carries `digits` decimal digits (mpmath's own rule, so an mpmath
    context at dps = digits and one at prec = digits_to_bits(digits) are the same). The one
    conversion between the two units in the suite.

    >>> digits_to_bits(15), digits_to_bits(50)
    (53, 169)
    """
    from mpmath.libmp import dps_to_prec

    return int(dps_to_prec(int(digits)))


def bits_to_digits(bits: int) -> int:
    """Decimal digits carried by `bits` of binary precision (inverse of digits_to_bits)."""
    from mpmath.libmp import prec_to_dps

    return int(prec_to_dps(int(bits)))


# Extra decimal digits carried by an mpmath arithmetic beyond the digits the caller asked for.
GUARD_DIGITS = 10


class Arithmetic:
    """The operations the SEL algorithms need from a number system."""

    name: str
    dtype: Any
    exact: bool = False

    def number(self, q) -> Any:
        """An int or Fraction as a number of this arithmetic (exactly where possible)."""
        raise NotImplementedError

    def array(self, values) -> np.ndarray:
        return np.array([self.number(v) for v in values], dtype=self.dtype)

    def from_ints(self, a: np.ndarray) -> np.ndarray:
        """An integer numpy array converted entrywise (exactly) to this arithmetic."""
        a = np.asarray(a)
        return np.array([self.number(int(x)) for x in a.ravel()], dtype=self.dtype).reshape(a.shape)

    def sqrt(self, x):
        raise NotImplementedError

    def exp(self, x):
        """Entrywise exp, log and log1p (for the log-sum-exp cross-entropy, seli_exact.simplex)."""
        raise NotImplementedError

    def log(self, x):
        raise NotImplementedError

    def log1p(self, x):
        raise NotImplementedError

    @property
    def eps(self):
        """Unit roundoff of the arithmetic (0 for exact)."""
        raise NotImplementedError

    def to_float(self, x) -> np.ndarray:
        return np.asarray(np.vectorize(float, otypes=[float])(x), dtype=float)

    def scope(self):
        """A context manager inside which this arithmetic's operations run at its precision."""
        return contextlib.nullcontext()

    digits: int  # decimal digits the arithmetic carries (exact: as many as asked)


class Float64(Arithmetic):
    name = "float64"
    dtype = float

    def number(self, q):
        return float(q) if isinstance(q, int) else float(Fraction(q))

    def from_ints(self, a):
        return np.asarray(a, dtype=float)

    def array(self, values) -> np.ndarray:
        return np.asarray(values, dtype=float)  # ints exactly, Fractions correctly rounded

    def sqrt(self, x):
        return np.sqrt(x)

    exp, log, log1p = staticmethod(np.exp), staticmethod(np.log), staticmethod(np.log1p)

    @property
    def eps(self):
        return float(np.finfo(float).eps)

    def to_float(self, x):
        return np.asarray(x, dtype=float)

    digits = 15


class MPMath(Arithmetic):
    """Arbitrary precision: `digits` decimal digits are guaranteed to the caller, computed with
    GUARD_DIGITS more."""

    name = "mpmath"
    dtype = object

    def __init__(self, digits: int):
        if not isinstance(digits, int) or isinstance(digits, bool) or digits < 1:
            raise SeliInputError(
                f"`digits` must be a whole number >= 1; got {digits!r}. Try --digits 50."
            )
        import mpmath

        self.digits = digits
        self.ctx = mpmath.MPContext()
        self.ctx.prec = digits_to_bits(digits + GUARD_DIGITS)
        self._sqrt = np.frompyfunc(self.ctx.sqrt, 1, 1)
        self.exp = np.frompyfunc(self.ctx.exp, 1, 1)
        self.log = np.frompyfunc(self.ctx.log, 1, 1)
        self.log1p = np.frompyfunc(self.ctx.log1p, 1, 1)

    def number(self, q):
        if isinstance(q, int):
            return self.ctx.mpf(q)
        q = Fraction(q)
        return self.ctx.mpf(q.numerator) / q.denominator

    def sqrt(self, x):
        return self._sqrt(x)

    @property
    def eps(self):
        return self.ctx.eps

    def from_mpfr(self, x):
        """A gmpy2 mpfr as an mpf of this context, exactly (at most the same binary precision)."""
        man, exp = x.as_mantissa_exp()
        return self.ctx.mpf((int(man), int(exp)))


class MPFR(Arithmetic):
    """gmpy2's MPFR at `prec` bits: operations must run inside `with self.scope():`."""

    name = "mpfr"
    dtype = object

    def __init__(self, prec: int):
        import gmpy2

        self._gmpy2 = gmpy2
        self.prec = prec
        self.digits = bits_to_digits(prec)
        self._sqrt = np.frompyfunc(gmpy2.sqrt, 1, 1)
        self.exp = np.frompyfunc(gmpy2.exp, 1, 1)
        self.log = np.frompyfunc(gmpy2.log, 1, 1)
        self.log1p = np.frompyfunc(gmpy2.log1p, 1, 1)

    def scope(self):
        gmpy2 = self._gmpy2
        return gmpy2.context(gmpy2.get_context(), precision=self.prec)

    def number(self, q):
        gmpy2 = self._gmpy2
        if isinstance(q, int):
            return gmpy2.mpfr(q)
        q = Fraction(q)
        return gmpy2.mpfr(gmpy2.mpq(q.numerator, q.denominator))

    def sqrt(self, x):
        return self._sqrt(x)

    @property
    def eps(self):
        return self._gmpy2.mpfr(2) ** (1 - self.prec)


class Exact(Arithmetic):
    """SymPy algebraic numbers; meant for small k (roots of the secular polynomial, Sec. A)."""

    name = "exact"
    dtype = object
    exact = True

    def __init__(self):
        import sympy

        self._sympy = sympy
        self._sqrt = np.frompyfunc(sympy.sqrt, 1, 1)
        self.exp = np.frompyfunc(sympy.exp, 1, 1)
        self.log = np.frompyfunc(sympy.log, 1, 1)
        self.log1p = np.frompyfunc(lambda x: sympy.log(1 + x), 1, 1)

    def number(self, q):
        sympy = self._sympy
        if isinstance(q, int):
            return sympy.Integer(q)
        q = Fraction(q)
        return sympy.Rational(q.numerator, q.denominator)

    def sqrt(self, x):
        return self._sqrt(x)

    @property
    def eps(self):
        return 0

    digits = 10**6


@lru_cache(maxsize=32)
def _mpmath(digits) -> MPMath:
    # a context costs about a millisecond to build and is never mutated after, so share it
    return MPMath(digits)


def arithmetic(name: str = "float64", digits: int | None = None) -> Arithmetic:
    """Look an arithmetic up by name: "float64", "mpmath" (with `digits` digits) or "exact"."""
    if isinstance(name, Arithmetic):
        return name
    if name == "float64":
        return Float64()
    if name == "mpmath":
        return _mpmath(30 if digits is None else digits)
    if name == "exact":
        return Exact()
    raise SeliInputError(
        f"`arithmetic` must be one of float64, mpmath, exact; got {name!r}. Pick one of those."
    )
