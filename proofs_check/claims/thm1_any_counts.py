"""Beyond the paper: Theorem 1 for every vector of class counts (Sec. 3.3 without STEP).

The paper proves Theorem 1 for (R, rho)-STEP imbalance only; the one place its proof uses STEP is
the sign condition B_hat * Zhat^T > 0 of Sec. 3.3 (diag(G_M) > 0 > offdiag(G_M)).
derivations/any_counts.py writes out a proof for every count vector (steps 1-7 of its module
doc). This claim judges each step separately, as a named part with its own verdict, listed in
evidence["steps"]; the claim is verified only when every part is:

  part                           what is judged
  step1                          Zhat Zhat^T = P D P
  step2                          L = diag(d) - d d^T/s = (P D P)^+
  step3                          G_M = V Lam^{-1} V^T = L^{1/2} (50 digits)
  step4                          (L + tI)^{-1} by Sherman-Morrison, sigma(t) > 0
  step5                          the integral formulas for G_M, G_W; the signs of their integrands
  step6                          -G_M[i, j] >= F_k(n_i, n_j), and F_k is the best such bound
  sign                           B_hat * Zhat^T > 0 per instance (interval proof; float64 and
                                 dense-SVD margins, proofs_check.sign_cases)
  routes                         the secular, dense and integral routes agree
  records                        the formulas `seli latex` exports for any counts (formulas.json,
                                 read back) equal the quantities they name
  step7.dual_feasible            (a)-(b) ||B_hat||_2 = 1, B_hat 1 = 0, row i of B_hat = G_M[y_i, :]
  step7.duality_gap              (c) tr(Zhat B_hat) = ||Zhat||_*
  step7.complementary_slackness  (d) every multiplier -B_hat[i, c] > 0, every margin active
  step7.uniqueness               (d) (5) solved independently: minimizer Zhat, value ||Zhat||_*
  step7.tightness                (e) d >= k-1: (2) attains ||Zhat||_*, nothing does better
  theorem                        Theorem 1 (i)-(iii) and p* at minimizers of (2)

Steps 1-6 and the routes are proofs_check.any_counts_steps' verifications (step1_gram, ...,
step6_slack, routes_agree); step 7's parts and the theorem are judged by the judges of
cert.dual_feasible, cert.duality_gap, cert.complementary_slackness, relax.optimum, relax.tight
and thm1 (at candidates from proofs_check.candidates), on non-STEP counts. Steps 1, 2 and 4 are
SymPy identities with symbolic counts for each k (2..5 quick, 2..8 thorough) and for general k
(the class-matrix algebra); steps 3, 5, 6 and the routes run on
any_counts_steps.default_instances (Fig. 1's counts, a CIFAR-10-LT tail, random vectors with
repeated counts), step 6 also on its tightness family; the sign condition, step 7 and the
theorem run on the catalogue's non-STEP instances (proofs_check.instances.count_instances, and
the small ones local search can handle).

Judging. Each step's verdict from any_counts_steps is judged again from its rows (a step that
reports verified while one of its rows fails is refuted; a step verdict filed under another
step's name is refuted); the step-7 and theorem parts are judged by the existing claims'
judges, chosen by the type of the case, never by the case. A part without any case is
undecided ("not checked"), so dropping a step from cases() cannot go unnoticed.

The Hypothesis search for a counterexample that the conjecture conj.strict_sign_any_counts ran
is gone: the sign condition is now proven for every count vector (steps 4-5), and step 6 decides
the stronger -G_M[i, j] >= F_k > 0 on interval enclosures per instance; a float64 search cannot
add to that. tests/test_any_counts.py checks step 6 on Hypothesis count vectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import sympy

from derivations import any_counts as ac
from seli_exact import factorize, from_counts, sel_svd, seli_geometry, simplex_gram
from seli_exact.verdict import Status, Verdict

from .. import any_counts_steps as steps
from .. import candidates as cand
from .. import certificate, tolerances
from ..cache import memo
from ..evidence import failed_row, undecided_row, verdict
from ..instances import Instance, count_instances, small_instances
from ..lapack import dense_polar, reference
from ..sign_cases import CertCase, cert_case, cert_rows
from . import (
    cert_complementary_slackness,
    cert_dual_feasible,
    cert_duality_gap,
    relax_optimum,
    relax_tight,
    thm1,
)

ID = "thm1.any_counts"
REFERENCE = "beyond the paper: Theorem 1 for every count vector (Sec. 3.3 without STEP)"
STATEMENT = (
    "For any class counts n_1..n_k >= 1 and d >= k-1, Theorem 1 (i)-(iii) holds and p* = "
    "||Zhat||_*: G_M = L^{1/2} with L = (P D P)^+, offdiag(G_M) <= -F_k(n_i, n_j) < 0 < diag(G_M), "
    "so the sign condition of Sec. 3.3 and the rest of its argument hold without STEP"
)
PROFILES = ("quick", "thorough")
ORDER = 140
ROUTES = ("structured_svd", "lapack", "ufsvm", "local_search", "certificate", "integral",
          "dense_geometry")

# the parts, in the order of the proof: key -> statement
PARTS = {
    "step1": "Zhat Zhat^T = P D P",
    "step2": "L = diag(d) - d d^T/s is the Moore-Penrose inverse of P D P",
    "step3": "G_M = V Lam^{-1} V^T = L^{1/2}",
    "step4": "(L + tI)^{-1} = diag(1/(d + t)) + u u^T/(t sigma(t)), sigma(t) > 0",
    "step5": "G_M[i, j] = -(1/pi) int u_i u_j / (sqrt(t) sigma) dt < 0 < G_M[i, i]; G_W likewise",
    "step6": "-G_M[i, j] >= F_k(n_i, n_j) > 1/(sqrt(k(k-1)) (sqrt n_i + sqrt n_j)), best possible",
    "sign": "B_hat * Zhat^T > 0 on each instance (interval proof; float64 and dense-SVD margins)",
    "routes": "the secular, dense and integral routes give the same geometry",
    "records": "`seli latex`'s any-counts formulas (L, sigma, the resolvent, the integrals of "
               "G_M and G_W, p*, the slack bounds) equal the quantities they name",
    "step7.dual_feasible": "(a)-(b) B_hat = U V^T: ||B_hat||_2 = 1, B_hat 1 = 0, row i = G_M[y_i, :]",
    "step7.duality_gap": "(c) tr(Zhat B_hat) = ||Zhat||_*: zero duality gap",
    "step7.complementary_slackness": "(d) every multiplier -B_hat[i, c] > 0: every margin of (5) active",
    "step7.uniqueness": "(d) (5) solved independently has minimizer Zhat and value ||Zhat||_*",
    "step7.tightness": "(e) for d >= k-1, (2) attains ||Zhat||_* and nothing feasible does better",
    "theorem": "Theorem 1 (i)-(iii) and p* = ||Zhat||_* = ||W||_F^2 = ||H||_F^2 at minimizers of (2)",
}
STEP_PARTS = ("step1", "step2", "step3", "step4", "step5", "step6", "routes", "records")
# the parts judged by an existing claim's judge, by the type of their cases
MODULE_PARTS = {
    "step7.dual_feasible": cert_dual_feasible,
    "step7.duality_gap": cert_duality_gap,
    "step7.complementary_slackness": cert_complementary_slackness,
    "step7.uniqueness": relax_optimum,
    "step7.tightness": relax_tight,
    "theorem": thm1,
}
QUICK_KS = (2, 3, 4, 5)


@dataclass(frozen=True, eq=False)
class StepCase:
    """One step's verification from proofs_check.any_counts_steps; its rows are judged again."""

    part: str  # one of STEP_PARTS
    verdict: Verdict  # claim_id f"{ID}.{part}"


Case = (StepCase | CertCase | cert_dual_feasible.FeasibilityCase | cert_dual_feasible.RowCase
        | cert_duality_gap.Case | cert_complementary_slackness.Case | relax_optimum.Case
        | relax_tight.FactorCase | relax_tight.RunsCase | thm1.Case)


def part_of(case) -> str:
    """The part a case belongs to: StepCase says it; every other case by its type."""
    if isinstance(case, StepCase):
        if case.part not in STEP_PARTS:
            raise ValueError(f"StepCase.part must be one of {STEP_PARTS}, not {case.part!r}")
        return case.part
    if isinstance(case, CertCase):
        return "sign"
    for key, module in MODULE_PARTS.items():
        kinds = getattr(module.Case, "__args__", (module.Case,))
        if isinstance(case, kinds):
            return key
    raise TypeError(f"{ID}: no part judges a {type(case).__name__}")


# ------------------------------------------------------------------------------- the cases
def arbitrary_instances(profile: str) -> list[Instance]:
    """The catalogue's non-STEP count vectors (three and more distinct counts, a long tail)."""
    return count_instances(profile)


def small_arbitrary(profile: str) -> list[Instance]:
    """Non-STEP instances small enough for local search on (2)."""
    return [i for i in small_instances(profile) if i.counts.model != "step"]


def step_cases(profile: str) -> list[StepCase]:
    ks = QUICK_KS if profile == "quick" else steps.KS
    number = 2 if profile == "quick" else 6
    inst = steps.default_instances(number)
    few = inst[: 2 + number // 2]
    return [
        StepCase("step1", steps.step1_gram(ks)),
        StepCase("step2", steps.step2_pseudoinverse(ks)),
        StepCase("step3", steps.step3_square_root(few)),
        StepCase("step4", steps.step4_resolvent(ks)),
        StepCase("step5", steps.step5_integral(few)),
        StepCase("step6", steps.step6_slack(inst)),
        StepCase("routes", steps.routes_agree(few)),
        StepCase("records", steps.records_agree()),
    ]


def section33_cases(profile: str) -> list:
    """The sign condition, step 7 and the theorem on the non-STEP instances."""
    arbitrary, small = arbitrary_instances(profile), small_arbitrary(profile)
    out: list = [cert_case(i.name, i.counts) for i in arbitrary]
    for i in arbitrary:
        out += cert_dual_feasible.instance_cases(i)
        out += cert_duality_gap.instance_cases(i)
        out += cert_complementary_slackness.instance_cases(i)
        out.append(relax_optimum.admm_case(i))
        out += relax_tight.factor_cases(i)
    for i in small:
        out += relax_tight.runs_cases(i, profile)
    found = (cand.factorizations(arbitrary) + cand.local_solutions(small, profile)
             + cand.relaxation_solutions(arbitrary))
    out += [thm1.case_of(c) for c in found]
    return out


def cases(profile: str) -> list:
    return step_cases(profile) + section33_cases(profile)


# ------------------------------------------------------------------------------- the judge
def _mirror(v: Verdict) -> dict | None:
    """A row standing for a step verdict's own status where its rows do not show it."""
    if v.status is Status.REFUTED:
        return failed_row("the step's verdict", "refuted by the step's own check")
    if v.status is Status.UNDECIDED:
        return undecided_row("the step's verdict", "undecided by the step's own check")
    if v.status is Status.ERROR:
        return undecided_row("the step's verdict",
                             f"the step's check failed: {v.evidence.get('exception', '?')}")
    return None


def _step_verdict(part: str, group: list[StepCase]) -> Verdict:
    """A step judged again from the rows of its verdicts (verified only if every row is)."""
    rows = []
    want = f"{ID}.{part}"
    for case in group:
        v = case.verdict
        if v.claim_id != want:
            rows.append(failed_row(f"{v.claim_id}", f"evidence of another step filed as {want}"))
            continue
        own = list(v.evidence.get("instances", []))
        rows += own
        judged = verdict(want, own) if own else None
        if judged is None or judged.status is Status.VERIFIED:
            mirror = _mirror(v)
            if mirror is not None:
                rows.append(mirror)
    return verdict(want, rows, kind="residual")


def part_verdict(part: str, group: list) -> Verdict:
    """One part's verdict from its cases (a non-empty list)."""
    if part in STEP_PARTS:
        return _step_verdict(part, group)
    if part == "sign":
        rows = [row for case in group for row in cert_rows(case)]
        return verdict(f"{ID}.sign", rows, kind="margin")
    v = MODULE_PARTS[part].judge(group)
    return Verdict(f"{ID}.{part}", v.status, v.instances, v.worst, v.worst_kind, v.evidence)


def judge(cases: list) -> Verdict:
    groups: dict[str, list] = {key: [] for key in PARTS}
    for case in cases:
        groups[part_of(case)].append(case)
    rows, listed = [], []
    for key, statement in PARTS.items():
        if not groups[key]:
            rows.append(undecided_row(f"{key}: not checked", "no case for this step"))
            listed.append({"step": f"{ID}.{key}", "statement": statement, "status": "not checked"})
            continue
        v = part_verdict(key, groups[key])
        part_rows = v.evidence.get("instances", [])
        rows += [{**row, "instance": f"{key}: {row['instance']}"} for row in part_rows]
        if not part_rows:  # an empty verdict (ERROR) decides nothing
            rows.append(undecided_row(f"{key}: no evidence", v.evidence.get("exception", "no rows")))
        listed.append({"step": f"{ID}.{key}", "statement": statement, "status": v.status.value,
                       "instances": v.instances, "worst": v.worst, "worst_kind": v.worst_kind})
    return verdict(ID, rows, kind="residual", extra={
        "steps": listed, "proof": "derivations/any_counts.py, module doc (steps 1-7)"})


# ------------------------------------------------------------------------------- planted inputs
MIXED = from_counts([9, 4, 4, 4, 2])  # three distinct counts, one shared by three classes
TIGHT = from_counts([10**6, 10**6, 1, 1, 1, 1])  # step 6's bound nearly attained (ratio 1 + 1e-6)
WRONG_CONSTANT = 2 / sympy.pi


def _mixed() -> Instance:
    return Instance("mixed5", MIXED, "three distinct counts")


def _factor_candidate() -> cand.Candidate:
    W, M = factorize(sel_svd(MIXED), MIXED.k, seed=1)
    return cand.Candidate("mixed5 d=k factorization", MIXED, W, M[:, MIXED.labels()],
                          "factorization")


def _not_P_D_P(P, D):
    return P.matmul(D) if isinstance(P, ac.ClassMatrix) else P @ D


def _wrong_L(m):  # s = sum_c 1/n_c replaced by n = sum_c n_c
    d = sympy.Matrix([1 / v for v in m["counts"]])
    return sympy.diag(*d) - d * d.T / sum(m["counts"])


def _flipped_resolvent(m):
    u = m["u"]
    return sympy.diag(*[v / (1 + ac.t * v) for v in m["counts"]]) - u * u.T / (ac.t * m["sigma"])


def _integral_nudged(counts, ar, route):
    """The integral route's G_M off by a relative 10^-30 at 50 digits (invisible in float64)."""
    g = seli_geometry(counts, ar, route=route)
    if route != "integral" or g.M_gram.dtype != object:
        return g
    return replace(g, M_gram=g.M_gram * ar.number(1 + sympy.Rational(1, 10**30)))


def _altered_records(name: str, edit) -> list[dict]:
    """The exported any-counts records with record `name`'s sympy text edited (it must change)."""
    out = []
    for r in steps.exported_records():
        if r["name"] == name:
            text = edit(r["sympy"])
            if text == r["sympy"]:
                raise ValueError(f"the planted edit of {name} changes nothing in {text!r}")
            r = {**r, "sympy": text}
        out.append(r)
    return out


@memo
def _planted() -> dict:
    uu = 1 / (1 + ac.t * ac.x)
    G = seli_geometry(MIXED).M_gram
    swapped = G[[0, 2, 1, 3, 4]]  # the rows of two classes of count 4
    good_cs = cert_complementary_slackness.Case(
        "mixed5 at Zhat", MIXED, simplex_gram(MIXED.k), "Zhat", True, G, dense_polar(MIXED))
    admm = relax_optimum.admm_case(_mixed())
    factor = relax_tight.factor_cases(_mixed())[1]
    theorem = thm1.case_of(_factor_candidate())
    moved = theorem.candidate.H.copy()
    moved[:, 0] *= 1.05
    flipped = certificate.sign_certificate(
        MIXED, digits=tolerances.DIGITS, transform=lambda kind, x: -x if kind == "off" else x)
    sign = cert_case("mixed5", MIXED)
    return {
        "step 1: Zhat Zhat^T claimed = P D": [StepCase("step1", steps.step1_gram(
            (3,), claimed=_not_P_D_P))],
        "step 2: L with s = sum 1/n_c replaced by n": [StepCase("step2", steps.step2_pseudoinverse(
            (3,), L=_wrong_L, L_general=ac.ClassMatrix(1 / ac.x, ((-1 / ac.k, 1 / ac.x, 1 / ac.x),))))],
        "step 3: G_M := L, the pseudo-inverse instead of its square root": [StepCase(
            "step3", steps.step3_square_root([MIXED], G_M=steps.L_matrix))],
        "step 4: the resolvent's rank-one term with its sign flipped": [StepCase(
            "step4", steps.step4_resolvent((3,), resolvent=_flipped_resolvent,
                                           resolvent_general=ac.ClassMatrix(
                                               ac.x / (1 + ac.t * ac.x),
                                               ((-1 / (ac.t * ac.SIGMA), uu, uu),))))],
        "step 5: 2/pi in front of the integrals": [StepCase(
            "step5", steps.step5_integral([MIXED], constant=WRONG_CONSTANT))],
        "step 6: F_k 0.1% too strong": [StepCase("step6", steps.step6_slack(
            [MIXED], symbolic=False, bound=lambda k, a, b: ac.slack_bound(k, a, b) * 1.001))],
        "step 6: F_k 0.1% too weak (true, not the best bound)": [StepCase("step6", steps.step6_slack(
            [MIXED], symbolic=False, bound=lambda k, a, b: ac.slack_bound(k, a, b) / 1.001))],
        "step 6: the simple bound's constant sqrt(k(k-1)) replaced by k - 1": [StepCase(
            "step6", steps.step6_slack([], symbolic=False, simple=lambda k, a, b: (
                ac.simple_slack_bound(k, a, b) * math.sqrt(k / (k - 1)))))],
        "step 6: the simple bound 0.1% too weak (true, not F_k's infimum)": [StepCase(
            "step6", steps.step6_slack([], symbolic=False, tightness=False, simple=lambda k, a, b: (
                ac.simple_slack_bound(k, a, b) / 1.001)))],
        "step 6: F_k reported as the simple bound (not of the form c/(sqrt n_i + sqrt n_j))": [
            StepCase("step6", steps.step6_slack([MIXED], symbolic=False, tightness=False,
                                                simple=ac.slack_bound))],
        "step 6: the first bound with k - 1 for k": [StepCase(
            "step6", steps.step6_slack([], symbolic=False, tightness=False, one_over_k=lambda k, a, b: (
                steps.one_over_k_bound(k, a, b) * k / (k - 1))))],
        "records: G_M's off-diagonal integral exported with 2/pi for 1/pi": [StepCase(
            "records", steps.records_agree(_altered_records(
                "any_G_M_off", lambda text: text[: -len("/pi")] + "*2/pi")))],
        "records: G_W's off-diagonal integral exported without its 1/k": [StepCase(
            "records", steps.records_agree(_altered_records(
                "any_G_W_off", lambda text: text.replace("/(pi*k)", "/pi"))))],
        "records: the simple slack bound exported with k - 1 for sqrt(k (k - 1))": [StepCase(
            "records", steps.records_agree(_altered_records(
                "any_slack_bound_simple", lambda text: text.replace("sqrt(k)*sqrt(k - 1)", "(k - 1)"))))],
        "records: a formula no judge knows": [StepCase("records", steps.records_agree(
            steps.exported_records() + [{"name": "any_new", "sympy": "k", "latex": "k",
                                         "description": "", "reference": ""}]))],
        "routes: the integral route's G_M off by 1e-30 at 50 digits": [StepCase(
            "routes", steps.routes_agree([MIXED], geometry=_integral_nudged))],
        "a step's evidence filed under another step": [StepCase(
            "step3", steps.step1_gram((2,), general=False, samples=()))],
        "sign: G_M with flipped off-diagonal signs": [replace(sign, certificate=flipped)],
        "step 7 (a)-(b): 1.01 B_hat (spectral norm 1.01)": [
            cert_dual_feasible.FeasibilityCase("1.01 B", MIXED, 1.01 * G, "float64")],
        "step 7 (a)-(b): rows of two classes with equal counts swapped": [
            cert_dual_feasible.RowCase("swapped", MIXED, swapped, dense_polar(MIXED))],
        "step 7 (c): 0.99 B_hat": [cert_duality_gap.Case(
            "0.99 B", MIXED, 0.99 * G, reference(MIXED).nuclear_norm, "dense float64")],
        "step 7 (d): margins 1.1 where the multipliers are positive": [
            replace(good_cs, Z_class=1.1 * good_cs.Z_class)],
        "step 7 (d): a minimizer of (5) 1e-3 off Zhat": [replace(admm, Z=admm.Z + 1e-3)],
        "step 7 (e): a factorization with 1.1 W": [replace(factor, W=1.1 * factor.W)],
        "theorem: unbalanced scaling 1.01 W, H / 1.01": [replace(theorem, candidate=replace(
            theorem.candidate, W=1.01 * theorem.candidate.W, H=theorem.candidate.H / 1.01))],
        "theorem: one embedding moved by 5%": [
            replace(theorem, candidate=replace(theorem.candidate, H=moved))],
    }


def planted() -> dict[str, list]:
    return dict(_planted())


@memo
def _undecided() -> dict:
    trig = sympy.sin(ac.k) ** 2 + sympy.cos(ac.k) ** 2  # 1, but not by rational arithmetic
    far = from_counts([1, 1, 10**13])  # cond 1e13: beyond float64's resolution
    stuck = certificate.sign_certificate(MIXED, digits=tolerances.DIGITS, candidates=[3.0, 5.0])
    admm = relax_optimum.admm_case(_mixed())
    theorem = thm1.case_of(_factor_candidate())
    G = seli_geometry(MIXED).M_gram
    cs = cert_complementary_slackness.Case(
        "mixed5 at ADMM's solution", MIXED, 1.1 * simplex_gram(MIXED.k), "ADMM", False, G, None)
    return {
        "SymPy identity (step 2): L (sin^2 k + cos^2 k), true but not cancelled": [StepCase(
            "step2", steps.step2_pseudoinverse((), L_general=ac.ClassMatrix.L().scale(trig)))],
        "50-digit comparison (step 3) made at 7 digits": [StepCase(
            "step3", steps.step3_square_root([MIXED], digits=7))],
        "route comparison made at 7 digits": [StepCase(
            "routes", steps.routes_agree([MIXED], digits=7))],
        "the exported formulas compared at 7 digits": [StepCase(
            "records", steps.records_agree(digits=7))],
        "interval decision (step 6): enclosures too wide at 5 digits": [StepCase(
            "step6", steps.step6_slack([TIGHT], digits=5, symbolic=False, tightness=False))],
        "sign: a certificate whose enclosure failed": [
            replace(cert_case("mixed5", MIXED), certificate=stuck, dense_margin=None)],
        "step 7 (a)-(b): an instance beyond float64's resolution": [
            cert_dual_feasible.FeasibilityCase("cond 1e13", far, seli_geometry(far).M_gram, "float64")],
        "step 7 (c): an instance beyond float64's resolution": [cert_duality_gap.Case(
            "cond 1e13", far, seli_geometry(far).M_gram, reference(far).nuclear_norm, "dense float64")],
        "step 7 (d): ADMM that did not converge": [cs],
        "step 7 (d) uniqueness: ADMM that did not converge": [
            replace(admm, Z=admm.Z + 1e-3, converged=False)],
        "step 7 (e): local search whose runs all failed": [relax_tight.RunsCase(
            "failed", MIXED, ((1.2 * theorem.candidate.W, theorem.candidate.H, False),),
            reference(MIXED).nuclear_norm)],
        "theorem: local search that did not converge": [replace(theorem, candidate=replace(
            theorem.candidate, W=1.01 * theorem.candidate.W, source="local search", converged=False))],
    }


def undecided() -> dict[str, list]:
    return dict(_undecided())

