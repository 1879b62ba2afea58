"""Symbolic sign proofs: the strict sign condition for (R, rho)-STEP, for all k, R, rho, n_min.

Under STEP, G_M = V Lam^{-1} V^T has five distinct entries (derivations.closed_forms()):
h_maj_sq, h_min_sq on the diagonal and h_majmaj, h_minmin, h_majmin off it. The sign condition
of Sec. 3.3 (B_hat * Zhat^T > 0) is h_maj_sq, h_min_sq > 0 > h_majmaj, h_minmin, h_majmin.

The domain k >= 2, 1 <= s = rho k <= k - 1, R >= 1, n_min > 0 is parametrized by nonnegative
symbols: m = 1 + m1 majorities, s = 1 + s1 minorities (so k = m + s, rho = s / k), R = 1 + r.
(Treating m, s as reals >= 1 proves more than the integer cases need.) Then `prove_positive`
decides the sign of an expression built from these symbols and square roots:

* a sum whose terms SymPy's assumptions all show >= 0, one of them > 0, is positive;
* otherwise split it as P - Q with P, Q sums of such terms (Q > 0): P - Q > 0 iff
  P^2 - Q^2 > 0, which has fewer radicals after expansion; recurse (a bounded number of times);
* a quotient is positive when numerator and denominator are both positive or both negative.

It never calls a sign proven because simplification gave up: a term whose sign SymPy cannot
decide makes the result undecided.

>>> import sympy
>>> x = sympy.Symbol("x", nonnegative=True)
>>> prove_positive(1 + x - sympy.sqrt(x)).proven   # (1 + x)^2 - x > 0
True
>>> prove_positive(x - sympy.sqrt(x)).proven       # false near x = 1/2: never "proven"
False
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy


@dataclass(frozen=True)
class SignProof:
    """Outcome of a sign proof: `proven` True, or False with the `reason` it stopped."""

    proven: bool
    steps: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""


def prove_positive(expr: sympy.Expr, depth: int = 4) -> SignProof:
    """Prove expr > 0 for every value of its (sign-declared) symbols; see the module doc."""
    steps: list[str] = []
    ok, reason = _positive(sympy.together(expr), depth, steps)
    return SignProof(ok, tuple(steps), reason)


def _positive(expr, depth, steps) -> tuple[bool, str]:
    if expr.is_positive:
        steps.append("positive by assumptions")
        return True, ""
    num, den = sympy.fraction(sympy.together(expr))
    if den != 1:
        ok_d, _ = _positive(den, depth, steps)
        if ok_d:
            return _positive(num, depth, steps)
        ok_nd, _ = _positive(-den, depth, steps)
        if ok_nd:
            return _positive(-num, depth, steps)
        return False, f"sign of the denominator {den} undecided"
    terms = sympy.Add.make_args(sympy.expand(expr))
    P, Q = [], []
    for t in terms:
        if t.is_nonnegative:
            P.append(t)
        elif (-t).is_nonnegative:
            Q.append(-t)
        else:
            return False, f"sign of the term {t} undecided"
    strict_P = any(t.is_positive for t in P)
    if not Q:
        if strict_P:
            steps.append(f"sum of {len(P)} nonnegative terms, one positive")
            return True, ""
        return False, "no strictly positive term"
    if not P:
        return False, "every term is nonpositive"
    if not any(t.is_positive for t in Q) and not strict_P:
        return False, "no strictly positive term on either side"
    if depth == 0:
        return False, "squaring depth exhausted"
    # P - Q with P, Q >= 0 and P + Q > 0: same sign as P^2 - Q^2.
    p, q = sympy.Add(*P), sympy.Add(*Q)
    steps.append(f"square: P - Q with {len(P)} vs {len(Q)} terms")
    return _positive(sympy.expand(p * p - q * q), depth - 1, steps)


# --------------------------------------------------------------------------- STEP
ENTRY_SIGNS = {  # entry of G_M (derivations.closed_forms name) -> required sign
    "h_maj_sq": 1,
    "h_min_sq": 1,
    "h_majmaj": -1,
    "h_minmin": -1,
    "h_majmin": -1,
}


@functools.lru_cache(maxsize=1)
def _closed_forms() -> tuple:
    from derivations import closed_forms

    return tuple(closed_forms().items())


def all_closed_forms() -> dict:
    """derivations.closed_forms(), computed once per process (the derivation takes seconds)."""
    return dict(_closed_forms())


def step_closed_forms() -> dict:
    """The five entries of G_M under STEP (derivations.closed_forms names)."""
    cf = all_closed_forms()
    return {name: cf[name] for name in ENTRY_SIGNS}


def step_domain_substitution():
    """{k, R, rho} -> expressions in nonnegative m1, s1, r (m = 1 + m1, s = 1 + s1, R = 1 + r)."""
    from derivations import symbols

    k, R, rho, _ = symbols()
    m1, s1, r = sympy.symbols("m1 s1 r", nonnegative=True)
    m, s = 1 + m1, 1 + s1
    return {k: m + s, rho: s / (m + s), R: 1 + r}


def prove_step_signs(forms: dict | None = None) -> dict[str, SignProof]:
    """For each entry, a proof that sign * entry > 0 on the whole STEP domain.

    `forms` overrides the closed forms (name -> expression in k, R, rho, n_min), e.g. to check
    that a wrong formula is not "proven".
    """
    forms = step_closed_forms() if forms is None else forms
    sub = step_domain_substitution()
    out = {}
    for name, sign in ENTRY_SIGNS.items():
        out[name] = prove_positive(sign * forms[name].subs(sub))
    return out
