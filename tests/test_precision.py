"""seli_exact.precision: the tolerance is what each arithmetic promises, and `close` decides at
it (the tests of every other module lean on `close`, so a loose tolerance would weaken them all)."""

from __future__ import annotations

import mpmath
import pytest

from seli_exact import arithmetic, close, default_rtol


@pytest.mark.parametrize("digits", [15, 30, 50, 100])
def test_mpmath_tolerance_is_the_promised_digits(digits):
    ar = arithmetic("mpmath", digits)
    assert default_rtol(ar) == pytest.approx(10.0 ** -digits, rel=1e-12)
    with mpmath.workdps(digits + 20):
        one = mpmath.mpf(1)
        inside, outside = one + mpmath.mpf(10) ** -(digits + 1), one + mpmath.mpf(10) ** -(digits - 1)
    assert close(one, inside, ar)
    assert not close(one, outside, ar)


def test_float64_and_exact_tolerances():
    f64 = arithmetic("float64")
    assert default_rtol(f64) == 2.0 ** -43
    assert close(1.0, 1.0 + 2.0 ** -45, f64) and not close(1.0, 1.0 + 2.0 ** -41, f64)
    ex = arithmetic("exact")
    assert default_rtol(ex) == 0.0
    import sympy

    assert close(sympy.sqrt(8), 2 * sympy.sqrt(2), ex)
    assert not close(sympy.sqrt(8), 2 * sympy.sqrt(2) + sympy.Rational(1, 10**40), ex)


def test_close_compares_shapes_and_every_entry():
    f64 = arithmetic("float64")
    assert not close([1.0, 2.0], [1.0], f64)
    assert not close([1.0, 2.0], [1.0, 2.0 + 1e-9], f64)
    assert close([[1.0, 0.0]], [[1.0, 1e-14]], f64)  # atol defaults to rtol
    assert not close([[1.0, 0.0]], [[1.0, 1e-14]], f64, atol=0.0)
