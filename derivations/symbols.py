"""The symbols of the (R, rho)-STEP model (Definition 1) and of the derivation.

The closed forms are stated in k, R, rho, n_min (all positive); the derivation itself runs in the
class counts m = (1 - rho) k (majorities) and s = rho k (minorities), substituted at the end.
Domain of every closed form: k >= 2, 1 <= s = rho k <= k - 1 whole, R >= 1, n_min > 0.

>>> k, R, rho, n_min = symbols()
>>> majority_count(), minority_count()
(k*(1 - rho), k*rho)
"""

from __future__ import annotations

import sympy

_k, _R, _rho, _n_min = sympy.symbols("k R rho n_min", positive=True)
# Class counts used while deriving; replaced by (1 - rho) k and rho k in the closed forms.
m, s = sympy.symbols("m s", positive=True)
# Abstract singular values sigma_maj, sigma_min, sigma_mix (positive), kept while simplifying.
S_MAJ, S_MIN, S_MIX = sympy.symbols("sigma_maj sigma_min sigma_mix", positive=True)
# An eigenvalue unknown.
lam = sympy.Symbol("lambda")

SYMBOL_NAMES = ("k", "R", "rho", "n_min")


def symbols() -> tuple[sympy.Symbol, sympy.Symbol, sympy.Symbol, sympy.Symbol]:
    """(k, R, rho, n_min) as positive SymPy symbols."""
    return _k, _R, _rho, _n_min


def majority_count() -> sympy.Expr:
    """m = (1 - rho) k, the number of majority classes."""
    return (1 - _rho) * _k


def minority_count() -> sympy.Expr:
    """s = rho k, the number of minority classes."""
    return _rho * _k


def counts_substitution() -> dict:
    """{m: (1 - rho) k, s: rho k}: from the derivation's counts to the paper's parameters."""
    return {m: majority_count(), s: minority_count()}


def sympify_locals() -> dict:
    """The names a formula string may use, bound to the positive symbols (for sympy.sympify)."""
    return dict(zip(SYMBOL_NAMES, symbols()))


def positive_parametrization() -> tuple[dict, tuple[sympy.Symbol, sympy.Symbol, sympy.Symbol]]:
    """The domain as nonnegative symbols: m = 1 + a, s = 1 + b, R = 1 + r (a, b, r >= 0).

    So k = 2 + a + b and rho = (1 + b)/(2 + a + b). The map is onto the whole domain (a, b whole
    for a STEP model), and under it every factor that is positive on the domain (1 - rho, k - 1,
    m - 1 >= 0, 1 - rho + rho R, ...) is visibly so, so SymPy's assumptions decide signs and pull
    positive factors out of square roots.

    >>> sub, (a, b, r) = positive_parametrization()
    >>> ((1 - _rho) * _k - 1).subs(sub).simplify()
    a
    >>> sympy.factor((1 - _rho + _rho * _R).subs(sub)).is_positive
    True
    """
    a, b, r = sympy.symbols("a b r", nonnegative=True)
    return {_k: 2 + a + b, _rho: (1 + b) / (2 + a + b), _R: 1 + r}, (a, b, r)


def counts_parametrization() -> dict:
    """The same for the derivation's counts: {m: 1 + a, s: 1 + b, R: 1 + r}."""
    sub, (a, b, r) = positive_parametrization()
    return {m: 1 + a, s: 1 + b, _R: 1 + r}
