"""Theorem 2, Eq. (8): gradient descent on the UFM (1) with d >= k, from random starts, reaches
global minimizers whose Gram matrices (8) gives from the solution of (7).

GD (seli_exact.regpath.gd_ufm: plain float64 gradient descent on all n columns, its own softmax)
is a route apart from the solver of (7) (seli_exact.regpath: Newton on the reduction, certified,
and checked for optimality by proofs_check.path_points). G_W, G_H and W^T H of every stationary
GD run must match (8)'s to tolerances.thm2; a run that has not reached a stationary point
(tolerances.gd_stationary) is no evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from seli_exact import ClassCounts, from_counts, seli_geometry, step
from seli_exact.regpath import gd_ufm
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import residual_row, undecided_row, verdict
from ..path_points import PathPoint, certified, path_point, point_rows

ID = "thm2"
REFERENCE = "Theorem 2, Eq. (8)"
STATEMENT = "GD on (1) with d >= k from random starts reaches the Gram matrices (8) predicts from (7)"
PROFILES = ("quick", "thorough")
ORDER = 180
ROUTES = ("regpath",)


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    W: np.ndarray  # (d, k) from GD on (1)
    H: np.ndarray  # (d, n)
    grad_norm: float  # GD's final gradient norm
    point: PathPoint  # the solution of (7) at the same lam
    grams: tuple  # (G_W, G_M, logits) of (8) from that solution, (k, k) each


def errors(case: Case) -> dict[str, float]:
    y = case.point.counts.labels()
    G_W, G_M, _ = (np.asarray(g) for g in case.grams)
    G_H = G_M[np.ix_(y, y)]
    Z = case.point.M[:, y]
    W, H = case.W, case.H
    return {"G_W": float(np.linalg.norm(W.T @ W - G_W) / np.linalg.norm(G_W)),
            "G_H": float(np.linalg.norm(H.T @ H - G_H) / np.linalg.norm(G_H)),
            "logits": float(np.linalg.norm(W.T @ H - Z) / np.linalg.norm(Z))}


def run_case(counts: ClassCounts, lam: float, d: int, seed: int) -> Case:
    p = path_point(counts, lam)
    g = gd_ufm(counts, lam, d=d, seed=seed)
    return Case(f"{list(counts.counts)} lam={lam} d={d} seed={seed}", g.W, g.H, g.grad_norm, p,
                tuple(p.solution.grams()))


def cases(profile: str) -> list[Case]:
    specs = [(step(4, 2, "1/2", 2), (0.5, 0.1, 0.05))]
    seeds = (0, 1)
    if profile == "thorough":
        specs += [(step(4, 10, "1/2", 1), (0.3, 0.05)), (from_counts([6, 3, 1]), (0.2, 0.05))]
        seeds = (0, 1, 2)
    return [run_case(c, lam, d, s) for c, lams in specs for lam in lams
            for d in (c.k, c.k + 1) for s in seeds]


def judge(cases: list[Case]) -> Verdict:
    rows, seen = [], set()
    for case in cases:
        if id(case.point) not in seen:
            seen.add(id(case.point))
            rows += point_rows(case.point)
        if not certified(case.point):
            continue
        if not case.grad_norm <= tolerances.gd_stationary():
            rows.append(undecided_row(case.name, f"GD stopped at ||grad|| = {case.grad_norm:.3g}"))
            continue
        e = errors(case)
        rows.append(residual_row(case.name, max(e.values()), tolerances.thm2(),
                                 grad_norm=case.grad_norm, errors=e))
    return verdict(ID, rows, kind="residual")


SMALL = from_counts([3, 2, 1])


def _good(lam_for_grams: float = 0.2) -> Case:
    g = gd_ufm(SMALL, 0.2, d=3, seed=4)
    p = path_point(SMALL, lam_for_grams)
    return Case("[3, 2, 1] lam=0.2", g.W, g.H, g.grad_norm, path_point(SMALL, 0.2), tuple(p.solution.grams()))


def planted() -> dict[str, list[Case]]:
    good = _good()
    g = seli_geometry(SMALL)
    scale = np.trace(good.grams[0]) / np.trace(g.W_gram)
    return {
        "(8)'s Grams of lam = 0.21": [_good(0.21)],
        "(8)'s Grams of lam (1 + 1e-5)": [_good(0.2 * (1 + 1e-5))],
        "the UF-SVM's (SELI) Grams, scaled": [replace(good, grams=(scale * g.W_gram, scale * g.M_gram, good.grams[2]))],
        "a solution of (7) at another lam": [replace(good, point=replace(good.point, M=path_point(SMALL, 0.21).M))],
    }


def undecided() -> dict[str, list[Case]]:
    good = _good(0.21)
    return {
        "GD that did not converge": [replace(good, grad_norm=1e-6)],
        "an uncertified solution of (7)": [replace(good, point=replace(good.point, relative_gap=1e-6))],
    }
