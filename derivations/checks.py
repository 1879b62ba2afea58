"""The derivations' claims, each a `verify_*` function returning a Verdict (or a list).

>>> verify_gradient_identity().status.value
'verified'
"""

from __future__ import annotations

import mpmath
import sympy

from seli_exact.verdict import Status, Verdict
from seli_exact import sel_svd, seli_geometry, step
from seli_exact.counts import ClassCounts
from seli_exact.errors import SeliInputError

from . import paper
from .blocks import BlockMatrix
from .closed_forms import NAMES, closed_forms, step_geometry
from .gradient import ce_gradient
from .secular import S as SECULAR_SUM, secular_derivation, secular_spectrum
from .spectrum import step_spectrum
from .symbols import S_MAJ, S_MIN, S_MIX, counts_substitution, m, s, symbols
from .verify import decide_sign, float64_tol, mp_tol, outcome, verify_identity, verify_sign

HALF = sympy.Rational(1, 2)


def _combine(name: str, parts: list[Verdict]) -> Verdict:
    """Worst status wins: refuted > error > undecided > verified."""
    order = [Status.REFUTED, Status.ERROR, Status.UNDECIDED, Status.VERIFIED]
    status = min((p.status for p in parts), key=order.index)
    res = [p.worst for p in parts if p.worst is not None]
    return outcome(name, status, max(res) if res else None,
                   {"parts": {p.claim_id: p.status.value for p in parts}},
                   instances=sum(p.instances for p in parts))


# --- 1. eigenstructure ---------------------------------------------------------------------

def verify_step_spectrum(max_block: int = 6) -> Verdict:
    """Each eigenpair by substitution (block algebra), the projectors (idempotent, orthogonal,
    complete, spectral sum = P D P), and the explicit matrices for 1 <= m, s <= max_block."""
    sp = step_spectrum()
    failures = []
    for e in sp.spaces:
        res = sp.gram.apply(e.vector)
        for got, want in zip(res.coords(), e.vector.coords()):
            if sympy.simplify(got - e.value * want) != 0:
                failures.append(f"eigenpair {e.name}")
        if not (e.projector @ e.projector).equals(e.projector):
            failures.append(f"projector {e.name} not idempotent")
    for i, e in enumerate(sp.spaces):
        for f in sp.spaces[i + 1:]:
            if not (e.projector @ f.projector).equals(BlockMatrix.identity().scale(0)):
                failures.append(f"projectors {e.name}, {f.name} not orthogonal")
    total = BlockMatrix.identity().scale(0)
    spectral = BlockMatrix.identity().scale(0)
    for e in sp.spaces:
        total = total + e.projector
        spectral = spectral + e.projector.scale(e.value)
    if not total.equals(BlockMatrix.identity()):
        failures.append("projectors do not sum to I")
    if not spectral.equals(sp.gram):
        failures.append("sum of lambda Pi is not P D P")
    if sympy.simplify(sum(e.multiplicity for e in sp.spaces) - (m + s)) != 0:
        failures.append("multiplicities do not add up to k")
    failures += _dense_spectrum_failures(max_block)
    status = Status.VERIFIED if not failures else Status.REFUTED
    return outcome("step_spectrum", status, 0.0 if not failures else None,
                   {"failures": failures, "max_block": max_block})


def _dense_spectrum_failures(max_block: int) -> list[str]:
    """Against explicit P D P built from the one-hot labels, with R and n_min symbolic."""
    _, R, _, n_min = symbols()
    sp = step_spectrum()
    out = []
    for mm in range(1, max_block + 1):
        for ss in range(1, max_block + 1):
            kk = mm + ss
            P = sympy.eye(kk) - sympy.ones(kk, kk) / kk
            D = sympy.diag(*([R * n_min] * mm + [n_min] * ss))
            G = P * D * P  # = Zhat Zhat^T
            if (G - sp.gram.dense(mm, ss)).applyfunc(sympy.expand) != sympy.zeros(kk, kk):
                out.append(f"P D P block form, m={mm}, s={ss}")
            basis = []
            for e in sp.spaces:
                dim = int(e.multiplicity.subs({m: mm, s: ss}))
                value = e.value.subs({m: mm, s: ss})
                vecs = []
                if e.name in ("maj", "min"):
                    r = mm if e.name == "maj" else ss
                    for j in range(1, r):  # e_1 - e_{j+1}: a basis of the zero-sum vectors
                        z = [0] * r
                        z[0], z[j] = 1, -1
                        vecs.append(e.vector.dense(mm, ss, z_maj=z if e.name == "maj" else None,
                                                   z_min=z if e.name == "min" else None))
                else:
                    vecs.append(e.vector.dense(mm, ss))
                if len(vecs) != dim:
                    out.append(f"{e.name}: {len(vecs)} vectors for multiplicity {dim}")
                for v in vecs:
                    if (G * v - value * v).applyfunc(sympy.expand) != sympy.zeros(kk, 1):
                        out.append(f"{e.name} eigenvector, m={mm}, s={ss}")
                basis += vecs
            if sympy.Matrix.hstack(*basis).rank() != kk:
                out.append(f"eigenvectors do not span R^k, m={mm}, s={ss}")
    return out


# --- 2. closed forms -----------------------------------------------------------------------

def raw_forms() -> dict[str, sympy.Expr]:
    """The closed forms straight from the spectral sums, untidied, in k, R, rho, n_min."""
    g = step_geometry()
    sub = counts_substitution()
    sig = {sym: v.subs(sub) for sym, v in g.sigmas.items()}
    W, M, L = g.W_gram, g.M_gram, g.logits
    sp = step_spectrum()
    mult = {e.name: e.multiplicity for e in sp.spaces}
    raw = {
        "sigma_maj": S_MAJ, "sigma_min": S_MIN, "sigma_mix": S_MIX,
        "nuclear_norm": mult["maj"] * S_MAJ + mult["min"] * S_MIN + mult["mix"] * S_MIX,
        "w_maj_sq": W.d_maj, "w_min_sq": W.d_min, "w_majmaj": W.o_maj, "w_minmin": W.o_min,
        "w_majmin": W.x_mm, "h_maj_sq": M.d_maj, "h_min_sq": M.d_min, "h_majmaj": M.o_maj,
        "h_minmin": M.o_min, "h_majmin": M.x_mm,
        "w_norm_ratio": W.d_maj / W.d_min, "h_norm_ratio": M.d_maj / M.d_min,
        "cos_w_majmaj": W.o_maj / W.d_maj, "cos_w_minmin": W.o_min / W.d_min,
        "cos_w_majmin": W.x_mm / sympy.sqrt(W.d_maj * W.d_min),
        "cos_h_majmaj": M.o_maj / M.d_maj, "cos_h_minmin": M.o_min / M.d_min,
        "cos_h_majmin": M.x_mm / sympy.sqrt(M.d_maj * M.d_min),
        "cos_align_maj": L.d_maj / sympy.sqrt(W.d_maj * M.d_maj),
        "cos_align_min": L.d_min / sympy.sqrt(W.d_min * M.d_min),
    }
    return {name: raw[name].subs(sub).subs(sig) for name in NAMES}


def verify_tidying(forms: dict | None = None, names=NAMES) -> list[Verdict]:
    """Each closed form (`forms`, default closed_forms()) equals its untidied spectral sum."""
    forms = closed_forms() if forms is None else forms
    raw = raw_forms()
    return [verify_identity(f"tidy.{name}", forms[name], raw[name], square_signs=True)
            for name in names]


def seli_exact_values(counts: ClassCounts, arith: str = "float64", digits: int | None = None) -> dict:
    """The same quantities from seli_exact's structured SVD (Theorem 1 Gram matrices)."""
    svd = sel_svd(counts, arith, digits)
    g = seli_geometry(counts, svd.arithmetic, svd=svd)
    p = counts.params
    mm, ss = p["m"], p["s"]
    i, j = 0, mm  # a majority and a minority class
    W, M = g.W_gram, g.M_gram
    out = {
        "nuclear_norm": g.nuclear_norm,
        "w_maj_sq": W[i, i], "w_min_sq": W[j, j], "w_majmin": W[i, j],
        "h_maj_sq": M[i, i], "h_min_sq": M[j, j], "h_majmin": M[i, j],
        "w_norm_ratio": W[i, i] / W[j, j], "h_norm_ratio": M[i, i] / M[j, j],
        "cos_w_majmin": g.classifier_cosines[i, j], "cos_h_majmin": g.embedding_cosines[i, j],
        "cos_align_maj": g.alignment[i], "cos_align_min": g.alignment[j],
    }
    # descending singular values: m - 1 copies of sigma_maj, sigma_mix, s - 1 copies of sigma_min
    # (n_min < mu_mix < R n_min for R > 1; all equal at R = 1); a value with multiplicity 0 is
    # no singular value and is not compared
    sigmas = list(svd.sigma)
    out["sigma_mix"] = sigmas[mm - 1]
    if mm >= 2:
        out["sigma_maj"] = sigmas[0]
    if ss >= 2:
        out["sigma_min"] = sigmas[-1]
    if mm >= 2:
        out.update(w_majmaj=W[i, i + 1], h_majmaj=M[i, i + 1],
                   cos_w_majmaj=g.classifier_cosines[i, i + 1], cos_h_majmaj=g.embedding_cosines[i, i + 1])
    if ss >= 2:
        out.update(w_minmin=W[j, j + 1], h_minmin=M[j, j + 1],
                   cos_w_minmin=g.classifier_cosines[j, j + 1], cos_h_minmin=g.embedding_cosines[j, j + 1])
    return out


def verify_against_seli_exact(counts: ClassCounts, arith: str = "float64", digits: int | None = None,
                              forms: dict | None = None) -> Verdict:
    """Every closed form at the counts' (k, R, rho, n_min) against seli_exact's numbers.

    The tolerance follows the working precision: float64_tol(k) for float64 (measured errors
    are 1e-15 and below), mp_tol(digits) for mpmath.
    """
    if not isinstance(counts, ClassCounts) or counts.model != "step":
        raise SeliInputError(
            f"`counts` must be a (R, rho)-STEP model; got {getattr(counts, 'model', type(counts).__name__)!r} "
            "counts. Build them with seli_exact.step(k, R, rho, n_min)."
        )
    forms = closed_forms() if forms is None else forms
    k, R, rho, n_min = symbols()
    p = counts.params
    sub = {k: sympy.Integer(p["k"]), R: sympy.Rational(p["R"].numerator, p["R"].denominator),
           rho: sympy.Rational(p["rho"].numerator, p["rho"].denominator), n_min: sympy.Integer(p["n_min"])}
    ref = seli_exact_values(counts, arith, digits)
    if arith == "float64":
        digits, tol = 15, float64_tol(counts.k)
    else:
        digits = 30 if digits is None else digits
        tol = mp_tol(digits)
    worst, worst_name = 0.0, None
    with mpmath.workdps(digits + 20):
        for name, want in ref.items():
            got = mpmath.mpf(str(sympy.N(forms[name].subs(sub), digits + 20)))
            w = mpmath.mpf(want) if arith != "float64" else mpmath.mpf(float(want))
            err = float(abs(got - w) / (1 + abs(w)))
            if err >= worst:
                worst, worst_name = err, name
    status = Status.VERIFIED if worst <= tol else Status.REFUTED
    return outcome(f"seli_exact[{arith}].{counts.describe()}", status, worst,
                   {"worst": worst_name, "tolerance": tol, "compared": sorted(ref)})


def verify_class_mean_gram_signs(forms: dict | None = None) -> Verdict:
    """diag(G_M) > 0 and offdiag(G_M) < 0 on the whole domain (the sign pattern that makes
    B_hat * Zhat^T > 0 in Theorem 1's dual certificate, B_hat = U V^T having rows of G_M)."""
    forms = closed_forms() if forms is None else forms
    parts = [verify_sign(f"G_M_sign.{name}", forms[name], sign)
             for name, sign in (("h_maj_sq", 1), ("h_min_sq", 1), ("h_majmaj", -1),
                                ("h_minmin", -1), ("h_majmin", -1))]
    return _combine("class_mean_gram_signs", parts)


# --- 3. the paper's printed formulas at rho = 1/2 ------------------------------------------

def verify_lemma_3_1(forms: dict | None = None) -> Verdict:
    forms = closed_forms() if forms is None else forms
    _, _, rho, _ = symbols()
    printed = paper.lemma_3_1()
    parts = [verify_identity(f"lemma_3_1.{name}", forms[name].subs(rho, HALF), printed[name],
                             parametrize=False) for name in ("w_norm_ratio", "h_norm_ratio")]
    return _combine("lemma_3_1", parts)


def verify_eq_4(forms: dict | None = None) -> Verdict:
    forms = closed_forms() if forms is None else forms
    _, _, rho, _ = symbols()
    printed = paper.eq_4()
    parts = [verify_identity(f"eq_4.{name}", forms[name].subs(rho, HALF), printed[name],
                             parametrize=False) for name in ("cos_w_majmaj", "cos_w_minmin")]
    return _combine("eq_4", parts)


def verify_norm_order(forms: dict | None = None) -> Verdict:
    """Lemma 3.1: ||w_maj|| >= ||w_min||, ||h_maj|| <= ||h_min||, equality iff R = 1 or k = 2.

    At rho = 1/2 the differences factor as (k - 2)(sqrt(R) - 1) times a positive term; so they
    vanish exactly on R = 1 or k = 2 and carry the stated signs otherwise.
    """
    forms = closed_forms() if forms is None else forms
    k, R, rho, n_min = symbols()
    parts = []
    for name, a, b, sign in (("w", "w_maj_sq", "w_min_sq", 1), ("h", "h_maj_sq", "h_min_sq", -1)):
        diff = (forms[a] - forms[b]).subs(rho, HALF)
        vanishing = (k - 2) * (sympy.sqrt(R) - 1)
        rest = sympy.factor(sympy.cancel(sympy.radsimp(diff / vanishing)))
        parts.append(verify_identity(f"norm_order.{name}.factored", diff, vanishing * rest,
                                     parametrize=False))
        parts.append(verify_sign(f"norm_order.{name}.cofactor_sign", rest, sign))
    return _combine("norm_order", parts)


def verify_monotonicity(forms: dict | None = None) -> Verdict:
    """Eq. (4): d cos_maj / dR < 0 and d cos_min / dR > 0 for R >= 1, k >= 4 (rho = 1/2), from the
    sign of the derivative; and beyond the paper, for every rho: the same for the classifiers, and
    the reverse for the class means (cos_h_majmaj increasing, cos_h_minmin decreasing)."""
    forms = closed_forms() if forms is None else forms
    _, R, rho, _ = symbols()
    domain, _ = paper.eq_4_domain()
    parts = []
    for name, sign in (("cos_w_majmaj", -1), ("cos_w_minmin", 1)):
        d = sympy.diff(forms[name].subs(rho, HALF), R)
        d = d.subs(domain)  # k >= 4 at rho = 1/2 with a pair in each block, R >= 1
        decided = decide_sign(d)
        status = Status.VERIFIED if decided == sign else (
            Status.UNDECIDED if decided is None else Status.REFUTED)
        parts.append(outcome(f"monotone.eq_4.{name}", status, 0.0 if decided == sign else None,
                             {"derivative_sign": decided, "expected": sign}))
    for name, sign in (("cos_w_majmaj", -1), ("cos_w_minmin", 1), ("cos_h_majmaj", 1),
                       ("cos_h_minmin", -1)):
        parts.append(verify_sign(f"monotone.any_rho.{name}", sympy.diff(forms[name], R), sign))
    return _combine("monotonicity", parts)


def limits(forms: dict | None = None) -> dict:
    """R -> oo limits of the cosines and norm ratios, and the leading rate of 1 - cos_w_minmin."""
    forms = closed_forms() if forms is None else forms
    k, R, rho, _ = symbols()
    out = {}
    for name in ("cos_w_majmaj", "cos_w_minmin", "cos_w_majmin", "cos_h_majmaj", "cos_h_minmin",
                 "cos_h_majmin", "w_norm_ratio", "h_norm_ratio"):
        out[name] = sympy.simplify(sympy.limit(forms[name], R, sympy.oo))
    one_minus = 1 - forms["cos_w_minmin"]
    out["rate_cos_w_minmin"] = sympy.simplify(sympy.limit(one_minus * sympy.sqrt(R), R, sympy.oo))
    return out


def verify_limits(forms: dict | None = None) -> Verdict:
    """Remark 3.2: cos_w_minmin -> 1 as R -> oo (minority collapse), 1 - cos ~ c R^(-1/2) with
    c = k sqrt(rho)/(1 - rho) (k sqrt(2) at rho = 1/2), the rate the paper calls slow."""
    forms = closed_forms() if forms is None else forms
    k, R, rho, _ = symbols()
    lim = limits(forms)
    parts = [
        verify_identity("limit.cos_w_minmin", lim["cos_w_minmin"], 1),
        verify_identity("limit.rate", lim["rate_cos_w_minmin"], k * sympy.sqrt(rho) / (1 - rho)),
        verify_identity("limit.rate_rho_half", lim["rate_cos_w_minmin"].subs(rho, HALF),
                        k * sympy.sqrt(2), parametrize=False),
        # Eq. (4)'s printed form has the same limit and rate (an independent route)
        verify_identity("limit.eq_4_rate",
                        sympy.limit((1 - paper.eq_4()["cos_w_minmin"]) * sympy.sqrt(R), R, sympy.oo),
                        k * sympy.sqrt(2), parametrize=False),
    ]
    return _combine("limits", parts)


def verify_etf_reduction(forms: dict | None = None) -> Verdict:
    """Corollary 1.3: at R = 1 (any rho) and at k = 2 every cosine is -1/(k - 1), norm ratios 1,
    alignments 1."""
    forms = closed_forms() if forms is None else forms
    k, R, rho, _ = symbols()
    etf = paper.etf_cosine()
    parts = []
    cosines = [n for n in NAMES if n.startswith("cos_") and not n.startswith("cos_align")]
    cases = {"R=1": {R: 1}, "k=2": {k: 2, rho: HALF}}
    for case, sub in cases.items():
        for name in cosines:
            if case == "k=2" and name.endswith(("majmaj", "minmin")):
                continue  # m = s = 1: no pair inside a block
            parts.append(verify_identity(f"etf.{case}.{name}", forms[name].subs(sub), etf.subs(sub),
                                         square_signs=True))
        for name in ("w_norm_ratio", "h_norm_ratio", "cos_align_maj", "cos_align_min"):
            parts.append(verify_identity(f"etf.{case}.{name}", forms[name].subs(sub), 1,
                                         square_signs=True))
    return _combine("etf_reduction", parts)


# --- 5. Lemma A.1 (v) ----------------------------------------------------------------------

def verify_gradient_identity() -> Verdict:
    """grad L(beta Zhat) = -c Zhat: the label and non-label entries give the same multiplier c,
    and c = k/(exp(beta) + k - 1) as printed in Proposition 1's proof (beta = alpha^2)."""
    d = ce_gradient()
    same = sympy.simplify(d.multiplier_label - d.multiplier_other) == 0
    printed = sympy.simplify(d.multiplier_label - paper.gradient_multiplier(d.beta)) == 0
    k = symbols()[0]
    positive = d.multiplier_label.subs(k, 2 + sympy.Symbol("j", nonnegative=True)).is_positive  # k >= 2
    status = Status.VERIFIED if (same and printed and positive) else Status.REFUTED
    return outcome("gradient_identity", status, 0.0 if status is Status.VERIFIED else None,
                   {"multiplier": str(d.multiplier_label), "same_multiplier": same,
                    "matches_paper": printed, "positive": bool(positive)})


# --- 6. arbitrary counts: the secular equation ---------------------------------------------

def verify_secular_identity() -> Verdict:
    """The residual of v_c = 1/(n_c - mu) is S(mu) times g_c: zero iff the secular equation holds."""
    d = secular_derivation()
    ok = sympy.simplify(d.residual.subs(SECULAR_SUM, 0)) == 0 and not d.residual_factor.has(SECULAR_SUM)
    ok = ok and sympy.simplify(d.residual - SECULAR_SUM * d.residual_factor) == 0
    return outcome("secular_identity", Status.VERIFIED if ok else Status.REFUTED, 0.0 if ok else None,
                   {"residual_factor": str(d.residual_factor)})


def verify_secular_against_seli_exact(counts: ClassCounts, digits: int = 50) -> Verdict:
    """Secular roots (polyroots) and eigenvectors (1/(n_c - mu))_c vs seli_exact's mpmath SVD and
    the dense P D P at `digits` digits."""
    sec = secular_spectrum(counts, digits)
    svd = sel_svd(counts, "mpmath", digits)
    ctx = svd.arithmetic.ctx
    kk = counts.k
    mine = sorted(sec.eigenvalues)
    theirs = sorted(ctx.mpf(x) ** 2 for x in svd.sigma)
    scale = max(counts.counts)
    worst = max(float(abs(a - b)) for a, b in zip(mine, theirs)) / scale if kk > 1 else 0.0
    if len(mine) != kk - 1:
        worst = float("inf")
    # dense residual ||P D P v - mu v|| for the secular eigenvectors
    n = [ctx.mpf(c) for c in counts.counts]
    for mu_, kind, v in zip(sec.eigenvalues, sec.kinds, sec.vectors):
        if kind != "secular":
            continue
        mean = ctx.fsum(v) / kk
        pv = [x - mean for x in v]
        dpv = [a * b for a, b in zip(n, pv)]
        mean2 = ctx.fsum(dpv) / kk
        res = max(abs(a - mean2 - mu_ * b) for a, b in zip(dpv, v))
        worst = max(worst, float(res) / scale)
    tol = mp_tol(digits)
    status = Status.VERIFIED if worst <= tol else Status.REFUTED
    return outcome(f"secular[{counts.describe()}]", status, worst, {"tolerance": tol})


def verify_all() -> list[Verdict]:
    """Every derivation claim with fixed instances (the quick set of the tests)."""
    cf = closed_forms()
    out = [verify_step_spectrum(), *verify_tidying(cf), verify_class_mean_gram_signs(cf),
           verify_lemma_3_1(cf), verify_eq_4(cf),
           verify_norm_order(cf), verify_monotonicity(cf), verify_limits(cf),
           verify_etf_reduction(cf), verify_gradient_identity(), verify_secular_identity()]
    out.append(verify_against_seli_exact(step(4, 10, "1/2", 5)))
    out.append(verify_against_seli_exact(step(4, 10, "1/2", 5), "mpmath", 50))
    from seli_exact import from_counts

    out.append(verify_secular_against_seli_exact(from_counts("50,50,5,5,7,1000")))
    return out
