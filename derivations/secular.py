"""Arbitrary class counts: the nonzero eigenvalues of P D P are roots of sum_c 1/(n_c - mu) = 0.

Derivation, for any k. A vector is written by its class-c entry, an expression in the symbol n_c
(the count of class c) and in class-independent quantities: k, N = sum_c n_c and
S(mu) = sum_c 1/(n_c - mu). Summing an entry over the classes (`class_sum`) splits it into
partial fractions in n_c: a + b n_c + A/(n_c - mu) sums to a k + b N + A S. With that:

* an eigenvector v for mu > 0 is orthogonal to 1 (P D P 1 = 0), so P v = v and P D v = mu v,
  i.e. (n_c - mu) v_c = 1^T D v / k, the same for every class: v_c = t/(n_c - mu) when mu is no
  count (t != 0), or (D - mu) v = 0 when mu is a count shared by r >= 2 classes (zero-sum vectors
  on those classes: multiplicity r - 1; a count held by one class gives no such vector);
* for v_c = 1/(n_c - mu), P D P v - mu v = S(mu) g_c(mu) entrywise, with g derived below, so v is an
  eigenvector exactly when S(mu) = 0 (g_c = 0 for every c would force n_c = N/k - mu for all c,
  i.e. mu = 0).

Over the distinct counts a_1 < ... < a_J with multiplicities r_j, S(mu) = sum_j r_j/(a_j - mu)
rises from -inf to +inf on each gap (a_j, a_{j+1}): J - 1 roots, plus sum_j (r_j - 1) shared
eigenvalues, k - 1 in all.

>>> d = secular_derivation()
>>> d.residual_factor
-(-N + k*mu + k*n_c)/k**2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy

from seli_exact.arithmetic import digits_to_bits
from seli_exact.counts import ClassCounts

n_c, mu = sympy.symbols("n_c mu", positive=True)
_k = sympy.Symbol("k", positive=True)
N, S = sympy.symbols("N S")  # sum of the counts; secular function sum_c 1/(n_c - mu)


def class_sum(entry: sympy.Expr) -> sympy.Expr:
    """sum over the classes of an entry a + b n_c + A/(n_c - mu) (a, b, A free of n_c)."""
    parts = sympy.Add.make_args(sympy.apart(sympy.together(entry), n_c))
    out = sympy.Integer(0)
    for p in parts:
        if not p.has(n_c):
            out += _k * p
            continue
        linear = sympy.cancel(p / n_c)
        pole = sympy.cancel(p * (n_c - mu))
        if not linear.has(n_c):
            out += linear * N
        elif not pole.has(n_c):
            out += pole * S
        else:
            raise ArithmeticError(f"class_sum: no rule for the term {p}")
    return out


@dataclass(frozen=True)
class SecularDerivation:
    """The entry of P D P v - mu v for v_c = 1/(n_c - mu), and that entry divided by S(mu)."""

    residual: sympy.Expr  # entry c, in n_c, mu, k, N, S
    residual_factor: sympy.Expr  # g_c = residual / S
    eigenvector_entry: sympy.Expr  # solved from (n_c - mu) v_c = t


@lru_cache(maxsize=1)
def secular_derivation() -> SecularDerivation:
    t, v_c = sympy.symbols("t v_c")
    solved = sympy.solve(sympy.Eq((n_c - mu) * v_c, t), v_c)
    if len(solved) != 1:
        raise ArithmeticError(f"eigen-equation (n_c - mu) v_c = t: solutions {solved}")
    v = solved[0].subs(t, 1)
    Pv = v - class_sum(v) / _k
    DPv = n_c * Pv
    PDPv = DPv - class_sum(DPv) / _k
    residual = sympy.factor(sympy.together(PDPv - mu * v))
    factor = sympy.factor(sympy.cancel(residual / S))
    return SecularDerivation(residual, factor, solved[0])


def secular_residual() -> sympy.Expr:
    """Entry c of P D P v - mu v for v_c = 1/(n_c - mu)."""
    return secular_derivation().residual


@dataclass(frozen=True)
class SecularSpectrum:
    """Eigenvalues of P D P for given counts, ascending, each with its kind and eigenvector (k,)."""

    counts: ClassCounts
    eigenvalues: tuple  # mpmath numbers, k - 1 of them
    kinds: tuple  # "secular" or "shared"
    vectors: tuple  # secular: unit vector proportional to (1/(n_c - mu))_c; shared: None


def secular_spectrum(counts: ClassCounts, digits: int = 50) -> SecularSpectrum:
    """The k - 1 nonzero eigenvalues from the derived secular equation, at `digits` digits.

    Roots of the cleared polynomial sum_j r_j prod_{i != j} (a_i - mu) by mpmath.polyroots (a
    route independent of seli_exact's gap-wise Newton iteration), plus each shared count r - 1 times.
    """
    ctx = mpmath.MPContext()
    ctx.prec = digits_to_bits(digits + 20)
    blocks = counts.blocks()
    a = [value for value, _ in blocks]
    r = [len(classes) for _, classes in blocks]
    x = sympy.Symbol("x")
    poly = sympy.Poly(sum(r[j] * sympy.Mul(*[(a[i] - x) for i in range(len(a)) if i != j])
                          for j in range(len(a))), x)
    roots = []
    if poly.degree() > 0:
        coeffs = [ctx.mpf(int(c)) for c in poly.all_coeffs()]
        roots = [ctx.re(z) for z in ctx.polyroots(coeffs, maxsteps=400, extraprec=4 * digits)]
    terms = [(ctx.mpf(val), "shared", None) for val, rr in zip(a, r) for _ in range(rr - 1)]
    for root in roots:
        v = [1 / (ctx.mpf(n) - root) for n in counts.counts]
        norm = ctx.sqrt(ctx.fsum(x_ * x_ for x_ in v))
        terms.append((root, "secular", tuple(x_ / norm for x_ in v)))
    terms.sort(key=lambda term: term[0])
    return SecularSpectrum(counts, tuple(t[0] for t in terms), tuple(t[1] for t in terms),
                           tuple(t[2] for t in terms))
