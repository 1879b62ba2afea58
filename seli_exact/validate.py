"""Parsing and checking of numbers at the boundary; accepts numbers or the text a user typed.

Every failure raises :class:`SeliInputError` with one sentence: argument, value seen, fix. Every
parser has explicit, finite ranges: text such as "1e400", "inf" or "nan" never reaches the maths
as an overflowing float, and a value outside [minimum, maximum] is refused with the range.
`relative_path` refuses a relative path whose base, the current folder, was removed.

>>> whole("k", "4", minimum=2)
4
>>> rational("R", "2.5")
Fraction(5, 2)
>>> real("lr", "0.4", minimum=0, inclusive=False)
0.4
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from numbers import Integral, Rational, Real

from .errors import SeliInputError

# Longest numeral text taken at all: more digits than any model parameter needs, few enough that
# Fraction() and int() stay instant (they are quadratic in the length).
MAX_NUMERAL_CHARS = 64
# Largest magnitude of an exponent in numeral text ("1e400" is refused before it is expanded).
MAX_EXPONENT = 300


def whole(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
          fix: str = "") -> int:
    """`value` as an int (from an int, an integral float or decimal text) in [minimum, maximum]."""
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
    _range(name, out, minimum, maximum, fix)
    return out


def rational(name: str, value, *, minimum=None, maximum=None, fix: str = "") -> Fraction:
    """`value` as an exact Fraction: ints, Fractions, floats (by their decimal text) and text."""
    q = _to_fraction(name, value, "a number", fix)
    _range(name, q, minimum, maximum, fix)
    return q


def real(name: str, value, *, minimum=None, maximum=None, inclusive: bool = True,
         fix: str = "") -> float:
    """`value` as a finite float in the range (closed, or open with inclusive=False)."""
    q = _to_fraction(name, value, "a number", fix)
    try:
        out = float(q)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        raise SeliInputError(
            f"`{name}` must be a finite number; got {value!r}, beyond float range.{_fix(fix)}"
        )
    _range(name, out, minimum, maximum, fix, inclusive=inclusive)
    return out


def relative_path(name: str, path) -> None:
    """Refuse a relative `path` when the current folder no longer exists.

    A shell can stand in a folder that was removed (`cd d; rm -r ../d`); a relative path then
    names nothing, and resolving it (os.getcwd, os.path.abspath) fails. An absolute path, or a
    relative one in an existing folder, passes."""
    if os.path.isabs(os.fspath(path)):
        return
    try:
        os.getcwd()
    except FileNotFoundError:
        raise SeliInputError(
            f"`{name}` {os.fspath(path)!r} is relative to the current folder, which no longer "
            "exists (it was removed); cd to an existing folder or give an absolute path."
        ) from None


def _range(name, x, minimum, maximum, fix, *, inclusive: bool = True) -> None:
    low = minimum is not None and (x < minimum if inclusive else x <= minimum)
    high = maximum is not None and (x > maximum if inclusive else x >= maximum)
    if not (low or high):
        return
    if minimum is not None and maximum is not None:
        lb, rb = ("[", "]") if inclusive else ("(", ")")
        want = f"in {lb}{_num(minimum)}, {_num(maximum)}{rb}"
    elif minimum is not None:
        want = f"at least {_num(minimum)}" if inclusive else f"greater than {_num(minimum)}"
    else:
        want = f"at most {_num(maximum)}" if inclusive else f"less than {_num(maximum)}"
    raise SeliInputError(f"`{name}` must be {want}; got {name}={_num(x)}.{_fix(fix)}")


def _num(x) -> str:
    if isinstance(x, Fraction):
        if x.denominator == 1:
            x = x.numerator
        else:
            return format(float(x), "g")
    if isinstance(x, int) and abs(x) >= 10**15:
        return format(x, ".3e")
    return str(x)


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
        if not text:
            raise SeliInputError(f"`{name}` must be {what}; got empty text.{_fix(fix)}")
        if not text.isascii():
            # Fraction() and int() read any Unicode digit ("١٢" is 12): a numeral is typed in
            # ASCII, and anything else is more likely a paste or encoding accident than a number
            raise SeliInputError(
                f"`{name}` must be {what} written with ASCII digits; got {text[:40]!r}."
                f"{_fix(fix)}"
            )
        if len(text) > MAX_NUMERAL_CHARS:
            raise SeliInputError(
                f"`{name}` must be {what} of at most {MAX_NUMERAL_CHARS} characters; got "
                f"{len(text)} characters.{_fix(fix)}"
            )
        mant, e, exp = text.lower().partition("e")
        if e:
            try:
                big = abs(int(exp)) > MAX_EXPONENT
            except ValueError:
                big = False  # Fraction() below refuses the text with the usual sentence
            if big:
                raise SeliInputError(
                    f"`{name}` must be {what} with an exponent of at most {MAX_EXPONENT}; got "
                    f"{value!r}.{_fix(fix)}"
                )
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
