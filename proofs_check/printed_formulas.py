"""The paper's printed formulas of Sec. 3.2 (Lemma 3.1, Eq. (4), Remark 3.2) and their judges.

The formulas are typed in as printed: they are the claims under test. They are compared with
the SELI geometry at 50 digits on (R, 1/2)-STEP instances, with the derivations package's closed
forms symbolically (all k, R), and their qualitative statements (order, monotonicity, limits)
are proven with SymPy where it can, never declared proven when it cannot.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import sympy

from seli_exact import seli_geometry, step

from .evidence import DPS, RTOL_MP, aggregate, global_mpf, make_row
from .sign_proof import all_closed_forms, prove_positive
from seli_exact.verdict import Status, Verdict


def paper_lemma31(k, R):
    """Lemma 3.1 as printed: (||w_maj||^2/||w_min||^2, ||h_maj||^2/||h_min||^2), (R, 1/2)-STEP."""
    x = sympy.sqrt((R + 1) / sympy.Integer(2))
    a = 1 - sympy.Integer(2) / k
    w = (a * sympy.sqrt(R) + x / k) / (a + x / k)
    h = (a / sympy.sqrt(R) + 1 / (k * x)) / (a + 1 / (k * x))
    return w, h


def paper_eq4(k, R):
    """Eq. (4) as printed: (Cos(w_maj, w_maj'), Cos(w_min, w_min')) for (R, 1/2)-STEP."""
    x = sympy.sqrt((R + 1) / sympy.Integer(2))
    return ((-2 * sympy.sqrt(R) + x) / ((k - 2) * sympy.sqrt(R) + x), (-2 + x) / (k - 2 + x))


def _half_step_cases(profile: str, kmin: int = 2):
    ks = [2, 4, 6, 10] if profile == "quick" else [2, 4, 6, 8, 10, 20, 40]
    Rs = (
        [1, Fraction(3, 2), 10, 1000]
        if profile == "quick"
        else [1, Fraction(3, 2), 2, 10, 99, 1000, 10**6]
    )
    return [(k, R) for k in ks if k >= kmin for R in Rs]


def _formula_rows(formulas, cases, measure) -> list[dict]:
    """Compare formulas(k, R) (SymPy, exact) with measure(geometry) at 50 digits, per (k, R)."""
    rows = []
    for k, R in cases:
        Rq = Fraction(R)
        c = step(k, Rq, "1/2", Rq.denominator)
        g = seli_geometry(c, "mpmath", DPS)
        got = measure(g)
        want = formulas(sympy.Integer(k), sympy.Rational(Rq.numerator, Rq.denominator))
        worst = 0.0
        with mpmath.workdps(DPS + 10):
            for gv, wv in zip(got, want):
                wv = mpmath.mpf(str(sympy.N(wv, DPS + 10)))
                worst = max(worst, float(abs(global_mpf(gv) - wv) / max(abs(wv), 1)))
        rows.append(make_row(f"k={k}, R={R}", worst, RTOL_MP))
    return rows


def _norm_ratios(g):
    mj, mn = g.counts.groups()["majority"][0], g.counts.groups()["minority"][0]
    return (g.W_gram[mj, mj] / g.W_gram[mn, mn], g.M_gram[mj, mj] / g.M_gram[mn, mn])


def _cosines(g):
    G = g.classifier_cosines
    maj, mnr = g.counts.groups()["majority"], g.counts.groups()["minority"]
    return (G[maj[0], maj[1]], G[mnr[0], mnr[1]])


def _symbolic_match(names, formulas) -> list[dict]:
    """The derivations' closed forms at rho = 1/2 against the printed formulas, for all k, R.

    Decided by derivations.verify_identity: proven by reduction modulo the radical relations,
    refuted by a nonzero value at a domain point, and otherwise undecided (never verified because
    a simplification gave up).
    """
    from derivations import symbols, verify_identity

    k, R, rho, _ = symbols()
    cf = all_closed_forms()
    printed = formulas(k, R)
    rows = []
    for name, p in zip(names, printed):
        v = verify_identity(name, cf[name].subs(rho, sympy.Rational(1, 2)), p, parametrize=False)
        rows.append(
            {
                "instance": f"symbolic: {name} (all k, R)",
                "residual": 0.0 if v.passed else (v.residual if v.residual is not None else math.inf),
                "tol": 0.0,
                "ok": v.status is not Status.REFUTED,
                "undecided": v.status is Status.UNDECIDED,
                "method": v.detail.get("method", ""),
            }
        )
    return rows


def judge_lemma31(
    formulas=paper_lemma31,
    profile: str = "quick",
    symbolic: bool = True,
    claim_id: str = "lemma3.1",
) -> Verdict:
    """Printed norm ratios vs the SELI geometry at 50 digits; majority classifiers longer, majority
    embeddings shorter, with equality exactly when R = 1 or k = 2 (exact arithmetic)."""
    cases = _half_step_cases(profile)
    rows = _formula_rows(formulas, cases, _norm_ratios)
    for k, R in cases:  # the "thus" part, decided exactly from the formulas
        Rq = Fraction(R)
        w, h = formulas(sympy.Integer(k), sympy.Rational(Rq.numerator, Rq.denominator))
        equal = R == 1 or k == 2
        dw, dh = w - 1, 1 - h
        ok = (
            (sympy.simplify(dw) == 0 and sympy.simplify(dh) == 0)
            if equal
            else (bool(dw.is_positive) and bool(dh.is_positive))
        )
        rows.append(
            {
                "instance": f"order k={k}, R={R}",
                "residual": 0.0 if ok else math.inf,
                "tol": 0.0,
                "ok": ok,
                "equality_expected": equal,
            }
        )
    if symbolic:
        rows += _symbolic_match(("w_norm_ratio", "h_norm_ratio"), formulas)
    return aggregate(claim_id, rows)


def judge_eq4(
    formulas=paper_eq4, profile: str = "quick", symbolic: bool = True, claim_id: str = "eq4"
) -> Verdict:
    """Printed cosines vs the SELI geometry; -1/(k-1) at R = 1; first decreasing, second increasing
    in R (derivative signs proven for all real k >= 4, R >= 1)."""
    cases = _half_step_cases(profile, kmin=4)
    rows = _formula_rows(formulas, cases, _cosines)
    k, R = sympy.symbols("k R", positive=True)
    cmaj, cmin = formulas(k, R)
    for name, e in (("majority", cmaj), ("minority", cmin)):
        at1 = sympy.simplify(e.subs(R, 1) + 1 / (k - 1))
        rows.append(
            {
                "instance": f"{name} at R = 1 is -1/(k-1)",
                "residual": 0.0 if at1 == 0 else math.inf,
                "tol": 0.0,
                "ok": at1 == 0,
            }
        )
    r, k1 = sympy.symbols("r k1", nonnegative=True)
    sub = {R: 1 + r, k: 4 + k1}
    mono = {
        "majority decreasing": prove_positive(-sympy.diff(cmaj, R).subs(sub)),
        "minority increasing": prove_positive(sympy.diff(cmin, R).subs(sub)),
    }
    undecided = []
    for name, proof in mono.items():
        if proof.proven:
            rows.append(
                {
                    "instance": f"symbolic: {name} in R",
                    "residual": 0.0,
                    "tol": 0.0,
                    "ok": True,
                    "steps": list(proof.steps),
                }
            )
        else:  # not proven: refute only if a sampled derivative has the wrong sign
            e = cmaj if name.startswith("maj") else cmin
            sgn = -1 if name.startswith("maj") else 1
            bad = [
                (kk, RR)
                for kk in (4, 6, 10)
                for RR in (1, 2, 10, 100, 10**4)
                if sgn * sympy.diff(e, R).subs({k: kk, R: RR}).evalf(30) <= 0
            ]
            if bad:
                rows.append(
                    {
                        "instance": f"{name} in R",
                        "residual": math.inf,
                        "tol": 0.0,
                        "ok": False,
                        "wrong_sign_at": [list(map(str, b)) for b in bad],
                    }
                )
            else:
                undecided.append(f"{name}: {proof.reason}")
    if symbolic:
        rows += _symbolic_match(("cos_w_majmaj", "cos_w_minmin"), formulas)
    return aggregate(claim_id, rows, undecided=undecided)


def judge_remark32(
    formula_min=lambda k, R: paper_eq4(k, R)[1], profile: str = "quick", claim_id: str = "remark3.2"
) -> Verdict:
    """Minority collapse: Cos(w_min, w_min') -> 1 as R -> inf, slowly: 1 - Cos ~ sqrt(2) k/sqrt(R).

    Symbolic limits of the printed formula (the limit, and the rate against the stated sqrt(2) k),
    and the SELI geometry itself at R = 10^2 .. 10^8 (10^10 thorough; mpmath): 1 - Cos decreases
    and sqrt(R) (1 - Cos) approaches the formula's rate.
    """
    k, R = sympy.symbols("k R", positive=True)
    e = formula_min(k, R)
    lim = sympy.limit(e, R, sympy.oo)
    rate = sympy.simplify(sympy.limit(sympy.sqrt(R) * (1 - e), R, sympy.oo))
    rate_ok = bool(rate.is_positive and rate.is_finite)
    # the stated constant, 1 - Cos ~ sqrt(2) k / sqrt(R): for the printed formula the limit is
    # sqrt(2) k exactly and `expand` shows rate - sqrt(2) k = 0; a nonzero remainder refutes
    # when its value at k = 4 is nonzero, and is left undecided otherwise.
    rate_gap = sympy.expand(rate - sympy.sqrt(2) * k)
    rate_gap_at_4 = sympy.N(rate_gap.subs(k, 4), 30) if rate_gap != 0 else 0
    rate_refuted = rate_gap != 0 and (not rate_gap_at_4.is_number or rate_gap_at_4 != 0)
    rows = [
        {
            "instance": "symbolic: lim Cos(w_min, w_min') = 1",
            "residual": 0.0 if lim == 1 else math.inf,
            "tol": 0.0,
            "ok": lim == 1,
            "limit": str(lim),
        },
        {
            "instance": "symbolic: sqrt(R) (1 - Cos) -> finite positive",
            "residual": 0.0 if rate_ok else math.inf,
            "tol": 0.0,
            "ok": rate_ok,
            "limit": str(rate),
        },
        {
            "instance": "symbolic: sqrt(R) (1 - Cos) -> sqrt(2) k (the stated rate)",
            "residual": 0.0 if rate_gap == 0 else math.inf,
            "tol": 0.0,
            "ok": not rate_refuted,
            "undecided": rate_gap != 0 and not rate_refuted,
            "limit": str(rate),
        },
    ]
    ks = [4] if profile == "quick" else [4, 10]
    exps = [2, 4, 6, 8] if profile == "quick" else [2, 3, 4, 5, 6, 7, 8, 10]
    numeric = {}
    for kk in ks:
        gaps = []
        with mpmath.workdps(DPS + 10):
            for j in exps:
                g = seli_geometry(step(kk, 10**j, "1/2", 1), "mpmath", DPS)
                gaps.append(1 - global_mpf(_cosines(g)[1]))
            scaled = [float(gp * mpmath.sqrt(10**j)) for gp, j in zip(gaps, exps)]
        target = float(rate.subs(k, kk)) if rate.is_finite else math.nan
        decreasing = all(a > b for a, b in zip(gaps, gaps[1:]))
        err = abs(scaled[-1] - target) / target if target == target else math.inf
        # for Eq. (4), sqrt(R)(1 - Cos) / (sqrt(2) k) = 1 - sqrt(2)(k - 2)/sqrt(R) + O(1/R): allow
        # that next-order term, bounded by 2 k / sqrt(R) for R >= 100, at the largest R
        tol = 2 * kk / math.sqrt(10 ** exps[-1])
        row = make_row(
            f"k={kk}: sqrt(R)(1 - Cos) at R=1e{exps[-1]}",
            err,
            tol,
            scaled=scaled,
            target=target,
            one_minus_cos=[float(x) for x in gaps],
        )
        row["ok"] = row["ok"] and decreasing
        rows.append(row)
        # how slowly: the R at which the minority angle first drops below 10 degrees
        c10 = math.cos(math.radians(10))
        try:
            sol = float(sympy.nsolve(formula_min(kk, R) - c10, R, 10**4)) if lim == 1 else None
        except (ValueError, ZeroDivisionError):  # nsolve found no root: report, do not judge
            sol = None
        numeric[f"k={kk}: R for a 10 degree minority angle"] = sol
    return aggregate(claim_id, rows, extra={"how_slowly": numeric})
