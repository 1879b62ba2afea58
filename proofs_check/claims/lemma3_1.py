"""Lemma 3.1: the printed norm ratios for (R, 1/2)-STEP, and their order.

The formulas are derivations.paper.lemma_3_1() (typed in once, as printed). Three kinds of
evidence: the printed ratios at (k, R) against seli_exact's SELI geometry at 50 digits; the
"thus" part (majority classifiers longer, majority embeddings shorter, equality exactly when
R = 1 or k = 2) decided exactly from the printed formulas; and each printed formula against the
derived closed form for all k, R (derivations.verify_identity).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from derivations import closed_forms, paper
from seli_exact.verdict import Verdict

from .. import printed, tolerances
from ..evidence import failed_row, proven_row, residual_row, undecided_row, verdict

ID = "lemma3.1"
REFERENCE = "Lemma 3.1"
STATEMENT = ("For (R, 1/2)-STEP, ||w_maj||^2/||w_min||^2 and ||h_maj||^2/||h_min||^2 are the "
             "printed ratios; ||w_maj|| >= ||w_min||, ||h_maj|| <= ||h_min||, equality iff R = 1 "
             "or k = 2")
PROFILES = ("quick", "thorough")
ORDER = 50
ROUTES = ("structured_svd", "closed_forms")
NAMES = ("w_norm_ratio", "h_norm_ratio")


@dataclass(frozen=True, eq=False)
class ValueCase:
    k: int
    R: Fraction
    printed: tuple  # the printed (w, h) ratios at (k, R), exact
    measured: tuple  # the same ratios of seli_exact's geometry at 50 digits


@dataclass(frozen=True, eq=False)
class OrderCase:
    k: int
    R: Fraction
    printed: tuple  # the printed (w, h) ratios at (k, R), exact


@dataclass(frozen=True, eq=False)
class IdentityCase:
    name: str
    derived: sympy.Expr  # closed form at rho = 1/2, in k, R
    printed: sympy.Expr


Case = ValueCase | OrderCase | IdentityCase


def _ratios(g) -> tuple:
    maj, mnr = printed.majority_minority(g)
    a, b = maj[0], mnr[0]
    return (g.W_gram[a, a] / g.W_gram[b, b], g.M_gram[a, a] / g.M_gram[b, b])


def build(formulas: dict, profile: str, symbolic: bool = True) -> list[Case]:
    """Every case for printed formulas `formulas` (name -> expression in k, R)."""
    out: list[Case] = []
    for k, R in printed.half_step_points(profile):
        values = tuple(printed.at(formulas[n], k, R) for n in NAMES)
        out.append(ValueCase(k, R, values, _ratios(printed.half_step_geometry(k, R))))
        out.append(OrderCase(k, R, values))
    if symbolic:
        cf = closed_forms()
        out += [IdentityCase(n, printed.half(cf[n]), formulas[n]) for n in NAMES]
    return out


def cases(profile: str) -> list[Case]:
    return build(paper.lemma_3_1(), profile)


def _order_row(case: OrderCase) -> dict:
    name = f"order k={case.k}, R={case.R}"
    w, h = case.printed
    if case.R == 1 or case.k == 2:  # equality expected: both ratios exactly 1
        dw, dh = sympy.simplify(w - 1), sympy.simplify(h - 1)
        if dw == 0 and dh == 0:
            return proven_row(name, equality_expected=True)
        if (dw.is_number and dw != 0) or (dh.is_number and dh != 0):
            return failed_row(name, "a ratio differs from 1 where equality is stated")
        return undecided_row(name, "equality not decided")
    pw, ph = (w - 1).is_positive, (1 - h).is_positive  # numbers: decided by evaluation
    if pw and ph:
        return proven_row(name, equality_expected=False)
    if pw is False or ph is False:
        return failed_row(name, "majority classifier not longer or majority embedding not shorter")
    return undecided_row(name, "sign not decided")


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, ValueCase):
            rows.append(residual_row(f"k={case.k}, R={case.R}",
                                     printed.value_residual(case.printed, case.measured),
                                     tolerances.mp()))
        elif isinstance(case, OrderCase):
            rows.append(_order_row(case))
        else:
            rows.append(printed.identity_row(case.name, case.derived, case.printed))
    return verdict(ID, rows, kind="residual")


def _wrong(**changes) -> dict:
    forms = dict(paper.lemma_3_1())
    forms.update(changes)
    return forms


def planted() -> dict[str, list[Case]]:
    from derivations import symbols

    k, R, _, _ = symbols()
    good = paper.lemma_3_1()
    x = sympy.sqrt((R + 1) / sympy.Integer(2))
    a = 1 - sympy.Integer(1) / k  # (1 - 2/k) misprinted as (1 - 1/k)
    misprint = (a * sympy.sqrt(R) + x / k) / (a + x / k)
    nudged = good["h_norm_ratio"] * (1 + sympy.Rational(1, 10**6))
    swapped = {"w_norm_ratio": good["h_norm_ratio"], "h_norm_ratio": good["w_norm_ratio"]}
    return {
        "(1 - 2/k) misprinted as (1 - 1/k)": build(_wrong(w_norm_ratio=misprint), "quick", False),
        "h ratio off by one part in a million": build(_wrong(h_norm_ratio=nudged), "quick", False),
        "h ratio off by one part in a million (symbolic part alone)": [
            IdentityCase("h_norm_ratio", printed.half(closed_forms()["h_norm_ratio"]), nudged)],
        "classifier and embedding ratios swapped (order reversed)": [
            c for c in build(swapped, "quick", False) if isinstance(c, OrderCase)],
    }


def undecided() -> dict[str, list[Case]]:
    from derivations import symbols

    _, R, _, _ = symbols()
    good = paper.lemma_3_1()["w_norm_ratio"]
    # true (sin^2 + cos^2 = 1), but outside what reduction modulo radicals proves
    disguised = good * (sympy.sin(R) ** 2 + sympy.cos(R) ** 2)
    return {"a true formula in a form the reduction cannot prove": [
        IdentityCase("w_norm_ratio", printed.half(closed_forms()["w_norm_ratio"]), disguised)]}
