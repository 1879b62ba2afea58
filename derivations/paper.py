"""The formulas the paper prints, typed in as printed: the independent route the derivations meet.

Lemma 3.1 and Eq. (4) hold for (R, 1/2)-STEP; Corollary 1.3 gives the ETF values; the proof of
Proposition 1 states the multiplier of Lemma A.1 (v). Nothing here is derived, and this is the
only place in the suite where these formulas are typed in: the derivations' checks and the
checker's claims (proofs_check.claims.lemma3_1, eq4, remark3_2, lemmaA1v) read them from here.

>>> k, R, rho, n_min = symbols()
>>> eq_4()["cos_w_minmin"].subs({k: 4, R: 1})
-1/3
"""

from __future__ import annotations

import sympy

from .symbols import symbols


def lemma_3_1() -> dict[str, sympy.Expr]:
    """Lemma 3.1 (rho = 1/2): ||w_maj||^2/||w_minor||^2 and ||h_maj||^2/||h_minor||^2."""
    k, R, _, _ = symbols()
    q = sympy.sqrt((R + 1) / 2)
    w = ((1 - sympy.Integer(2) / k) * sympy.sqrt(R) + q / k) / ((1 - sympy.Integer(2) / k) + q / k)
    h = ((1 - sympy.Integer(2) / k) / sympy.sqrt(R) + 1 / (k * q)) / ((1 - sympy.Integer(2) / k) + 1 / (k * q))
    return {"w_norm_ratio": w, "h_norm_ratio": h}


def eq_4() -> dict[str, sympy.Expr]:
    """Eq. (4) (rho = 1/2): cosines between two majority and between two minority classifiers."""
    k, R, _, _ = symbols()
    q = sympy.sqrt((R + 1) / 2)
    return {
        "cos_w_majmaj": (-2 * sympy.sqrt(R) + q) / ((k - 2) * sympy.sqrt(R) + q),
        "cos_w_minmin": (-2 + q) / (k - 2 + q),
    }


def eq_4_domain() -> tuple[dict, tuple[sympy.Symbol, sympy.Symbol]]:
    """Where Eq. (4)'s monotonicity statement lives, in nonnegative symbols j, r: two classes in
    each block at rho = 1/2 (k = 4 + j >= 4, pairs of majorities and of minorities exist) and
    R = 1 + r >= 1. Treating j as real proves more than the even k the statement needs.

    >>> sub, (j, r) = eq_4_domain()
    >>> sub[symbols()[0]]
    j + 4
    """
    k, R, _, _ = symbols()
    j, r = sympy.symbols("j r", nonnegative=True)
    return {k: 4 + j, R: 1 + r}, (j, r)


def etf_cosine() -> sympy.Expr:
    """Corollary 1.3: the angle between any two classifiers or class means has cosine -1/(k-1)."""
    k, _, _, _ = symbols()
    return -1 / (k - 1)


def gradient_multiplier(alpha_sq) -> sympy.Expr:
    """Proof of Proposition 1: grad L(alpha^2 Zhat) = -alpha' Zhat, alpha' = k/(exp(alpha^2) + k - 1)."""
    k, _, _, _ = symbols()
    return k / (sympy.exp(alpha_sq) + k - 1)
