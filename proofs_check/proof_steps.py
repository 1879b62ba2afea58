"""Judges for the steps of Theorem 1's proof sketch (Sec. 3.3): the dual certificate
B_hat = U V^T of (6), its strict sign pattern, the zero duality gap, complementary slackness,
the relaxation (5) and its tightness for the non-convex (2); and the sign condition beyond STEP,
a conjecture under test.

B_hat = U V^T has row i equal to G_M[y_i, :] (G_M = V Lam^{-1} V^T), so the judges take the
certificate per class, B_class (k, k) with B = B_class[y].
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy

from seli_exact import ClassCounts, sel_matrix, seli_geometry, step

from .certificate import SignCertificate, sign_certificate, sign_margin
from .evidence import DPS, RTOL64, RTOL_MP, TOL_LOCAL, aggregate, global_mpf, make_row, reference
from .local_search import margins
from .sign_proof import ENTRY_SIGNS, SignProof, step_closed_forms
from seli_exact.verdict import Verdict


def dual_feasibility(counts: ClassCounts, B_class: np.ndarray, ar) -> dict:
    """||B||_2 = 1 and B 1 = 0 for B = B_class[y] (n, k), without building B.

    B^T B = sum_c n_c B_class[c]^T B_class[c] must be the projector P = I - 11^T/k: then every
    nonzero singular value of B is 1 (and B 1 = 0 makes the kernel contain 1).
    """
    k = counts.k
    n = np.array([ar.number(v) for v in counts.counts], dtype=ar.dtype)
    BtB = (B_class.T * n[None, :]) @ B_class
    P = np.full((k, k), ar.number(-1) / ar.number(k), dtype=ar.dtype)
    P[np.diag_indices(k)] += ar.number(1)
    E, row_sums = BtB - P, B_class.sum(axis=1)
    if ar.exact:  # exact: zero when SymPy simplifies it to zero, else its value
        E = np.array([sympy.simplify(x) for x in E.ravel()], dtype=object).reshape(E.shape)
        row_sums = np.array([sympy.simplify(x) for x in row_sums], dtype=object)
    f = ar.to_float
    return {
        "B^T B - P": float(np.abs(f(E)).max()),
        "B 1": float(np.abs(f(row_sums)).max()),
        "spectral norm": float(np.sqrt(np.linalg.eigvalsh(f(BtB)).max())),
    }


def judge_dual_feasible(cases, row_cases=(), claim_id: str = "cert.dual_feasible") -> Verdict:
    """cases: (name, counts, B_class, arithmetic, tol): B = B_class[y] has B^T B = P and B 1 = 0.

    row_cases: (name, counts, B_class, tol): B_class[y] is the paper's B_hat = U V^T itself, with
    U, V from numpy's dense SVD of Zhat^T (the row fact that lets the other checks work per class;
    dual feasibility alone does not pin B_hat down, e.g. it survives swapping the rows of two
    classes with equal counts).
    """
    rows = []
    for name, counts, B, ar, tol in cases:
        ev = dual_feasibility(counts, B, ar)
        rows.append(
            make_row(
                name,
                max(ev["B^T B - P"], ev["B 1"]),
                tol,
                arithmetic=ar.name,
                spectral_norm=ev["spectral norm"],
            )
        )
    for name, counts, B, tol in row_cases:
        rows.append(make_row(f"{name}: U V^T = B_class[y] (dense SVD)",
                             certificate_row_residual(counts, B), tol))
    return aggregate(claim_id, rows)


def dense_certificate(counts: ClassCounts) -> np.ndarray:
    """B_hat = U V^T (n, k) from numpy's dense SVD of Zhat^T = U Lam V^T (small n only).

    U V^T is the polar factor of Zhat^T, unique although U and V are not (signs, rotations
    inside repeated singular values)."""
    u, _, vt = np.linalg.svd(sel_matrix(counts).T, full_matrices=False)
    return u[:, : counts.k - 1] @ vt[: counts.k - 1]


def certificate_row_residual(counts: ClassCounts, B_class: np.ndarray | None = None) -> float:
    """max |U V^T - B_class[y, :]| with U V^T from the dense SVD (dense_certificate); B_class
    defaults to seli_exact's float64 G_M (the row fact: row i of B_hat is G_M[y_i, :])."""
    if B_class is None:
        B_class = seli_geometry(counts).M_gram
    B_class = np.asarray(B_class, dtype=float)
    return float(np.abs(dense_certificate(counts) - B_class[counts.labels()]).max())


def dense_sign_row(name: str, counts: ClassCounts, B: np.ndarray | None, tol: float) -> dict:
    """Sec. 3.3's condition B_hat * Zhat^T > 0 read off directly, in float64: the smallest
    B[i, c] sign(Zhat^T[i, c]) must exceed `tol` (the dense SVD's error). B (n, k) defaults to
    dense_certificate(counts), the paper's B_hat = U V^T; tests plant others."""
    B = dense_certificate(counts) if B is None else np.asarray(B, dtype=float)
    margin = float(np.min(B * np.sign(sel_matrix(counts).T)))
    return make_row(f"{name}: B_hat * Zhat^T > 0 (dense SVD, float64)", margin, tol,
                    kind="margin")


def judge_strict_sign(
    certs: list[SignCertificate],
    proofs: dict[str, SignProof] | None,
    formula_rows: list[dict] | None = None,
    forms: dict | None = None,
    claim_id: str = "cert.strict_sign",
    dense_rows: list[dict] | None = None,
) -> Verdict:
    """Verified when every per-instance certificate is proven (interval arithmetic), every STEP
    entry's sign is proven symbolically, the closed forms equal the numeric G_M, and every
    `dense_rows` row (dense_sign_row: B_hat * Zhat^T > 0 read off U V^T directly) holds.

    Refuted when an interval enclosure lies on the wrong side of 0, a closed form disagrees with
    G_M, a closed form has the wrong sign at a sampled STEP point, or a dense row's margin is not
    positive; undecided when a proof does not close without any such evidence against it.
    """
    rows = []
    for c in certs:
        rows.append(
            {
                "instance": str(list(c.counts)),
                "margin": c.mpmath_margin,
                "tol": c.candidate_distance if c.candidate_distance is not None else math.nan,
                "ok": not c.refuted,
                "undecided": not c.proven and not c.refuted,
                **c.to_json(),
            }
        )
    for name, p in (proofs or {}).items():
        row = {
            "instance": f"symbolic STEP: {'+' if ENTRY_SIGNS[name] > 0 else '-'}{name} > 0 "
            "for all k, R, rho, n_min",
            "ok": True,
            "undecided": False,
            "steps": list(p.steps),
        }
        if not p.proven:
            expr = (forms if forms is not None else step_closed_forms())[name]
            bad = sample_sign_violation(expr, ENTRY_SIGNS[name])
            row.update(reason=p.reason, ok=bad is None, undecided=bad is None)
            if bad is not None:
                row["wrong_sign_at"] = bad
        rows.append(row)
    rows += list(formula_rows or [])
    rows += list(dense_rows or [])
    undecided = [
        f"{r['instance']}: {r.get('failure') or r.get('reason') or 'not proven'}"
        for r in rows
        if r.get("undecided")
    ]
    return aggregate(claim_id, rows, kind="margin", undecided=undecided)


def sample_sign_violation(expr: sympy.Expr, sign: int) -> dict | None:
    """The first STEP point (k, R, rho, n_min) where sign * expr <= 0, at 30 digits, or None."""
    from derivations import symbols

    ks, Rs, rhos, ns = symbols()
    for k in (2, 3, 4, 5, 8, 12):
        for s_ in range(1, k):
            for R in (1, 2, 10, 1000):
                for n_min in (1, 7):
                    v = (
                        (sign * expr)
                        .subs({ks: k, Rs: R, rhos: sympy.Rational(s_, k), ns: n_min})
                        .evalf(30)
                    )
                    if not v.is_number or v <= 0:
                        return {"k": k, "R": R, "rho": f"{s_}/{k}", "n_min": n_min, "value": str(v)}
    return None


def step_formula_rows(
    forms: dict | None = None,
    cases=((4, 10, "1/2", 5), (5, 3, "2/5", 2), (6, 100, "1/3", 1), (3, 1, "1/3", 4)),
) -> list[dict]:
    """The STEP closed forms substituted at instances vs seli_exact's mpmath G_M (50 digits)."""
    from derivations import symbols

    forms = step_closed_forms() if forms is None else forms
    ks, Rs, rhos, ns = symbols()
    rows = []
    for k, R, rho, n_min in cases:
        c = step(k, R, rho, n_min)
        G = seli_geometry(c, "mpmath", DPS).M_gram
        m = c.params["m"]  # Definition 1: classes 0..m-1 are the majorities
        maj, mnr = tuple(range(m)), tuple(range(m, k))
        sub = {ks: k, Rs: sympy.Rational(str(R)), rhos: sympy.Rational(rho), ns: n_min}
        pick = {
            "h_maj_sq": (maj[0], maj[0]),
            "h_min_sq": (mnr[0], mnr[0]),
            "h_majmin": (maj[0], mnr[0]),
        }
        if len(maj) > 1:
            pick["h_majmaj"] = (maj[0], maj[1])
        if len(mnr) > 1:
            pick["h_minmin"] = (mnr[0], mnr[1])
        worst = 0.0
        with mpmath.workdps(DPS + 10):
            for name, (i, j) in pick.items():
                val = mpmath.mpf(str(sympy.N(forms[name].subs(sub), DPS + 10)))
                worst = max(worst, float(abs(val - global_mpf(G[i, j])) / max(abs(val), 1)))
        rows.append(
            {
                "instance": f"closed forms vs G_M at STEP{(k, R, rho, n_min)}",
                "residual": worst,
                "tol": RTOL_MP,
                "ok": worst <= RTOL_MP,
            }
        )
    return rows


def judge_duality_gap(cases, claim_id: str = "cert.duality_gap") -> Verdict:
    """cases: (name, counts, B_class, nuclear norm by an independent route, tol):
    tr(Zhat B) = sum_c n_c (B[c, c] - mean_j B[c, j]) must equal ||Zhat||_*."""
    rows = []
    for name, counts, B, nuc, tol in cases:
        n = counts.counts
        tr = sum(n[c] * (B[c, c] - sum(B[c, :]) / counts.k) for c in range(counts.k))
        gap = abs(tr - nuc) / abs(nuc)
        rows.append(make_row(name, float(gap), tol, trace=float(tr), nuclear_norm=float(nuc)))
    return aggregate(claim_id, rows)


def complementary_slackness(Z_class: np.ndarray, B_class: np.ndarray) -> dict[str, float]:
    """KKT of (5) per class: multipliers lam[c, j] = -B[c, j] (j != c), slacks Z[c,c] - Z[j,c] - 1.

    Returns the smallest multiplier (> 0 forces every constraint active at every optimum), the
    largest |lam * slack| and the largest |slack|."""
    k = Z_class.shape[0]
    off = ~np.eye(k, dtype=bool)
    lam = -np.asarray(B_class, dtype=float)  # lam[c, j]: class c's constraint against j
    slack = (np.diagonal(Z_class)[None, :] - Z_class).T - 1.0  # slack[c, j] = Z[c,c] - Z[j,c] - 1
    return {
        "min multiplier": float(lam[off].min()),
        "max |multiplier * slack|": float(np.abs(lam * slack)[off].max()),
        "max |slack|": float(np.abs(slack[off]).max()),
    }


def judge_complementary_slackness(cases, claim_id: str = "cert.complementary_slackness") -> Verdict:
    """cases: (name, Z_class, B_class, tol): multipliers > 0 and every constraint active."""
    rows = []
    for name, Z, B, tol in cases:
        ev = complementary_slackness(Z, B)
        row = make_row(name, max(ev["max |slack|"], ev["max |multiplier * slack|"]), tol, **ev)
        row["ok"] = row["ok"] and ev["min multiplier"] > 0
        rows.append(row)
    return aggregate(claim_id, rows)


def judge_relax_optimum(cases, claim_id: str = "relax.optimum") -> Verdict:
    """cases: (name, counts, route, Z, objective, lower_bound, nuclear norm claimed, tol).

    The claimed ||Zhat||_* must lie in [lower_bound, objective] (to tol), the bracket must be
    tight (objective - lower_bound <= tol), and Z must be Zhat (to tol): either its class columns
    Z_class (k, k) against I - 11^T/k, or all n columns (k, n) against Zhat itself (a solver that
    does not collapse the classes may leave them apart)."""
    rows = []
    for name, counts, route, Z, obj, low, nuc, tol in cases:
        k = counts.k
        scale = max(abs(nuc), 1.0)
        outside = max(0.0, low - nuc, nuc - obj) / scale
        Z = np.asarray(Z, dtype=float)
        Zhat = np.eye(k) - 1.0 / k if Z.shape == (k, k) else sel_matrix(counts)  # (k, k) / (k, n)
        dist = float(np.abs(Z - Zhat).max()) if Z.shape == Zhat.shape else math.inf
        rows.append(
            make_row(
                f"{name} ({route})",
                max(outside, dist, (obj - low) / scale),
                tol,
                objective=obj,
                lower_bound=low,
                nuclear_norm=float(nuc),
                distance_to_Zhat=dist,
            )
        )
    return aggregate(claim_id, rows)


def judge_relax_tight(factorizations, runs, claim_id: str = "relax.tight") -> Verdict:
    """factorizations: (name, counts, W, H, tol) must attain p* = ||Zhat||_* with all margins 1;
    runs: (name, counts, objective, min margin) from local search must not beat p*.

    A run's point is rescaled to exact feasibility (divide the objective by its smallest margin
    when that is below 1), so "beating p*" means a feasible point of (2) below ||Zhat||_*. A run
    with a margin <= 0 cannot be rescaled: it is no point of (2) and says nothing about p*."""
    rows = []
    for name, counts, W, H, tol in factorizations:
        nuc = reference(counts).nuclear_norm
        m = margins(W, H, counts.labels())
        m = m[np.isfinite(m)]
        obj = 0.5 * (np.sum(W * W) + np.sum(H * H))
        res = max(abs(obj - nuc) / nuc, float(np.abs(m - 1).max()))
        rows.append(make_row(name, res, tol, objective=float(obj), p_star=nuc))
    reached = 0
    for name, counts, obj, min_margin in runs:
        nuc = reference(counts).nuclear_norm
        if min_margin <= 0:
            feasible_obj = math.inf  # not a point of (2): no evidence either way
        else:
            feasible_obj = obj / min_margin if min_margin < 1 else obj
        below = max(0.0, (nuc - feasible_obj) / nuc)
        reached += abs(feasible_obj - nuc) / nuc < TOL_LOCAL
        rows.append(
            make_row(
                name, below, RTOL64 * counts.n * counts.k, objective=float(feasible_obj), p_star=nuc
            )
        )
    return aggregate(claim_id, rows, extra={"local_runs_reaching_p*": f"{reached} of {len(runs)}"})


def counts_search_strategy(max_k: int = 8, max_count: int = 1000):
    """Hypothesis strategy of ClassCounts with arbitrary counts (built, not filtered)."""
    from hypothesis import strategies as st

    from seli_exact import from_counts

    return st.lists(st.integers(1, max_count), min_size=2, max_size=max_k).map(from_counts)


def search_sign_counterexample(max_examples: int, margin=None):
    """Hypothesis' search for counts whose float64 sign margin is <= 0: the shrunk counts, or None.

    `margin(counts)` defaults to the sign margin of seli_exact's float64 G_M; tests plant others.

    Derandomized (the same examples every run) and without a deadline (timings vary with load).
    A counts vector found here is only a candidate: judge_sign_any_counts re-proves it with
    interval arithmetic before calling it a counterexample.
    """
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    config = settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    if margin is None:

        def margin(c):
            return float(sign_margin(seli_geometry(c).M_gram))

    try:
        return find(counts_search_strategy(), lambda c: margin(c) <= 0, settings=config)
    except NoSuchExample:
        return None


def judge_sign_any_counts(
    certs: list[SignCertificate],
    counterexample=None,
    searched: int = 0,
    claim_id: str = "conj.strict_sign_any_counts",
    dense_rows: list[dict] | None = None,
) -> Verdict:
    """A conjecture under test, not a claim of the paper: verified means "proven on every instance
    tried and no counterexample found by the search", never "proven for all counts"."""
    extra = {
        "status_meaning": "conjecture: proven per instance only; no proof for all counts",
        "proven_part": "diag(G_M) > 0 for every count vector: G_M = V Lam^-1 V^T >= P / sigma_max "
        "(PSD order), so G_M[c, c] >= (1 - 1/k) / sigma_max; only the off-diagonal "
        "signs are conjectural",
        "hypothesis_examples_searched": searched,
        "counterexample_shrunk_by_hypothesis": None,
    }
    if counterexample is not None:
        cert = sign_certificate(counterexample, dps=DPS)
        extra["counterexample_shrunk_by_hypothesis"] = cert.to_json()
        certs = list(certs) + [cert]
    v = judge_strict_sign(certs, None, None, claim_id=claim_id, dense_rows=dense_rows)
    return Verdict(
        v.claim_id, v.status, v.instances, v.worst, v.worst_kind, {**v.evidence, **extra}
    )
