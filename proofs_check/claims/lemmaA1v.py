"""Lemma A.1 (v), as used in the proof of Proposition 1: grad L(alpha Zhat) = -alpha' Zhat with
alpha' = k / (exp(alpha) + k - 1) for every alpha > 0.

The printed multiplier is derivations.paper.gradient_multiplier (typed in once). Evidence:

* exactly, per class and k: with alpha = k log t every exp(alpha v), v in (1/k) Z, is a power of
  t, so grad + alpha' Zhat becomes a rational function of t that `cancel` decides (a nonzero one
  is nonzero for some alpha > 0); anything else is undecided;
* numerically at 80 digits on the full n columns of several count vectors, the gradient from
  the softmax (not from the formula), relative to the gradient's size;
* the library's own CE (seli_exact.simplex.softmax_ce and seli_exact.regpath.ce_gradient, float64)
  at alpha Zhat against the same 80-digit values: the functions Sec. 4's solvers and checks use;
  also at alpha < 0, where every example is misclassified (the label logit is the smallest), so
  the CE's other branch (a positive largest margin shifted out before the log-sum-exp) is judged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import mpmath
import numpy as np
import sympy

from derivations import paper, symbols
from seli_exact import ClassCounts, from_counts, sel_matrix, softmax_ce, step
from seli_exact.regpath import ce_gradient
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import failed_row, proven_row, residual_row, undecided_row, verdict

ID = "lemmaA1v"
REFERENCE = "Lemma A.1 (v), proof of Proposition 1"
STATEMENT = "grad L(alpha Zhat) = -alpha' Zhat with alpha' = k / (exp(alpha) + k - 1) for alpha > 0"
PROFILES = ("quick", "thorough")
ORDER = 160
ROUTES: tuple[str, ...] = ()
ALPHA = sympy.Symbol("alpha", positive=True)


@dataclass(frozen=True, eq=False)
class SymbolicCase:
    k: int
    multiplier: sympy.Expr  # alpha' in ALPHA, at this k


@dataclass(frozen=True, eq=False)
class NumericCase:
    counts: ClassCounts
    alpha: str  # decimal string
    multiplier: sympy.Expr  # alpha' in ALPHA, at counts.k


@dataclass(frozen=True, eq=False)
class LibraryCase:
    counts: ClassCounts
    alpha: str
    loss: np.ndarray  # (n,) softmax_ce's CE at alpha Zhat
    gradient: np.ndarray  # (k, n) seli_exact.regpath.ce_gradient at alpha Zhat


Case = SymbolicCase | NumericCase | LibraryCase


def printed(k: int) -> sympy.Expr:
    return paper.gradient_multiplier(ALPHA).subs(symbols()[0], k)


def library_case(counts: ClassCounts, alpha: str) -> LibraryCase:
    Z = float(alpha) * sel_matrix(counts)
    ce, _, _ = softmax_ce(Z, counts.labels())
    return LibraryCase(counts, alpha, ce, ce_gradient(Z, counts))


def build(multiplier, profile: str) -> list[Case]:
    ks = (2, 3, 4) if profile == "quick" else (2, 3, 4, 5, 7, 10)
    out: list[Case] = [SymbolicCase(k, multiplier(k)) for k in ks]
    for c in (step(4, 10, "1/2", 5), from_counts([7, 3, 1])):
        out += [NumericCase(c, a, multiplier(c.k)) for a in ("0.01", "1", "5", "30")]
    return out


def cases(profile: str) -> list[Case]:
    out = build(printed, profile)
    out += [library_case(c, a) for c in (step(4, 10, "1/2", 5), from_counts([7, 3, 1]))
            for a in ("0.01", "1", "5", "30", "-1", "-30")]
    return out


def symbolic_zero(expr: sympy.Expr, k: int) -> bool | None:
    """Decide expr(alpha) == 0 for all alpha > 0 exactly: True, False, or None (undecided)."""
    if sympy.simplify(expr) == 0:
        return True
    t = sympy.Symbol("t", positive=True)
    rat = sympy.cancel(sympy.together(sympy.powsimp(expr.subs(ALPHA, k * sympy.log(t)), force=True)))
    if rat == 0:
        return True
    if rat.free_symbols <= {t} and rat.is_rational_function(t):
        return False
    return None


def _symbolic_rows(case: SymbolicCase) -> list[dict]:
    k, rows = case.k, []
    for c in range(min(k, 2)):  # classes are symmetric: two columns cover diagonal and off
        col = [sympy.Integer(1 if j == c else 0) - sympy.Rational(1, k) for j in range(k)]
        den = sum(sympy.exp(ALPHA * v) for v in col)
        for j in range(k):
            g = sympy.exp(ALPHA * col[j]) / den - (1 if j == c else 0)
            zero = symbolic_zero(g + case.multiplier * col[j], k)
            name = f"symbolic: k={k}, class {c}, entry {j}"
            if zero is True:
                rows.append(proven_row(name))
            elif zero is False:
                rows.append(failed_row(name, "grad + alpha' Zhat is a nonzero rational function"))
            else:
                rows.append(undecided_row(name, "not reducible to a rational function of exp(alpha/k)"))
    return rows


def _gradient_80(counts: ClassCounts, alpha: str, ctx):
    """Per example: (CE, gradient column) at alpha Zhat, from the softmax at 80 digits."""
    k, y = counts.k, counts.labels()
    al = ctx.mpf(alpha)
    out = []
    for i in range(counts.n):
        z = [(1 if j == y[i] else 0) - ctx.mpf(1) / k for j in range(k)]
        e = [ctx.exp(al * v) for v in z]
        tot = ctx.fsum(e)
        out.append((ctx.log(tot) - al * z[y[i]], [e[j] / tot - (1 if j == y[i] else 0) for j in range(k)], z))
    return out


def _numeric_row(case: NumericCase) -> dict:
    ctx = mpmath.MPContext()
    ctx.dps = tolerances.LEMMA_A1V_DIGITS
    ap = ctx.mpf(str(sympy.N(case.multiplier.subs(ALPHA, sympy.Rational(case.alpha)), ctx.dps + 10)))
    res = ctx.mpf(0)
    for _, grad, z in _gradient_80(case.counts, case.alpha, ctx):
        scale = max(abs(v) for v in grad)  # > 0: the softmax is never one-hot
        res = max(res, max(abs(g + ap * v) for g, v in zip(grad, z)) / scale)
    return residual_row(f"{list(case.counts.counts)} alpha={case.alpha} at 80 digits", float(res),
                        tolerances.lemma_a1v())


def _library_row(case: LibraryCase) -> dict:
    ctx = mpmath.MPContext()
    ctx.dps = tolerances.LEMMA_A1V_DIGITS
    ref = _gradient_80(case.counts, case.alpha, ctx)
    worst = 0.0
    for i, (ce, grad, _) in enumerate(ref):
        worst = max(worst, float(abs(ctx.mpf(float(case.loss[i])) - ce) / abs(ce)))
        scale = max(abs(v) for v in grad)
        worst = max(worst, max(float(abs(ctx.mpf(float(case.gradient[j, i])) - grad[j]) / scale)
                               for j in range(case.counts.k)))
    return residual_row(f"library CE at {case.alpha} Zhat, {list(case.counts.counts)}", worst,
                        tolerances.float64(case.counts.k))


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, SymbolicCase):
            rows += _symbolic_rows(case)
        elif isinstance(case, NumericCase):
            rows.append(_numeric_row(case))
        else:
            rows.append(_library_row(case))
    return verdict(ID, rows, kind="residual")


def planted() -> dict[str, list[Case]]:
    wrong = lambda kk: kk / (sympy.exp(ALPHA) + kk)  # noqa: E731 - k - 1 misprinted as k
    c = from_counts([7, 3, 1])
    good, bad = library_case(c, "1"), library_case(c, "-30")
    return {
        "k / (exp(alpha) + k)": build(wrong, "quick"),
        "the symbolic part alone, k / (exp(alpha) + k)": [SymbolicCase(4, wrong(4))],
        "a flipped sign (numeric part alone)": [NumericCase(c, "1", -printed(3))],
        "zero (numeric part alone)": [NumericCase(c, "1", sympy.Integer(0) * ALPHA)],
        "twice alpha' (numeric part alone)": [NumericCase(c, "1", 2 * printed(3))],
        "alpha' off by 1e-20": [NumericCase(c, "2", printed(3) * (1 + sympy.Rational(1, 10**20)))],
        "a library CE gradient with the label entry doubled": [
            replace(good, gradient=good.gradient * np.where(sel_matrix(c) > 0, 2.0, 1.0))],
        "a library CE off by 1e-8": [replace(good, loss=good.loss * (1 + 1e-8))],
        "a library CE of misclassified examples without the largest margin": [
            replace(bad, loss=bad.loss - 30)],  # at -30 Zhat every off-label margin is 30
    }


def undecided() -> dict[str, list[Case]]:
    # alpha' plus an unknown function of alpha: no rational function of exp(alpha/k) decides it
    unknown = printed(3) + sympy.Function("f")(ALPHA)
    return {"a multiplier with an unknown term": [SymbolicCase(3, unknown)]}
