"""Sec. 4 and Fig 3: every branch of the solver of (7) returns optimal points that it reports
honestly, and Fig 3's numbers are their definitions.

The claims of Sec. 4 (prop1, prop2, thm2, sec4.4, margin_positive, no_minority_collapse) read
their points of the regularization path off seli_exact.regpath. This claim judges the solver
itself, branch by branch, and the figure built on it.

Branches (seli_exact/regpath/solver.py: "newton" on the full-rank problem, "factored-newton"
where the solution loses rank, "prox-gradient" (the fallback), "zero" for lam >= sigma_max and
where the rank-deficient route finds rank 0), on instances where each is the one the module doc
says is taken: full rank, lam = 1e-40 (losses ~ 1e-39), the rank-deficient points of the BLAS
kernel tests (two or three classes of one count below lam = sqrt(n_min), one at the degenerate
lam = sqrt(n_min) exactly), lam above sigma_max and a relative 1e-9 below it. The fallback is
never the answer on any instance tried (it is what rescues a factored Newton that fails), so it
is run alone from the auto route's point, as the route runs it from its best point, and for
PROGRESS_STEPS steps from the solution at 1.01 lam, where it must lower the objective (its
restarts reject any step that does not, so a broken step would leave it where it started) and
report its objective, KKT residual and gap honestly; factored Newton is also run alone at a
full-rank point. For every point:

* the branch that produced it is the expected one, and its rank is the rank of Z = M Y
  (numpy's SVD of the dense (k, n) matrix, proofs_check.path_reference);
* optimal: the certificate gate and the KKT conditions of (7) on the full problem
  (proofs_check.path_points, proofs_check.kkt7);
* its reported KKT residual equals the independent one (kkt7's, times sqrt(rank): kkt7 divides
  by ||U_r V_r^T||_F), at its own lam and at lam / 2, where it is not optimal and every term of
  the residual is O(1);
* its reported objective equals L(Z) + lam ||Z||_* evaluated on the dense matrix, and its dual
  value (objective minus certified gap) is no larger than the dense objective of any point of
  any branch at the same (counts, lam) (weak duality: a certificate that overclaims fails).

Fig 3 (seli_exact.regpath.rows.fig3_rows, the rows of fig3.csv): every column of every row is
judged against its definition on the dense matrices (proofs_check.path_reference): the
objective, the certificate (gap, relative gap, `certified` = relative gap <= GAP_TARGET), the
distances to SELI (the dense route, proofs_check.lapack) and to ETF of (8)'s classifiers, class
means and logits, the minimum and normalized margins, the direction error
||Z/||Z||_* - Zhat/||Zhat||_*||_F (with Zhat the dense SEL matrix: its D^{1/2} weighting is not
optional), the branch, and the UF-SVM reference (objective against ||Zhat||_* of the dense SEL
matrix, its gap, and its direction error); a column the judge does not know refutes the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, from_counts, step
from seli_exact.regpath import solver as regpath_solver
from seli_exact.regpath.rows import COLUMNS, compute_path, fig3_counts, fig3_rows, ufsvm_reference
from seli_exact.solvers import ufsvm
from seli_exact.verdict import Verdict

from .. import kkt7, tolerances
from .. import path_reference as ref
from ..cache import memo
from ..evidence import failed_row, margin_row, residual_row, undecided_row, verdict
from ..lapack import reference
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "sec4.path"
REFERENCE = "Sec. 4, problem (7) and its path; Fig 3"
STATEMENT = ("every branch of the solver of (7) (Newton, factored Newton at rank-deficient points, "
             "the proximal-gradient fallback, zero) returns points that satisfy (7)'s KKT "
             "conditions on the full problem, with their rank, objective, KKT residual and "
             "certificate as reported; Fig 3's rows equal their definitions on the dense matrices")
PROFILES = ("quick", "thorough")
ORDER = 145
ROUTES = ("regpath", "structured_svd", "lapack", "ufsvm")
BRANCHES = tuple(m for m in regpath_solver.METHODS if m != "auto")


@dataclass(frozen=True, eq=False)
class BranchCase:
    name: str
    point: PathPoint  # the solver's point, with the RegPathPoint it reported (point.solution)
    expected: str  # the branch that must have produced it
    expected_rank: int
    probe_lam: float  # lam / 2, where the point is not optimal
    probe_kkt: float  # seli_exact.regpath.kkt_residual(M, counts, probe_lam)


@dataclass(frozen=True, eq=False)
class Fig3Case:
    R: object
    lam: float
    counts: ClassCounts
    row: dict  # fig3_rows' row for (R, lam)
    M: np.ndarray  # (k, k) the point's class matrix, from compute_path
    ufsvm_Z: np.ndarray  # (k, k) solve_ufsvm's Z_class (the UF-SVM reference)
    ufsvm_direction_error: float  # fig3.ufsvm_reference's direction error of it


@dataclass(frozen=True, eq=False)
class ProgressCase:
    """The fallback run alone for PROGRESS_STEPS steps from the solution of (7) at 1.01 lam,
    which is not optimal at lam: where it ends is judged, certified or not."""
    name: str
    counts: ClassCounts
    lam: float
    start: np.ndarray  # (k, k) the solution at 1.01 lam
    point: object  # the RegPathPoint the branch returned
    best: float  # the certified objective of the auto route at lam (an upper bound on the optimum)


Case = BranchCase | Fig3Case | ProgressCase
PROGRESS_STEPS = 200


# ------------------------------------------------------------------------------ the cases
def _sigma_max(counts: ClassCounts) -> float:
    return float(np.linalg.svd(ref.sel_dense(counts), compute_uv=False)[0])


@memo
def branch_point(counts: ClassCounts, lam: float, method: str) -> PathPoint:
    """The solver's point with `method` forced; the fallback starts from the auto route's point
    (as the route runs it from its best point), every other branch from its own start."""
    start = path_point(counts, lam).M if method == "prox-gradient" else None
    p = regpath_solver.solve_regpath_point(counts, lam, start=start, method=method)
    return PathPoint(counts, float(lam), p.M, float(p.relative_gap), p)


def branch_case(name: str, counts: ClassCounts, lam: float, expected: str, rank: int,
                method: str = "auto") -> BranchCase:
    p = path_point(counts, lam) if method == "auto" else branch_point(counts, lam, method)
    probe = lam / 2
    return BranchCase(name, p, expected, rank, probe,
                      regpath_solver.kkt_residual(p.M, counts, probe))


FIG1 = step(4, 10, "1/2", 5)  # (50, 50, 5, 5), shared with prop1's path points
MIXED = from_counts([20, 9, 4, 2, 1])  # five distinct counts


def _branch_specs(profile: str) -> list[tuple]:
    """(name, counts, lam, expected branch, expected rank, method run)."""
    top = _sigma_max(FIG1)  # sqrt(50)
    out = [
        ("full rank", FIG1, 1e-2, "newton", 3, "auto"),
        ("full rank, losses ~1e-39", FIG1, 1e-40, "newton", 3, "auto"),
        ("two minorities merged", from_counts([10, 10, 1, 1]), 1.0, "factored-newton", 2, "auto"),
        ("rank 1", from_counts([10, 10, 1, 1]), 3.0, "factored-newton", 1, "auto"),
        ("three minorities merged", from_counts([100, 100, 100, 1, 1, 1]), 3.0,
         "factored-newton", 3, "auto"),
        ("one majority, rank 1", from_counts([20, 1, 1, 1]), 1.0, "factored-newton", 1, "auto"),
        ("cond 1000", from_counts([1000, 1000, 1, 1]), 1.0, "factored-newton", 2, "auto"),
        ("degenerate lam = sqrt(n_min)", FIG1, math.sqrt(5), "factored-newton", 2, "auto"),
        ("lam above sigma_max", FIG1, 8.0, "zero", 0, "auto"),
        ("lam 1e-9 below sigma_max", FIG1, top * (1 - 1e-9), "zero", 0, "auto"),
        ("fallback alone", from_counts([10, 10, 1, 1]), 1.0, "prox-gradient", 2, "prox-gradient"),
        ("fallback alone, full rank", FIG1, 1e-2, "prox-gradient", 3, "prox-gradient"),
        ("factored Newton alone, full rank", FIG1, 1e-2, "factored-newton", 3, "factored-newton"),
        ("five distinct counts", MIXED, 1.0, "newton", 4, "auto"),
    ]
    if profile == "thorough":
        out += [
            ("five distinct counts, rank 2", MIXED, 2.0, "factored-newton", 2, "auto"),
            ("five distinct counts, rank 1", MIXED, 3.0, "factored-newton", 1, "auto"),
            ("five distinct counts, fallback alone", MIXED, 2.0, "prox-gradient", 2,
             "prox-gradient"),
            ("rank 1 above sqrt(n_min)", FIG1, 7.0, "factored-newton", 1, "auto"),
            ("lam 1e-12 below sigma_max", FIG1, top * (1 - 1e-12), "zero", 0, "auto"),
            ("three classes, lam 1e-100", from_counts([3, 2, 1]), 1e-100, "newton", 2, "auto"),
        ]
    return out


def _fig3_grid(profile: str) -> tuple[tuple, tuple]:
    """(Rs, lambdas): lam = 100 is above every sigma_max (zero); at R = 100 (counts 200, 200, 2,
    2) lam = 3 lies between sqrt(n_min) and sigma_max (rank-deficient)."""
    if profile == "quick":
        return (1, 10, 100), (100.0, 3.0, 1e-3)
    return (1, 2, 5, 10, 100), (100.0, 3.0, 1.0, 1e-1, 1e-2, 1e-4, 1e-6, 1e-8)


def fig3_cases(Rs, lambdas) -> list[Fig3Case]:
    rows = fig3_rows(Rs, lambdas)
    out = []
    for R in Rs:
        counts = fig3_counts(R)
        points = compute_path(counts, lambdas)
        Z = ufsvm.solve_ufsvm(counts).Z_class  # looked up at call time (the route tests)
        dir_err = ufsvm_reference(counts)["direction_error"]
        for lam, (_, point, _) in zip(lambdas, points):
            row = next((r for r in rows if r["R"] == R and r["lambda"] == lam), {})
            out.append(Fig3Case(R, float(lam), counts, dict(row), point.M, Z, dir_err))
    return out


def progress_case(name: str, counts: ClassCounts, lam: float) -> ProgressCase:
    start = path_point(counts, 1.01 * lam).M
    p = regpath_solver.solve_regpath_point(counts, lam, start=start, method="prox-gradient",
                                           steps=PROGRESS_STEPS)
    best = float(path_point(counts, lam).solution.objective)
    return ProgressCase(name, counts, float(lam), start, p, best)


def cases(profile: str) -> list[Case]:
    out: list[Case] = [branch_case(*spec) for spec in _branch_specs(profile)]
    out += [progress_case("fallback from the solution of 1.01 lam", from_counts([10, 10, 1, 1]),
                          1.0),
            progress_case("fallback from the solution of 1.01 lam, full rank", FIG1, 1e-2)]
    return out + fig3_cases(*_fig3_grid(profile))


# ------------------------------------------------------------------------------ the judge
def _scaled_kkt(M, counts: ClassCounts, lam: float) -> float:
    """kkt7's residual without its division by ||U_r V_r^T||_F = sqrt(r) (r >= 1): the scale
    seli_exact.regpath.kkt_residual reports."""
    return kkt7.residual(M, counts, lam) * math.sqrt(max(ref.rank(M, counts), 1))


def _branch_rows(case: BranchCase) -> list[dict]:
    p, sol = case.point, case.point.solution
    counts, name = p.counts, f"{case.name}, {p.name}"
    rows = [residual_row(f"{name}: branch {sol.method}", 0.0 if sol.method == case.expected
                         else math.inf, 0.0, expected=case.expected, reported=sol.method)]
    dense_rank = ref.rank(p.M, counts)
    rows.append(residual_row(f"{name}: rank", 0.0 if sol.rank == dense_rank == case.expected_rank
                             else math.inf, 0.0, reported=sol.rank, dense=dense_rank,
                             expected=case.expected_rank))
    rows += point_rows(p)
    if not certified(p):
        return rows
    tol = tolerances.kkt7(counts)
    # at a certified point both residuals are rounding, each within tol
    own = _scaled_kkt(p.M, counts, p.lam)
    rows.append(residual_row(f"{name}: reported KKT residual", abs(sol.kkt_residual - own), tol,
                             reported=sol.kkt_residual, independent=own))
    probe = _scaled_kkt(p.M, counts, case.probe_lam)
    rows.append(residual_row(f"{name}: reported KKT residual at lam / 2 (not optimal)",
                             abs(case.probe_kkt - probe) / max(1.0, probe), tol,
                             reported=case.probe_kkt, independent=probe))
    dense = ref.objective(p.M, counts, p.lam)
    # the dense objective sums n per-example losses and LAPACK's singular values of Z
    rows.append(residual_row(f"{name}: reported objective", abs(sol.objective - dense) / abs(dense),
                             tolerances.float64(counts.n), reported=sol.objective, dense=dense))
    return rows


def _weak_duality_rows(group: list[BranchCase]) -> list[dict]:
    """Every point's dual value is at most every point's dense objective at the same problem."""
    rows = []
    duals = [(c.name, c.point.solution.dual_objective) for c in group if certified(c.point)]
    for c in group:
        p = c.point
        dense = ref.objective(p.M, p.counts, p.lam)
        for name, dual in duals:
            excess = (float(dual) - dense) / abs(dense)
            rows.append(residual_row(f"{p.name}: dual value of {name} <= objective of {c.name}",
                                     max(excess, 0.0), tolerances.float64(p.counts.n),
                                     dual=float(dual), objective=dense))
    return rows


def _close(got, want) -> float:
    """|got - want|; two NaNs (an undefined value on both sides) agree, one NaN does not."""
    got, want = float(got), float(want)
    if math.isnan(got) and math.isnan(want):
        return 0.0
    return abs(got - want) if not (math.isnan(got) or math.isnan(want)) else math.inf


def fig3_expected(case: Fig3Case) -> dict:
    """Every column of a Fig 3 row from its definition (module doc), except the certificate's
    own numbers (judged for consistency in _fig3_rows)."""
    counts, M, lam = case.counts, case.M, case.lam
    zero = not np.any(M != 0)
    nan = math.nan
    dense = reference(counts)  # the dense SELI route (float64)
    dist = (ref.distances(M, counts, np.asarray(dense.G_W, float), np.asarray(dense.G_M, float))
            if not zero else {g: {o: nan for o in ("classifiers", "embeddings", "logits")}
                              for g in ("seli", "etf")})
    out = {"R": case.R, "lambda": lam, "n": counts.n, "n_min": min(counts.counts),
           "objective": ref.objective(M, counts, lam),
           "min_margin": nan if zero else ref.min_margin(M, counts),
           "normalized_margin": nan if zero else ref.normalized_margin(M, counts),
           "direction_error": nan if zero else ref.direction_error(M, counts),
           "ufsvm_objective": ref.nuclear_norm(ref.sel_dense(counts))}
    for g in ("seli", "etf"):
        for o in ("classifiers", "embeddings", "logits"):
            out[f"dist_{g}_{o}"] = dist[g][o]
    return out


# the columns judged against fig3_expected, with their tolerance (of the counts)
_VALUE_TOL = {
    "objective": lambda c: tolerances.float64(c.n),  # relative
    "min_margin": lambda c: tolerances.float64(c.k),  # relative to max(1, |margin|)
    "normalized_margin": tolerances.lapack, "direction_error": tolerances.lapack,
    **{f"dist_{g}_{o}": tolerances.lapack for g in ("seli", "etf")
       for o in ("classifiers", "embeddings", "logits")},
    "ufsvm_objective": lambda c: tolerances.admm(),  # relative: a value from solve_ufsvm
}
_EXACT = ("R", "lambda", "n", "n_min")
_CERTIFICATE = ("duality_gap", "relative_gap", "certified", "method", "ufsvm_duality_gap")


def _fig3_rows(case: Fig3Case) -> list[dict]:
    row, counts = case.row, case.counts
    name = f"Fig 3, R={case.R} lam={case.lam:g}"
    rows = []
    unknown = sorted(set(row) - set(_VALUE_TOL) - set(_EXACT) - set(_CERTIFICATE))
    missing = sorted(set(COLUMNS) - set(row))
    if unknown or missing or not row:
        rows.append(failed_row(name, f"columns not judged {unknown}, missing {missing}"))
        return rows
    want = fig3_expected(case)
    for key in _EXACT:
        rows.append(residual_row(f"{name}: {key}", 0.0 if row[key] == want[key] else math.inf, 0.0,
                                 reported=str(row[key]), expected=str(want[key])))
    rel = row["duality_gap"] / row["objective"] if row["objective"] else math.nan
    rows.append(residual_row(f"{name}: relative_gap = duality_gap / objective",
                             abs(row["relative_gap"] - rel) / max(abs(rel), tolerances.RTOL64),
                             tolerances.float64(1)))
    # a gap evaluated at 40 digits is never negative beyond that precision
    rows.append(residual_row(f"{name}: duality gap >= 0", max(0.0, -row["duality_gap"]),
                             tolerances.mp(40) * abs(row["objective"])))
    rows.append(residual_row(f"{name}: certified = relative gap <= GAP_TARGET",
                             0.0 if row["certified"] == bool(row["relative_gap"]
                                                             <= regpath_solver.GAP_TARGET)
                             else math.inf, 0.0, certified=row["certified"]))
    zero = not np.any(case.M != 0)
    ok_method = row["method"] in BRANCHES and (row["method"] == "zero") == zero
    rows.append(residual_row(f"{name}: method", 0.0 if ok_method else math.inf, 0.0,
                             method=row["method"]))
    obj_u = row["ufsvm_objective"]
    rows.append(residual_row(f"{name}: UF-SVM certified gap in [0, ADMM's stopping rule]",
                             max(0.0, -row["ufsvm_duality_gap"], row["ufsvm_duality_gap"]
                                 - tolerances.ADMM_STOP * max(abs(obj_u), 1.0)) / max(abs(obj_u), 1.0),
                             tolerances.float64(counts.k)))
    dir_u = ref.direction_error(case.ufsvm_Z, counts)
    rows.append(residual_row(f"{name}: UF-SVM reference's direction error",
                             _close(case.ufsvm_direction_error, dir_u),
                             tolerances.lapack(counts), reported=case.ufsvm_direction_error,
                             dense=dir_u))
    if not row["certified"] or not abs(row["relative_gap"]) <= tolerances.gap7():
        rows.append(undecided_row(name, f"certified relative gap {row['relative_gap']:.3g}"))
        return rows
    rows.append(residual_row(f"{name}: optimality of (7) (full-problem KKT)",
                             kkt7.residual(case.M, counts, case.lam), tolerances.kkt7(counts)))
    for key, tol_of in _VALUE_TOL.items():
        got, w = row[key], want[key]
        scale = (abs(w) if key in ("objective", "ufsvm_objective")
                 else max(1.0, abs(w)) if key == "min_margin" else 1.0)
        rows.append(residual_row(f"{name}: {key}", _close(got, w) / scale, tol_of(counts),
                                 reported=got, expected=w))
    return rows


def _progress_rows(case: ProgressCase) -> list[dict]:
    """The fallback's steps lower the objective of (7) (beyond rounding), and the point it stops
    at reports its objective, KKT residual and gap honestly: the objective and residual equal
    the dense ones, and the certified gap is at least how far the objective is above the auto
    route's certified one."""
    p, counts = case.point, case.counts
    name = f"{case.name}, {list(counts.counts)} lam={case.lam:g}"
    rounding = tolerances.float64(counts.n)  # a dense objective: n losses and LAPACK's SVD
    before = ref.objective(case.start, counts, case.lam)
    after = ref.objective(p.M, counts, case.lam)
    rows = [residual_row(f"{name}: branch", 0.0 if p.method == "prox-gradient" else math.inf, 0.0,
                         reported=p.method),
            margin_row(f"{name}: {PROGRESS_STEPS} steps lower the objective (relative drop)",
                       (before - after) / abs(before), rounding, before=before, after=after),
            residual_row(f"{name}: reported objective", abs(p.objective - after) / abs(after),
                         rounding, reported=p.objective, dense=after)]
    own = _scaled_kkt(p.M, counts, case.lam)
    rows.append(residual_row(f"{name}: reported KKT residual", abs(p.kkt_residual - own)
                             / max(1.0, own), tolerances.kkt7(counts), reported=p.kkt_residual,
                             independent=own))
    excess = (after - case.best) / abs(after)
    rows.append(residual_row(f"{name}: certified gap >= objective above the optimum",
                             max(0.0, excess - p.relative_gap), rounding,
                             gap=p.relative_gap, excess=excess))
    return rows


def judge(cases: list[Case]) -> Verdict:
    rows, groups = [], {}
    for case in cases:
        if isinstance(case, Fig3Case):
            rows += _fig3_rows(case)
            continue
        if isinstance(case, ProgressCase):
            rows += _progress_rows(case)
            continue
        rows += _branch_rows(case)
        groups.setdefault((case.point.counts, case.point.lam), []).append(case)
    for group in groups.values():
        rows += _weak_duality_rows(group)
    return verdict(ID, rows, kind="residual")


# ------------------------------------------------------------------------------ planted
def _unweighted_direction_error(M, counts) -> float:
    """Fig 3's direction error computed on the k x k class matrices, without the D^{1/2} that
    weights class c by its n_c examples."""
    P = np.eye(counts.k) - 1.0 / counts.k
    nz, nhat = (np.linalg.svd(A, compute_uv=False).sum() for A in (M, P))
    return float(np.linalg.norm(M / nz - P / nhat))


def planted() -> dict[str, list[Case]]:
    merged = branch_case("two minorities merged", from_counts([10, 10, 1, 1]), 1.0,
                         "factored-newton", 2)
    full = branch_case("full rank", FIG1, 1e-2, "newton", 3)
    sol = merged.point.solution
    other = path_point(merged.point.counts, 1.01)
    fig = fig3_cases((10,), (1e-2,))[0]
    rank_deficient = fig3_cases((100,), (3.0,))[0]
    progress = progress_case("fallback", FIG1, 1e-2)
    P = replace(merged.point, solution=replace(sol, method="prox-gradient"))
    return {
        "the rank-deficient point reported as the fallback's": [replace(merged, point=P)],
        "a rank-deficient point reported at full rank": [
            replace(merged, point=replace(merged.point, solution=replace(sol, rank=3)))],
        "the solution of lam = 1.01 reported for lam = 1": [
            replace(merged, point=replace(merged.point, M=other.M))],
        "a reported KKT residual of 0 where the point is not optimal (lam / 2)": [
            replace(merged, probe_kkt=0.0)],
        "a reported KKT residual 1% high at lam / 2": [
            replace(full, probe_kkt=1.01 * full.probe_kkt)],
        "a reported KKT residual of 1e-6 at the optimum": [
            replace(merged, point=replace(merged.point, solution=replace(sol, kkt_residual=1e-6)))],
        "an objective one part in a million high": [replace(merged, point=replace(
            merged.point, solution=replace(sol, objective=sol.objective * (1 + 1e-6))))],
        "a dual value above the optimum (a certificate that overclaims)": [replace(
            full, point=replace(full.point, solution=replace(
                full.point.solution, dual_objective=full.point.solution.objective * (1 + 1e-6))))],
        "Fig 3's direction error without its D^{1/2} weighting": [replace(fig, row={
            **fig.row, "direction_error": _unweighted_direction_error(fig.M, fig.counts)})],
        "Fig 3's min margin 1% high": [replace(fig, row={
            **fig.row, "min_margin": 1.01 * fig.row["min_margin"]})],
        "Fig 3's direction error at a rank-deficient point, unweighted": [replace(
            rank_deficient, row={**rank_deficient.row, "direction_error":
                                 _unweighted_direction_error(rank_deficient.M, rank_deficient.counts)})],
        "Fig 3's class-mean distance to SELI read as the classifiers'": [replace(fig, row={
            **fig.row, "dist_seli_embeddings": fig.row["dist_seli_classifiers"]})],
        "Fig 3's UF-SVM objective 1% off": [replace(fig, row={
            **fig.row, "ufsvm_objective": 1.01 * fig.row["ufsvm_objective"]})],
        "Fig 3's UF-SVM direction error taken on the class matrix": [replace(
            fig, ufsvm_direction_error=_unweighted_direction_error(fig.ufsvm_Z, fig.counts))],
        "a Fig 3 row flagged certified with a gap of 1e-6": [replace(fig, row={
            **fig.row, "relative_gap": 1e-6, "duality_gap": 1e-6 * fig.row["objective"]})],
        "a Fig 3 row with a column the judge does not know": [replace(fig, row={
            **fig.row, "margin_ratio": 1.0})],
        "a fallback that never moves (every step rejected)": [replace(
            progress, point=replace(progress.point, M=progress.start))],
        "a fallback point claiming a gap below its distance to the optimum": [replace(
            progress, point=replace(progress.point, relative_gap=0.0))],
    }


def undecided() -> dict[str, list[Case]]:
    merged = branch_case("two minorities merged", from_counts([10, 10, 1, 1]), 1.0,
                         "factored-newton", 2)
    fig = fig3_cases((10,), (1e-2,))[0]
    gap = 1e-6 * fig.row["objective"]
    return {
        "an uncertified branch point": [
            replace(merged, point=replace(merged.point, relative_gap=1e-3))],
        "an uncertified Fig 3 point": [replace(fig, row={
            **fig.row, "relative_gap": 1e-6, "duality_gap": gap, "certified": False})],
    }
