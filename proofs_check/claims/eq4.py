"""Eq. (4): the printed classifier cosines for (R, 1/2)-STEP, their value at R = 1, monotonicity.

The formulas are derivations.paper.eq_4() (typed in once). Evidence: the printed cosines at
(k, R) against seli_exact's SELI geometry at 50 digits; both equal -1/(k-1) at R = 1 (the
paper's ETF value, derivations.paper.etf_cosine(), decided exactly); the first decreases and the
second increases in R, proven from the sign of the derivative for all real k >= 4, R >= 1
(proofs_check.sign_proof), refuted by a sampled derivative of the wrong sign, else undecided;
and each printed formula against the derived closed form for all k, R.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from derivations import closed_forms, paper, symbols
from seli_exact.verdict import Verdict

from .. import printed, tolerances
from ..evidence import failed_row, proven_row, residual_row, undecided_row, verdict
from ..sign_proof import prove_positive

ID = "eq4"
REFERENCE = "Eq. (4)"
STATEMENT = ("For (R, 1/2)-STEP the majority-majority and minority-minority classifier cosines are "
             "the printed formulas; both are -1/(k-1) at R = 1; the first decreases, the second "
             "increases in R")
PROFILES = ("quick", "thorough")
ORDER = 60
ROUTES = ("structured_svd", "closed_forms")
NAMES = ("cos_w_majmaj", "cos_w_minmin")
SIGNS = {"cos_w_majmaj": -1, "cos_w_minmin": 1}  # d/dR: majority decreasing, minority increasing


@dataclass(frozen=True, eq=False)
class ValueCase:
    k: int
    R: Fraction
    printed: tuple  # printed (cos_maj, cos_min) at (k, R), exact
    measured: tuple  # seli_exact's geometry at 50 digits


@dataclass(frozen=True, eq=False)
class AtOneCase:
    name: str
    printed: sympy.Expr  # in k, R
    etf: sympy.Expr  # the paper's value at R = 1, in k


@dataclass(frozen=True, eq=False)
class MonotoneCase:
    name: str
    printed: sympy.Expr  # in k, R
    sign: int  # required sign of d/dR


@dataclass(frozen=True, eq=False)
class IdentityCase:
    name: str
    derived: sympy.Expr
    printed: sympy.Expr


Case = ValueCase | AtOneCase | MonotoneCase | IdentityCase


def _cosines(g) -> tuple:
    maj, mnr = printed.majority_minority(g)
    C = g.classifier_cosines
    return (C[maj[0], maj[1]], C[mnr[0], mnr[1]])


def build(formulas: dict, profile: str, symbolic: bool = True) -> list[Case]:
    out: list[Case] = []
    for k, R in printed.half_step_points(profile, kmin=4):
        values = tuple(printed.at(formulas[n], k, R) for n in NAMES)
        out.append(ValueCase(k, R, values, _cosines(printed.half_step_geometry(k, R))))
    for n in NAMES:
        out.append(AtOneCase(n, formulas[n], paper.etf_cosine()))
        out.append(MonotoneCase(n, formulas[n], SIGNS[n]))
    if symbolic:
        cf = closed_forms()
        out += [IdentityCase(n, printed.half(cf[n]), formulas[n]) for n in NAMES]
    return out


def cases(profile: str) -> list[Case]:
    return build(paper.eq_4(), profile)


def _at_one_row(case: AtOneCase) -> dict:
    _, R, _, _ = symbols()
    name = f"{case.name} at R = 1 is -1/(k-1)"
    rest = sympy.cancel(sympy.together(case.printed.subs(R, 1) - case.etf))
    if rest == 0:
        return proven_row(name)
    if rest.is_rational_function():
        return failed_row(name, f"remainder {rest}")
    return undecided_row(name, f"remainder {rest} not decided")


def _monotone_row(case: MonotoneCase) -> dict:
    k, R, _, _ = symbols()
    name = f"{case.name} {'increasing' if case.sign > 0 else 'decreasing'} in R"
    d = sympy.diff(case.printed, R)
    domain, _ = paper.eq_4_domain()  # k >= 4, R >= 1
    proof = prove_positive(case.sign * d.subs(domain))
    if proof.proven:
        return proven_row(f"symbolic: {name}", steps=list(proof.steps))
    bad = [(kk, RR) for kk in (4, 6, 10) for RR in (1, 2, 10, 100, 10**4)
           if not case.sign * d.subs({k: kk, R: RR}).evalf(30) > 0]
    if bad:
        return failed_row(name, "derivative of the wrong sign", wrong_sign_at=[list(map(str, b)) for b in bad])
    return undecided_row(name, proof.reason)


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, ValueCase):
            rows.append(residual_row(f"k={case.k}, R={case.R}",
                                     printed.value_residual(case.printed, case.measured),
                                     tolerances.mp()))
        elif isinstance(case, AtOneCase):
            rows.append(_at_one_row(case))
        elif isinstance(case, MonotoneCase):
            rows.append(_monotone_row(case))
        else:
            rows.append(printed.identity_row(case.name, case.derived, case.printed))
    return verdict(ID, rows, kind="residual")


def planted() -> dict[str, list[Case]]:
    k, R, _, _ = symbols()
    good = paper.eq_4()
    x = sympy.sqrt((R + 1) / sympy.Integer(2))
    flipped = (2 * sympy.sqrt(R) + x) / ((k - 2) * sympy.sqrt(R) + x)
    swapped = {"cos_w_majmaj": good["cos_w_minmin"], "cos_w_minmin": good["cos_w_majmaj"]}
    return {
        "a flipped sign in the majority cosine": build({**good, "cos_w_majmaj": flipped}, "quick", False),
        # both are -1/(k-1) at R = 1, but each moves the other way in R
        "the two cosines swapped (monotonicity reversed)": [
            c for c in build(swapped, "quick", False) if isinstance(c, MonotoneCase)],
        "swapped, against the closed forms": [
            IdentityCase(n, printed.half(closed_forms()[n]), swapped[n]) for n in NAMES],
        "a wrong value at R = 1": [AtOneCase("cos_w_minmin", good["cos_w_minmin"] + (R - 1) / 10 + sympy.Rational(1, 100), paper.etf_cosine())],
    }


def undecided() -> dict[str, list[Case]]:
    k, R, _, _ = symbols()
    good = paper.eq_4()["cos_w_minmin"]
    # the printed formula plus atan(R) (1 - sin^2 k - cos^2 k) = 0: increasing in R, but its
    # derivative is no sum the prover can read, and no sample refutes it
    hidden = good + sympy.atan(R) - sympy.atan(R) * (sympy.sin(k) ** 2 + sympy.cos(k) ** 2)
    return {
        "a monotone formula the prover cannot read": [MonotoneCase("cos_w_minmin", hidden, 1)],
        "a true identity the reduction cannot prove": [
            IdentityCase("cos_w_minmin", printed.half(closed_forms()["cos_w_minmin"]),
                         good * (sympy.sin(R) ** 2 + sympy.cos(R) ** 2))],
    }
