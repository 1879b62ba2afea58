"""The symbolic sign prover never proves a false statement.

Hypothesis builds rational expressions in the domain's nonnegative symbols (a, b, r of
derivations.symbols.positive_parametrization, and a positive p): mixed signs, negative
denominators, nested quotients and square roots. Every expression `prove_positive` calls proven
is evaluated at many points of the domain (0, tiny, moderate, huge and random values, at 40
digits); one value that is not a positive real fails the test, and Hypothesis shrinks the
expression. The STEP proofs and Eq. (4)'s monotonicity are rerun at the end: the two rules the
prover keeps are the ones they need.
"""

import random

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from derivations import positive_parametrization
from proofs_check.sign_proof import ENTRY_SIGNS, prove_positive, prove_step_signs, step_closed_forms

_, (A, B, RR) = positive_parametrization()  # nonnegative symbols of the STEP domain
P = sympy.Symbol("p", positive=True)
SYMBOLS = (A, B, RR, P)

leaves = st.one_of(
    st.sampled_from(SYMBOLS),
    st.integers(-3, 3).map(sympy.Integer),
    st.sampled_from([sympy.Rational(1, 2), sympy.Rational(-2, 3), sympy.Rational(7, 5)]),
)


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: t[0] + t[1]),
        pair.map(lambda t: t[0] - t[1]),
        pair.map(lambda t: t[0] * t[1]),
        pair.map(lambda t: t[0] / t[1] if t[1] != 0 else t[0]),
        pair.map(lambda t: t[0] / (-t[1]) if t[1] != 0 else -t[0]),  # negative denominators
        children.map(sympy.sqrt),
        children.map(lambda e: -e),
    )


expressions = st.recursive(leaves, _combine, max_leaves=10)

# domain points: corners (0), tiny, moderate, large, plus seeded random ones
_FIXED = [0, sympy.Rational(1, 10**6), sympy.Rational(1, 3), 1, sympy.Rational(15, 2), 1000, 10**6]
_rng = random.Random(20221128)
POINTS = [tuple(_rng.choice(_FIXED) for _ in SYMBOLS) for _ in range(40)]
POINTS += [tuple(sympy.Rational(_rng.randint(0, 10**4), _rng.randint(1, 100)) for _ in SYMBOLS)
           for _ in range(40)]


def _value(expr, point):
    """expr at the point (p > 0: a zero for p is moved to 1/7), as an mpmath number at 40 digits."""
    sub = dict(zip(SYMBOLS, point))
    if sub[P] == 0:
        sub[P] = sympy.Rational(1, 7)
    v = sympy.N(expr.subs(sub), 40)
    return v


def _non_positive_points(expr):
    bad = []
    for point in POINTS:
        v = _value(expr, point)
        if not (v.is_real and v.is_finite and v > 0):
            bad.append((point, v))
    return bad


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
@example((1 + A) / (2 + sympy.sqrt(B)))
@example((-1 - A) / (-2 - B))
@example((1 + A) / (1 - B))  # a denominator of either sign: must not be proven
@example(A - sympy.sqrt(A))
@example(1 + A - sympy.sqrt(A))
@example(sympy.sqrt(A + B) - sympy.sqrt(A) - sympy.sqrt(B))
@example(1 / (A - 1) / (A - 1))
@example(sympy.sqrt(-1 - A))
@example((A - 1) / (A - 1))
@example(-A * (sympy.Rational(-2, 3) - 2 / (3 * A)))  # cancels to (2a + 2)/3, undefined at a = 0
def test_nothing_false_is_proven(expr):
    note(f"expression: {expr}")
    proof = prove_positive(expr)
    if not proof.proven:
        return
    note(f"steps: {proof.steps}")
    bad = _non_positive_points(expr)
    assert not bad, f"{expr} 'proven' positive but {bad[0][1]} at {dict(zip(SYMBOLS, bad[0][0]))}"


def test_the_two_rules_prove_what_they_should():
    assert prove_positive((1 + A) / (2 + sympy.sqrt(B))).proven
    assert prove_positive((-1 - A) / (-2 - B)).proven  # SymPy cancels the signs itself
    assert prove_positive(A * B + sympy.sqrt(RR) + 1).proven
    assert not prove_positive(A).proven  # zero at a = 0: not strictly positive
    assert not prove_positive(-P).proven
    assert not prove_positive((1 + A) / (1 - B)).proven


def test_step_and_eq4_proofs_need_only_these_rules():
    proofs = prove_step_signs()
    assert set(proofs) == set(ENTRY_SIGNS)
    assert all(p.proven for p in proofs.values()), proofs
    forms = dict(step_closed_forms())
    forms["h_minmin"] = -forms["h_minmin"]
    assert not prove_step_signs(forms)["h_minmin"].proven


@pytest.mark.parametrize("name", sorted(ENTRY_SIGNS))
def test_a_proven_step_entry_has_its_sign_at_sampled_points(name):
    # the proof's claim, checked by numbers on the same domain (an independent route)
    from derivations import symbols

    k, R, rho, n_min = symbols()
    expr = ENTRY_SIGNS[name] * step_closed_forms()[name]
    for kk, s, RRv, nn in ((4, 2, 10, 5), (3, 1, 2, 1), (9, 7, 1000, 3), (2, 1, 1, 1)):
        v = expr.subs({k: kk, rho: sympy.Rational(s, kk), R: RRv, n_min: nn})
        assert mpmath.mpf(str(sympy.N(v, 30))) > 0
