"""Lemma A.1 (v): the CE gradient at a positive multiple of Zhat is a negative multiple of Zhat.

L(Z) = sum_i log(1 + sum_{c != y_i} exp(-(z_{y_i} - z_c))) (Section 2) is a sum over the columns z
of Z. At Z = beta Zhat a column has two distinct entries, u = beta (1 - 1/k) at the label and
v = -beta/k at the k - 1 other classes. The per-column loss is differentiated with respect to the
label entry, and with respect to one other entry (kept apart as w before differentiating); the two
derivatives are compared with the column of Zhat, (1 - 1/k) and -1/k, which gives the multiplier.

>>> beta = sympy.Symbol("beta", positive=True)
>>> ce_gradient_multiplier(beta)
k/(k + exp(beta) - 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .symbols import symbols


@dataclass(frozen=True)
class GradientDerivation:
    """grad at beta Zhat: entry at the label, entry at another class, and the two multipliers
    c_label = -grad_label / (1 - 1/k) and c_other = -grad_other / (-1/k) (equal when the identity holds)."""

    beta: sympy.Symbol
    grad_label: sympy.Expr
    grad_other: sympy.Expr
    multiplier_label: sympy.Expr
    multiplier_other: sympy.Expr


def ce_gradient(beta: sympy.Expr | None = None) -> GradientDerivation:
    k, _, _, _ = symbols()
    beta = sympy.Symbol("beta", positive=True) if beta is None else beta
    u, v, w = sympy.symbols("u v w", real=True)
    # one column: label entry u, one distinguished other entry w, k - 2 further entries v
    loss = sympy.log(1 + sympy.exp(-(u - w)) + (k - 2) * sympy.exp(-(u - v)))
    at = {u: beta * (1 - 1 / k), v: -beta / k, w: -beta / k}
    g_label = sympy.simplify(sympy.diff(loss, u).subs(at))
    g_other = sympy.simplify(sympy.diff(loss, w).subs(at))
    c_label = sympy.simplify(-g_label / (1 - 1 / k))
    c_other = sympy.simplify(-g_other / (-1 / k))
    return GradientDerivation(beta, g_label, g_other, c_label, c_other)


def ce_gradient_multiplier(beta: sympy.Expr | None = None) -> sympy.Expr:
    """alpha' with grad_Z L(beta Zhat) = -alpha' Zhat (beta = alpha^2 in Proposition 1's proof)."""
    d = ce_gradient(beta)
    return sympy.factor(sympy.simplify(d.multiplier_label))
