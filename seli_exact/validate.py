"""Parsing and checking of the model's parameters; accepts numbers or the text a user typed.

Every failure raises :class:`SeliInputError` with one sentence: argument, value seen, fix.

>>> whole("k", "4", minimum=2)
4
>>> rational("R", "2.5")
Fraction(5, 2)
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Rational, Real

from .errors import SeliInputError


def whole(name: str, value, *, minimum: int | None = None, fix: str = "") -> int:
    """`value` as an int (from an int, an integral float or decimal text), at least `minimum`."""
    if isinstance(value, bool):
        raise SeliInputError(f"`{name}` must be a whole number; got {value!r}.{_fix(fix)}")
    if isinstance(value, Integral):
        out = int(value)
    else:
        q = _to_fraction(name, value, "a whole number", fix)
        if q.denominator != 1:
            raise SeliInputError(
                f"`{name}` must be a whole number; got {value!r}.{_fix(fix)}"
            )
        out = int(q)
    if minimum is not None and out < minimum:
        raise SeliInputError(
            f"`{name}` must be at least {minimum}; got {name}={out}.{_fix(fix)}"
        )
    return out


def rational(name: str, value, *, fix: str = "") -> Fraction:
    """`value` as an exact Fraction: ints, Fractions, floats (by their decimal text) and text."""
    return _to_fraction(name, value, "a number", fix)


def _to_fraction(name: str, value, what: str, fix: str) -> Fraction:
    if isinstance(value, bool):
        raise SeliInputError(f"`{name}` must be {what}; got {value!r}.{_fix(fix)}")
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, Real):
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            raise SeliInputError(f"`{name}` must be a finite number; got {value!r}.{_fix(fix)}")
        # floats are taken by their shortest decimal text, so 0.1 means 1/10.
        return Fraction(repr(f))
    if isinstance(value, str):
        text = value.strip()
        try:
            q = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise SeliInputError(
                f"`{name}` must be {what}; got the text {value!r}.{_fix(fix)}"
            ) from None
        return q
    raise SeliInputError(f"`{name}` must be {what}; got {value!r}.{_fix(fix)}")


def _fix(fix: str) -> str:
    return f" {fix}" if fix else ""
