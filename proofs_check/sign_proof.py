"""Symbolic sign proofs: the strict sign condition for (R, rho)-STEP, for all k, R, rho, n_min.

Under STEP, G_M = V Lam^{-1} V^T has five distinct entries (derivations.closed_forms()):
h_maj_sq, h_min_sq on the diagonal and h_majmaj, h_minmin, h_majmin off it. The sign condition
of Sec. 3.3 (B_hat * Zhat^T > 0) is h_maj_sq, h_min_sq > 0 > h_majmaj, h_minmin, h_majmin.

The domain k >= 2, 1 <= s = rho k <= k - 1, R >= 1, n_min > 0 is written in nonnegative symbols
by derivations.symbols.positive_parametrization (m = 1 + a majorities, s = 1 + b minorities,
R = 1 + r); treating a, b as reals >= 0 proves more than the integer cases need. On it
`prove_positive` uses exactly two rules, both sound whenever SymPy's assumptions are:

* a sum (after expansion) whose terms SymPy's assumptions show >= 0, one of them > 0, is > 0
  (an expression SymPy itself shows > 0 counts as such a sum of one term);
* a quotient N / D (SymPy's `fraction` after `together`) is > 0 when both N and D are proven
  > 0 by the first rule.

Both rules look at the expression after `together`, which cancels common factors (a * (1/a) is
1 in SymPy), so first every power with a negative exponent in the expression as given must have
a base proven nonzero on the domain (positive or negative by these same rules; positive for a
fractional power): a * (2/3 + 2/(3 a)) is undefined at a = 0, though it cancels to (2 a + 2)/3.

Nothing else: no squaring of P - Q and no negative-denominator case (the STEP entries and the
derivatives of Eq. (4) need neither). A term whose sign SymPy cannot decide leaves the statement
unproven; it is never called proven because simplification gave up.
tests/test_sign_prover.py checks that no expression proven positive takes a value <= 0 anywhere
on the domain (Hypothesis generates the expressions).

>>> import sympy
>>> x = sympy.Symbol("x", nonnegative=True)
>>> prove_positive((1 + x) / (2 + sympy.sqrt(x))).proven
True
>>> prove_positive(1 + x - sympy.sqrt(x)).proven   # true, but needs more than these two rules
False
>>> prove_positive(x - sympy.sqrt(x)).proven       # false near x = 1/4: never "proven"
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy


@dataclass(frozen=True)
class SignProof:
    """Outcome of a sign proof: `proven` True, or False with the `reason` it stopped."""

    proven: bool
    steps: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""


def prove_positive(expr: sympy.Expr) -> SignProof:
    """Prove expr > 0 for every value of its (sign-declared) symbols; see the module doc.

    >>> a = sympy.Symbol("a", nonnegative=True)
    >>> prove_positive(-a * (sympy.Rational(-2, 3) - 2 / (3 * a))).reason   # undefined at a = 0
    'the base a of a negative power is not shown nonzero'
    """
    expr = sympy.sympify(expr)
    ok, why = _defined(expr)
    if not ok:
        return SignProof(False, (), why)
    expr = sympy.together(expr)
    if expr.is_positive:
        return SignProof(True, ("positive by assumptions",))
    num, den = sympy.fraction(expr)
    steps: list[str] = []
    for part, value in (("denominator", den), ("numerator", num)):
        ok, how = _positive_sum(value)
        if not ok:
            return SignProof(False, tuple(steps), f"{part}: {how}")
        steps.append(f"{part}: {how}")
    return SignProof(True, tuple(steps))


def _defined(expr: sympy.Expr) -> tuple[bool, str]:
    """(True, "") when every base of a negative power in `expr` is proven nonzero: positive, or
    negative under an integer exponent (a fractional power of a negative base is not real)."""
    for power in sorted(expr.atoms(sympy.Pow), key=sympy.count_ops):
        if not power.exp.is_negative:
            continue
        base = power.base
        if prove_positive(base).proven:
            continue
        if power.exp.is_integer and prove_positive(-base).proven:
            continue
        return False, f"the base {base} of a negative power is not shown nonzero"
    return True, ""


def _positive_sum(expr: sympy.Expr) -> tuple[bool, str]:
    """(True, how) when expr > 0 by the sum rule, else (False, why not)."""
    if expr.is_positive:
        return True, "positive by assumptions"
    terms = sympy.Add.make_args(sympy.expand(expr))
    for t in terms:
        if not t.is_nonnegative:
            return False, f"sign of the term {t} not shown >= 0"
    if not any(t.is_positive for t in terms):
        return False, "no strictly positive term"
    return True, f"sum of {len(terms)} nonnegative terms, one positive"


# --------------------------------------------------------------------------- STEP
ENTRY_SIGNS = {  # entry of G_M (derivations.closed_forms name) -> required sign
    "h_maj_sq": 1,
    "h_min_sq": 1,
    "h_majmaj": -1,
    "h_minmin": -1,
    "h_majmin": -1,
}


def step_closed_forms() -> dict:
    """The five entries of G_M under STEP (derivations.closed_forms names)."""
    from derivations import closed_forms

    cf = closed_forms()
    return {name: cf[name] for name in ENTRY_SIGNS}


def prove_step_signs(forms: dict | None = None) -> dict[str, SignProof]:
    """For each entry, a proof that sign * entry > 0 on the whole STEP domain.

    `forms` overrides the closed forms (name -> expression in k, R, rho, n_min), e.g. to check
    that a wrong formula is not "proven".
    """
    from derivations import positive_parametrization

    forms = step_closed_forms() if forms is None else forms
    sub, _ = positive_parametrization()
    return {name: prove_positive(sign * forms[name].subs(sub)) for name, sign in ENTRY_SIGNS.items()}
