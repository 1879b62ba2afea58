"""Sec. B (and Sec. A's singular values): the derived closed forms of the SELI geometry under
(R, rho)-STEP, against the dense route at 50 digits.

derivations.closed_forms() gives, in k, R, rho, n_min: the three singular values, the nuclear
norm with their multiplicities (m - 1, 1, s - 1), the squared norms and inner products of
classifiers and class means, their cosines and norm ratios, and the alignments cos(w_c, mu_c).
Each is evaluated exactly at STEP points with m != s (so swapped multiplicities show) and
compared with the same quantity of mpmath's eigen-decomposition of P D P (proofs_check.lapack),
which knows nothing of blocks: singular values are read off in order (n_min < mu_mix < R n_min
for R > 1), pair entries only where the pair exists. The closed forms judged are the ones users
get: `seli latex`'s formulas.json records (derivations.export) read back from the JSON text and
parsed, every one of them (a STEP record no comparison covers refutes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import mpmath
import sympy

from derivations import closed_forms, symbols
from derivations.export import formula_records, parse, to_json
from seli_exact import ClassCounts, step
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import residual_row, to_mpf, verdict
from ..lapack import reference

ID = "secB.closed_forms"
REFERENCE = "Sec. B (closed forms), Sec. A (singular values)"
STATEMENT = ("The derived closed forms of (R, rho)-STEP (singular values, nuclear norm with "
             "multiplicities, norms, inner products, cosines, norm ratios, alignments) equal the "
             "same quantities of an independent eigen-decomposition of P D P")
PROFILES = ("quick", "thorough")
ORDER = 75
ROUTES = ("closed_forms", "lapack")


@dataclass(frozen=True, eq=False)
class Case:
    counts: ClassCounts  # a STEP instance
    closed: dict  # name -> closed form at the instance, exact SymPy number
    reference: dict  # name -> the dense route's value at 50 digits


def _points(profile: str):
    out = [(5, 10, "2/5", 3), (10, 100, "3/10", 2), (7, Fraction(5, 2), "4/7", 2), (3, 4, "1/3", 2)]
    if profile == "thorough":
        out += [(12, 1000, "1/4", 1), (9, Fraction(7, 3), "2/3", 3), (2, 9, "1/2", 4)]
    return out


def dense_values(counts: ClassCounts) -> dict:
    """Every closed-form quantity of the counts by the dense route (mpmath, 50 digits)."""
    ref = reference(counts, tolerances.DIGITS)
    m, s = counts.params["m"], counts.params["s"]
    i, j = 0, m  # a majority and a minority class (Definition 1: majorities first)
    W, M, C, E = ref.G_W, ref.G_M, ref.classifier_cosines, ref.embedding_cosines
    with mpmath.workdps(tolerances.DIGITS + 10):
        out = {
            "nuclear_norm": ref.nuclear_norm, "sigma_mix": ref.sigma[m - 1],
            "w_maj_sq": W[i, i], "w_min_sq": W[j, j], "w_majmin": W[i, j],
            "h_maj_sq": M[i, i], "h_min_sq": M[j, j], "h_majmin": M[i, j],
            "w_norm_ratio": W[i, i] / W[j, j], "h_norm_ratio": M[i, i] / M[j, j],
            "cos_w_majmin": C[i, j], "cos_h_majmin": E[i, j],
            "cos_align_maj": ref.alignment[i], "cos_align_min": ref.alignment[j],
        }
        if m >= 2:  # a value of multiplicity m - 1 = 0 is no singular value; no pair either
            out.update(sigma_maj=ref.sigma[0], w_majmaj=W[i, i + 1], h_majmaj=M[i, i + 1],
                       cos_w_majmaj=C[i, i + 1], cos_h_majmaj=E[i, i + 1])
        if s >= 2:
            out.update(sigma_min=ref.sigma[-1], w_minmin=W[j, j + 1], h_minmin=M[j, j + 1],
                       cos_w_minmin=C[j, j + 1], cos_h_minmin=E[j, j + 1])
    return out


def build(forms: dict, counts: ClassCounts) -> Case:
    """The closed forms at `counts` beside the dense values; a form without a dense value is
    kept (as None on the dense side) so the judge refutes it, and a dense value without a form
    is compared with None."""
    k, R, rho, n_min = symbols()
    p = counts.params
    sub = {k: p["k"], R: sympy.Rational(p["R"].numerator, p["R"].denominator),
           rho: sympy.Rational(p["rho"].numerator, p["rho"].denominator), n_min: p["n_min"]}
    ref = dense_values(counts)
    pairs = {"maj": counts.params["m"] >= 2, "min": counts.params["s"] >= 2}
    closed = {}
    for name, expr in forms.items():  # a pair entry of an absent pair is no quantity here
        absent = [g for g, ok in pairs.items() if not ok and name.endswith(f"{g}{g}")
                  or name == f"sigma_{g}" and not ok]
        if not absent:
            closed[name] = expr.subs(sub)
    for name in ref:
        closed.setdefault(name, None)
    return Case(counts, closed, ref)


def exported_forms(records: list[dict] | None = None) -> dict:
    """{name: expression} of the STEP records of formulas.json as a user reads them: the JSON
    text of derivations.export parsed back (`records` plants other records)."""
    import json

    records = json.loads(to_json(formula_records())) if records is None else records
    return {r["name"]: parse(r) for r in records if not r["name"].startswith("any_")}


def cases(profile: str) -> list[Case]:
    forms = exported_forms()
    return [build(forms, step(*p)) for p in _points(profile)]


def residuals(case: Case) -> tuple[dict[str, float], list[str]]:
    """(name -> |closed - dense| / (1 + |dense|), names whose closed form is no number)."""
    out, unevaluated = {}, []
    with mpmath.workdps(tolerances.DIGITS + 10):
        for name in sorted(set(case.closed) | set(case.reference)):
            if case.closed.get(name) is None or name not in case.reference:
                out[name] = float("inf")  # a quantity without its closed form, or the reverse
                continue
            want = case.reference[name]
            got = sympy.N(case.closed[name], tolerances.DIGITS + 10)
            if not got.is_number or not got.is_finite:
                unevaluated.append(name)
                continue
            got, want = to_mpf(got), to_mpf(want)
            out[name] = float(abs(got - want) / (1 + abs(want)))
    return out, unevaluated


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        res, unevaluated = residuals(case)
        worst = max(res, key=res.get)
        row = residual_row(case.counts.describe(), res[worst], tolerances.mp(),
                           worst_quantity=worst, compared=sorted(res))
        if unevaluated and row["ok"]:
            row["undecided"] = f"closed forms that are no number here: {unevaluated}"
        rows.append(row)
    return verdict(ID, rows, kind="residual")


def _altered(**factors) -> dict:
    forms = dict(closed_forms())
    for name, f in factors.items():
        forms[name] = forms[name] * f
    return forms


def planted() -> dict[str, list[Case]]:
    k, R, rho, n_min = symbols()
    forms = closed_forms()
    m, s = (1 - rho) * k, rho * k
    swapped = dict(forms, nuclear_norm=(s - 1) * forms["sigma_maj"] + forms["sigma_mix"]
                   + (m - 1) * forms["sigma_min"])
    c = step(*_points("quick")[0])
    return {
        "nuclear norm with the two multiplicities swapped": [build(swapped, c)],
        "a cosine off by one part in a million": [
            build(_altered(cos_w_minmin=1 + sympy.Rational(1, 10**6)), c)],
        "an alignment off by 1e-30": [build(_altered(cos_align_min=1 + sympy.Rational(1, 10**30)), c)],
        "h_majmaj with a flipped sign": [build(_altered(h_majmaj=-1), c)],
        "a record of formulas.json with the squared norm ratio's sides swapped": [build(
            exported_forms(_edited_records("w_norm_ratio", lambda e: 1 / e)), c)],
        "a STEP record no comparison covers": [build({**exported_forms(), "w_extra": k}, c)],
        "a STEP record missing from formulas.json": [build(
            {n: e for n, e in exported_forms().items() if n != "cos_align_maj"}, c)],
    }


def _edited_records(name: str, edit) -> list[dict]:
    """formulas.json's records, read back, with record `name`'s expression edited."""
    import json

    out = []
    for r in json.loads(to_json(formula_records())):
        if r["name"] == name:
            r = {**r, "sympy": str(edit(parse(r)))}
        out.append(r)
    return out


def undecided() -> dict[str, list[Case]]:
    c = step(*_points("quick")[0])
    good = build(closed_forms(), c)
    # a closed form that is no number at the point (an unknown function): cannot be compared
    f = sympy.Function("f")
    closed = dict(good.closed, cos_align_min=f(sympy.Integer(1)))
    return {"a closed form that does not evaluate": [replace(good, closed=closed)]}
