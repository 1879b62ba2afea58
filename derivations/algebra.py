"""Deciding identities and signs of expressions with square (and fourth) roots.

An expression with radicals b^(p/q) is rewritten over new positive symbols y with y^q = b (one per
radicand, shared by all its powers). Its numerator N over a common denominator is then reduced
modulo the relations y^q - b; their leading terms y^q are pairwise coprime, so the relations form
a Groebner basis and a zero remainder *proves* N = 0 wherever the radicals are real. A nonzero
remainder proves nothing by itself (radicands may be algebraically related); callers fall back on
numbers then.

>>> import sympy
>>> R = sympy.Symbol("R", positive=True)
>>> is_zero_modulo_radicals(sympy.sqrt(R) ** 3 - R * sympy.sqrt(R))
True
>>> is_zero_modulo_radicals((sympy.sqrt(R + 1) - 1) * (sympy.sqrt(R + 1) + 1) - R)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy


@dataclass(frozen=True)
class RadicalForm:
    """expr == numerator / denominator with each radical base^(1/q) replaced by a symbol y."""

    numerator: sympy.Expr  # polynomial in the original symbols and the y's
    denominator: sympy.Expr
    roots: tuple[tuple[sympy.Symbol, int, sympy.Expr], ...]  # (y, q, base): y^q = base

    def relations(self) -> list[sympy.Expr]:
        """y^q den(base) - num(base): polynomials vanishing at the true radicals."""
        out = []
        for y, q, b in self.roots:
            num, den = sympy.fraction(sympy.cancel(sympy.together(b)))
            out.append(sympy.expand(y**q * den - num))
        return out

    def back(self, expr: sympy.Expr) -> sympy.Expr:
        for y, q, b in reversed(self.roots):  # outermost first: its base may hold inner y's
            expr = expr.subs(y, b ** sympy.Rational(1, q))
        return expr


def radical_form(expr: sympy.Expr) -> RadicalForm:
    """Replace radicals by symbols, innermost first, and put everything over one denominator."""
    expr = canonical_radicands(sympy.sympify(expr))
    roots: list = []
    count = 0
    while True:
        inner = [p for p in expr.atoms(sympy.Pow)
                 if _is_radical(p) and not any(_is_radical(a) for a in p.base.atoms(sympy.Pow))]
        if not inner:
            break
        by_base: dict = {}
        for p in inner:
            by_base.setdefault(p.base, []).append(int(p.exp.q))
        repl = {}
        for base, qs in sorted(by_base.items(), key=lambda kv: sympy.default_sort_key(kv[0])):
            q = int(sympy.ilcm(*qs)) if len(qs) > 1 else qs[0]
            y = sympy.Symbol(f"_y{count}", positive=True)
            count += 1
            roots.append((y, q, base))
            repl[base] = (y, q)
        expr = expr.replace(lambda x: _is_radical(x) and x.base in repl,
                            lambda x: repl[x.base][0] ** int(x.exp * repl[x.base][1]))
    num, den = sympy.fraction(sympy.cancel(sympy.together(expr)))
    return RadicalForm(sympy.expand(num), den, tuple(roots))


def _is_radical(x) -> bool:
    return x.is_Pow and x.exp.is_Rational and not x.exp.is_Integer


def canonical_radicands(expr: sympy.Expr) -> sympy.Expr:
    """Each radicand over one denominator with common factors pulled out, so that equal radicals
    look equal and positive factors (n_min, R) split off: sqrt(n k (1 + x)/k) -> sqrt(n) sqrt(1 + x)."""
    for _ in range(3):  # nested radicals settle in a few rounds
        new = expr.replace(_is_radical, lambda x: sympy.factor(sympy.cancel(x.base)) ** x.exp)
        if new == expr:
            break
        expr = new
    return expr


def reduce_numerator(form: RadicalForm) -> sympy.Expr:
    """The numerator's remainder modulo y^q - base (y's eliminated first)."""
    if not form.roots:
        return sympy.expand(form.numerator)
    ys = [y for y, _, _ in reversed(form.roots)]  # outer radicals eliminated first
    others = sorted(form.numerator.free_symbols - set(ys), key=sympy.default_sort_key)
    for _, _, b in form.roots:
        others += sorted(b.free_symbols - set(others) - set(ys), key=sympy.default_sort_key)
    gens = ys + others
    _, rem = sympy.reduced(form.numerator, form.relations(), *gens, order="lex")
    return sympy.expand(rem)


def is_zero_modulo_radicals(expr: sympy.Expr) -> bool:
    """True when the remainder is 0: a proof that expr vanishes wherever it is defined."""
    form = radical_form(expr)
    if form.numerator == 0:
        return True
    return reduce_numerator(form) == 0


def reduced(expr: sympy.Expr) -> sympy.Expr:
    """expr with its numerator reduced modulo the radical relations, radicals written back."""
    form = radical_form(expr)
    num = reduce_numerator(form)
    return form.back(sympy.factor(num)) / form.back(sympy.factor(form.denominator))
