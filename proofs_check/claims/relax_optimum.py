"""Sec. 3.3, Eq. (5): the relaxation, solved independently, has optimal value ||Zhat||_* and
minimizer Zhat.

Solvers: ADMM on the k x k reduction of (5) (seli_exact.solvers.solve_ufsvm; its reduction uses
only convexity and the within-class symmetry, no SVD formula), and in the thorough profile
cvxpy/SCS on the full (k, n) problem with every column free. The judge reads the solver's point
only: it evaluates ||Z||_* itself and, for ADMM, the dual bound tr(Zhat B) of the solver's dual
point B after checking that B is dual feasible; the value must match ||Zhat||_* from routes that
share nothing with the solvers (the instance catalogue's known answers, else the dense route),
the bracket [bound, value] must be tight, and Z must be Zhat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, sel_matrix, simplex_gram, step
from seli_exact.verdict import Verdict

from .. import candidates as cand
from .. import tolerances
from ..evidence import residual_row, undecided_row, verdict
from ..instances import all_instances
from ..lapack import reference

ID = "relax.optimum"
REFERENCE = "Sec. 3.3, Eq. (5)"
STATEMENT = "The relaxation (5), solved independently, has optimal value ||Zhat||_* and minimizer Zhat"
PROFILES = ("quick", "thorough")
ORDER = 120
ROUTES = ("ufsvm", "lapack", "cvxpy")
SOLVERS = ("ADMM", "cvxpy/SCS")


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    counts: ClassCounts
    solver: str  # one of SOLVERS
    Z: np.ndarray  # (k, k) one column per class (ADMM) or (k, n) all columns (cvxpy)
    B_class: np.ndarray | None  # (k, k) ADMM's dual point of (6), per class; None for cvxpy
    converged: bool
    nuclear_norm: float  # ||Zhat||_* by a route independent of the solver
    nuclear_route: str  # where it comes from


def evaluate(case: Case) -> dict[str, float]:
    """The judge's own evaluation of the solver's point: value, dual bound, distance to Zhat."""
    counts, k = case.counts, case.counts.k
    Z = np.asarray(case.Z, dtype=float)
    if Z.shape == (k, k):
        w = np.sqrt(np.asarray(counts.counts, dtype=float))
        value = float(np.linalg.svd(Z * w[None, :], compute_uv=False).sum())  # ||Z_class Y||_*
        dist = float(np.abs(Z - simplex_gram(k)).max())
        margins = (np.diagonal(Z)[None, :] - Z)[~np.eye(k, dtype=bool)]
    else:
        value = float(np.linalg.svd(Z, compute_uv=False).sum())
        dist = float(np.abs(Z - sel_matrix(counts)).max()) if Z.shape == (k, counts.n) else math.inf
        y = counts.labels()
        margins = (Z[y, np.arange(counts.n)][None, :] - Z)[Z != Z[y, np.arange(counts.n)][None, :]]
    out = {"value": value, "distance to Zhat": dist,
           "infeasibility": max(0.0, 1.0 - float(np.min(margins)))}
    if case.B_class is not None:  # the bound counts only for a dual-feasible B (Eq. (6))
        B = np.asarray(case.B_class, dtype=float)
        n = np.asarray(counts.counts, dtype=float)
        BtB = (B.T * n[None, :]) @ B
        feasible = (np.linalg.eigvalsh(BtB).max() <= 1 + tolerances.admm()
                    and np.abs(B.sum(axis=1)).max() <= tolerances.admm()
                    and (B[~np.eye(k, dtype=bool)] <= tolerances.admm()).all())
        bound = float((n * (np.diagonal(B) - B.mean(axis=1))).sum())
        out["dual bound"] = bound if feasible else -math.inf
    return out


def residuals(case: Case) -> dict[str, float]:
    ev = evaluate(case)
    nuc = float(case.nuclear_norm)
    out = {"value vs ||Zhat||_*": abs(ev["value"] - nuc) / nuc,
           "distance to Zhat": ev["distance to Zhat"], "infeasibility": ev["infeasibility"]}
    if "dual bound" in ev:
        out["bound vs ||Zhat||_*"] = abs(ev["dual bound"] - nuc) / nuc
    return out


def tolerance(case: Case) -> float:
    return tolerances.admm() if case.solver == "ADMM" else tolerances.SCS


def _nuclear(inst) -> tuple[float, str]:
    if inst.nuclear_norm is not None:
        return inst.nuclear_norm, f"known answer ({inst.source})"
    return reference(inst.counts).nuclear_norm, "dense route"


def admm_case(inst) -> Case:
    """ADMM's solution of (5) for one instance, with ||Zhat||_* from a route independent of it.
    Any counts (thm1.any_counts uses it)."""
    r = cand.admm(inst.counts)
    nuc, route = _nuclear(inst)
    return Case(inst.name, inst.counts, "ADMM", r.Z_class, r.dual, r.converged, nuc, route)


def cases(profile: str) -> list[Case]:
    out = [admm_case(inst) for inst in all_instances(profile)]
    if profile == "thorough" and _cvxpy_available():
        from seli_exact.solvers import ufsvm

        for c in (step(4, 4, "1/2", 2), step(3, 2, "1/3", 3), step(2, 5, "1/2", 2)):
            full = ufsvm.solve_ufsvm_cvxpy(c)
            out.append(Case(str(list(c.counts)), c, "cvxpy/SCS", full.Z, None,
                            full.status.startswith("optimal"), reference(c).nuclear_norm, "dense route"))
    return out


def _cvxpy_available() -> bool:
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        return False
    return True


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        name = f"{case.name} ({case.solver}; ||Zhat||_* by {case.nuclear_route})"
        if not case.converged:
            rows.append(undecided_row(name, f"{case.solver} did not converge"))
            continue
        res = residuals(case)
        worst = max(res, key=res.get)
        rows.append(residual_row(name, res[worst], tolerance(case), worst_statement=worst,
                                 residuals=res))
    solvers = sorted({c.solver for c in cases})
    return verdict(ID, rows, kind="residual", extra={"solvers": solvers})


FIG1 = step(4, 10, "1/2", 5)


def _fig1() -> Case:
    from ..instances import step_instances

    inst = step_instances("quick")[0]
    r = cand.admm(inst.counts)
    return Case(inst.name, inst.counts, "ADMM", r.Z_class, r.dual, r.converged, *_nuclear(inst))


def planted() -> dict[str, list[Case]]:
    good = _fig1()
    Z = sel_matrix(FIG1)
    Z2 = Z.copy()
    Z2[:, 3] += 1e-3  # one example off Zhat; its class mean moves by only 1e-3 / 50
    nuc = good.nuclear_norm
    return {
        "a claimed optimum 0.1% off": [replace(good, nuclear_norm=1.001 * nuc)],
        "a minimizer 1e-3 off Zhat": [replace(good, Z=good.Z + 1e-3)],
        "a dual point that is not feasible (2 B)": [replace(good, B_class=2 * good.B_class)],
        "one of n columns off Zhat (full solution)": [
            Case("full", FIG1, "cvxpy/SCS", Z2, None, True, nuc, "known answer")],
    }


def undecided() -> dict[str, list[Case]]:
    good = _fig1()
    return {"ADMM that did not converge": [replace(good, Z=good.Z + 1e-3, converged=False)]}
