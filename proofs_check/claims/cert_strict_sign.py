"""Sec. 3.3's key step: the dual certificate B_hat = U V^T is strictly sign-feasible,
B_hat * Zhat^T > 0, i.e. diag(G_M) > 0 > offdiag(G_M), for (R, rho)-STEP.

Three kinds of evidence:

* for all STEP (k, R, rho, n_min): each of the five distinct entries of G_M
  (derivations.closed_forms) is proven to have its sign by proofs_check.sign_proof on the
  positive parametrization of the domain; a proof that does not close is refuted only by a
  sampled point of the wrong sign, and is undecided otherwise;
* the closed forms are the entries of G_M: substituted at STEP points, against seli_exact's
  mpmath G_M at 50 digits;
* per catalogue instance: the interval certificate, seli_exact's float64 margin and the margin
  read off numpy's dense SVD (proofs_check.sign_cases).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

from derivations import symbols
from seli_exact import ClassCounts, seli_geometry, step
from seli_exact.verdict import Verdict

from .. import certificate, tolerances
from ..evidence import failed_row, proven_row, residual_row, undecided_row, verdict
from ..instances import step_instances
from ..printed import value_residual
from ..sign_cases import CertCase, cert_case, cert_rows
from ..sign_proof import ENTRY_SIGNS, SignProof, prove_step_signs, step_closed_forms

ID = "cert.strict_sign"
REFERENCE = "Sec. 3.3 (proof of Theorem 1)"
STATEMENT = ("B_hat * Zhat^T > 0 entrywise, i.e. diag(G_M) > 0 > offdiag(G_M): proven symbolically "
             "for all STEP (k, R, rho, n_min) and by interval arithmetic on every catalogue STEP "
             "instance")
PROFILES = ("quick", "thorough")
ORDER = 90
ROUTES = ("structured_svd", "lapack", "certificate", "closed_forms")
FORMULA_POINTS = ((4, 10, "1/2", 5), (5, 3, "2/5", 2), (6, 100, "1/3", 1), (3, 1, "1/3", 4))


@dataclass(frozen=True, eq=False)
class ProofCase:
    name: str  # entry of G_M (derivations.closed_forms name)
    expr: sympy.Expr  # its closed form, in k, R, rho, n_min
    sign: int  # required sign
    proof: SignProof  # of sign * expr > 0 on the whole domain


@dataclass(frozen=True, eq=False)
class FormulaCase:
    counts: ClassCounts  # a STEP instance
    closed: dict  # name -> closed form at the instance (exact SymPy numbers)
    measured: dict  # name -> the same entry of seli_exact's G_M at 50 digits


Case = CertCase | ProofCase | FormulaCase


def proof_cases(forms: dict | None = None) -> list[ProofCase]:
    forms = step_closed_forms() if forms is None else forms
    proofs = prove_step_signs(forms)
    return [ProofCase(n, forms[n], ENTRY_SIGNS[n], proofs[n]) for n in ENTRY_SIGNS]


def formula_case(counts: ClassCounts, forms: dict | None = None) -> FormulaCase:
    forms = step_closed_forms() if forms is None else forms
    k, R, rho, n_min = symbols()
    p = counts.params
    sub = {k: p["k"], R: sympy.Rational(p["R"].numerator, p["R"].denominator),
           rho: sympy.Rational(p["rho"].numerator, p["rho"].denominator), n_min: p["n_min"]}
    G = seli_geometry(counts, "mpmath", tolerances.DIGITS).M_gram
    m = p["m"]  # Definition 1: classes 0..m-1 are the majorities
    maj, mnr = tuple(range(m)), tuple(range(m, counts.k))
    pick = {"h_maj_sq": (maj[0], maj[0]), "h_min_sq": (mnr[0], mnr[0]), "h_majmin": (maj[0], mnr[0])}
    if len(maj) > 1:
        pick["h_majmaj"] = (maj[0], maj[1])
    if len(mnr) > 1:
        pick["h_minmin"] = (mnr[0], mnr[1])
    return FormulaCase(counts, {n: forms[n].subs(sub) for n in pick},
                       {n: G[i, j] for n, (i, j) in pick.items()})


def cases(profile: str) -> list[Case]:
    out: list[Case] = [cert_case(i.name, i.counts) for i in step_instances(profile)]
    out += proof_cases()
    out += [formula_case(step(*p)) for p in FORMULA_POINTS]
    return out


def sample_sign_violation(expr: sympy.Expr, sign: int) -> dict | None:
    """The first STEP point (k, R, rho, n_min) where sign * expr <= 0, at 30 digits, or None."""
    ks, Rs, rhos, ns = symbols()
    for k in (2, 3, 4, 5, 8, 12):
        for s_ in range(1, k):
            for R in (1, 2, 10, 1000):
                for n_min in (1, 7):
                    v = (sign * expr).subs({ks: k, Rs: R, rhos: sympy.Rational(s_, k), ns: n_min}).evalf(30)
                    if not v.is_number or not v > 0:
                        return {"k": k, "R": R, "rho": f"{s_}/{k}", "n_min": n_min, "value": str(v)}
    return None


def _proof_row(case: ProofCase) -> dict:
    name = f"symbolic STEP: {'+' if case.sign > 0 else '-'}{case.name} > 0 for all k, R, rho, n_min"
    if case.proof.proven:
        return proven_row(name, steps=list(case.proof.steps))
    bad = sample_sign_violation(case.expr, case.sign)
    if bad is not None:
        return failed_row(name, "wrong sign at a STEP point", wrong_sign_at=bad)
    return undecided_row(name, case.proof.reason or "not proven")


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, CertCase):
            rows += cert_rows(case)
        elif isinstance(case, ProofCase):
            rows.append(_proof_row(case))
        else:
            names = sorted(case.closed)
            rows.append(residual_row(
                f"closed forms vs G_M at {case.counts.describe()}",
                value_residual([case.closed[n] for n in names], [case.measured[n] for n in names]),
                tolerances.mp()))
    return verdict(ID, rows, kind="margin")


FIG1 = step(4, 10, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    from derivations import symbols as syms

    k, R, rho, n_min = syms()
    flipped_cert = certificate.sign_certificate(
        FIG1, digits=tolerances.DIGITS, transform=lambda kind, x: -x if kind == "off" else x)
    good = cert_case("fig1", FIG1)
    forms = dict(step_closed_forms())
    flipped = dict(forms, h_majmin=-forms["h_majmin"])
    nudged = dict(forms, h_minmin=forms["h_minmin"] * (1 + (R - 1) / 10**8))  # still negative
    return {
        "G_M with flipped off-diagonal signs": [replace(good, certificate=flipped_cert)],
        "a dense B_hat whose margin is negative": [replace(good, dense_margin=-abs(good.dense_margin))],
        "a certified margin 1% off the dense SVD's": [replace(good, dense_margin=1.01 * good.dense_margin)],
        "a closed form with a flipped sign": [c for c in proof_cases(flipped) if c.name == "h_majmin"],
        "a closed form wrong by (R - 1)/10^8": [formula_case(step(*p), nudged) for p in FORMULA_POINTS],
    }


def undecided() -> dict[str, list[Case]]:
    good = cert_case("fig1", FIG1)
    # the secular root of (50, 50, 5, 5) is 27.5; no sign change around 27.6: no enclosure
    stuck = certificate.sign_certificate(FIG1, digits=tolerances.DIGITS, candidates=[27.6])
    forms = step_closed_forms()
    open_proof = SignProof(False, (), "sign of the term x not shown >= 0")
    # an enclosure that exists but straddles 0 (x - x: a ball around 0 as wide as x's radius)
    straddling = certificate.sign_certificate(FIG1, digits=tolerances.DIGITS,
                                              transform=lambda kind, x: x - x if kind == "off" else x)
    return {
        "a certificate whose enclosure failed": [replace(good, certificate=stuck, dense_margin=None)],
        "an enclosure that straddles 0 (neither proven nor refuted)": [
            replace(good, certificate=straddling, dense_margin=None)],
        "a proof that did not close (right sign everywhere sampled)": [
            ProofCase("h_majmaj", forms["h_majmaj"], -1, open_proof)],
    }
