"""Judges for Theorem 1 and Corollaries 1.1-1.3 at a candidate UF-SVM solution (W, H).

Each judge takes explicit candidates and compares them with routes independent of seli_exact's
SVD formulas: LAPACK's eigen-decomposition of Zhat Zhat^T (evidence.Reference), the dual bound
of the relaxation (5) from the ADMM solver, KKT certificates, and exact SymPy identities.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from seli_exact import ClassCounts, sel_matrix
from seli_exact.solvers import solve_ufsvm

from .evidence import Reference, aggregate, make_row, reference, rel_residual
from .local_search import margins
from seli_exact.verdict import Verdict


def thm1_residuals(
    counts: ClassCounts, W: np.ndarray, H: np.ndarray, ref: Reference, lower_bound: float
) -> dict[str, float]:
    """Theorem 1 at a candidate (W, H): every statement as a relative residual.

    feasibility: 1 - min margin; (i) W^T H vs Zhat; (ii) H^T H vs U Lam U^T and W^T W vs V Lam V^T;
    (iii) R^T = W V Lam^{-1/2} must have orthonormal rows and reproduce W and H; p*: the
    objective, ||W||_F^2 and ||H||_F^2 vs ||Zhat||_*, and the objective vs a lower bound on the
    optimum of (2) (the dual bound of the relaxation (5), which (2) can only exceed).
    """
    Z = sel_matrix(counts)  # (k, n)
    U, lam, V = ref.U(), ref.sigma, ref.V
    nuc = ref.nuclear_norm
    objective = 0.5 * (np.sum(W * W) + np.sum(H * H))
    Rt = W @ V / np.sqrt(lam)[None, :]  # (d, k-1)
    out = {
        "feasibility": max(0.0, 1.0 - float(np.min(margins(W, H, counts.labels())))),
        "(i) logits": rel_residual(W.T @ H, Z),
        "(ii) H^T H": rel_residual(H.T @ H, (U * lam) @ U.T),
        "(ii) W^T W": rel_residual(W.T @ W, ref.G_W),
        "(iii) R R^T = I": rel_residual(Rt.T @ Rt, np.eye(counts.k - 1)),
        "(iii) W": rel_residual(W, Rt @ (np.sqrt(lam)[:, None] * V.T)),
        "(iii) H": rel_residual(H, Rt @ (np.sqrt(lam)[:, None] * U.T)),
        "p* = ||W||_F^2": abs(np.sum(W * W) - nuc) / nuc,
        "p* = ||H||_F^2": abs(np.sum(H * H) - nuc) / nuc,
        "p* = objective": abs(objective - nuc) / nuc,
        "objective vs lower bound": max(0.0, objective - lower_bound) / nuc,
    }
    return out


def judge_thm1(cases, claim_id: str = "thm1") -> Verdict:
    """cases: (name, counts, W, H, tol); each residual of thm1_residuals must be <= tol."""
    rows = []
    for name, counts, W, H, tol in cases:
        ref = reference(counts)
        bound = solve_ufsvm(counts).lower_bound
        res = thm1_residuals(counts, W, H, ref, bound)
        worst_key = max(res, key=res.get)
        rows.append(
            make_row(
                name,
                res[worst_key],
                tol,
                worst_statement=worst_key,
                residuals={k: float(v) for k, v in res.items()},
            )
        )
    return aggregate(claim_id, rows)


def nc_evidence(counts: ClassCounts, W: np.ndarray, H: np.ndarray) -> dict[str, float]:
    """(NC) at (W, H): the spread of each class around its mean, and the per-example KKT proof.

    For fixed W, example i of class c solves min ||h||^2/2 s.t. A_c h >= 1, A_c = rows
    (w_c - w_j)^T (j != c): strongly convex, identical for the whole class, so its unique
    solution is h* = A_c^T lam with lam = (A_c A_c^T)^{-1} 1 whenever lam > 0 (then every KKT
    condition holds with all constraints active). NC holds when every h_i equals h* of its class.
    """
    y = counts.labels()
    k = counts.k
    scale = max(float(np.linalg.norm(H)), 1.0)
    spread, kkt_gap, lam_min = 0.0, 0.0, math.inf
    for c in range(k):
        Hc = H[:, y == c]
        mu = Hc.mean(axis=1)
        spread = max(spread, float(np.abs(Hc - mu[:, None]).max()) / scale)
        A = (W[:, [c]] - np.delete(W, c, axis=1)).T  # (k-1, d)
        lam = np.linalg.solve(A @ A.T, np.ones(k - 1))
        h_star = A.T @ lam
        lam_min = min(lam_min, float(lam.min()))
        kkt_gap = max(kkt_gap, float(np.abs(Hc - h_star[:, None]).max()) / scale)
    return {
        "within-class spread": spread,
        "distance to per-example minimizer": kkt_gap,
        "min KKT multiplier": lam_min,
    }


def judge_nc(cases, claim_id: str = "cor1.1") -> Verdict:
    rows = []
    for name, counts, W, H, tol in cases:
        ev = nc_evidence(counts, W, H)
        worst = max(ev["within-class spread"], ev["distance to per-example minimizer"])
        row = make_row(name, worst, tol, evidence=ev)
        row["ok"] = row["ok"] and ev["min KKT multiplier"] > 0
        rows.append(row)
    return aggregate(claim_id, rows)


def seli_residual(
    counts: ClassCounts, W: np.ndarray, H: np.ndarray, ref: Reference
) -> tuple[float, float]:
    """(relative residual, alpha) of [W H]^T [W H] = alpha [[V Lam V^T, Zhat], [Zhat^T, U Lam U^T]].

    Definition 3 holds for *some* alpha > 0, so the residual is relative to ||alpha S||_F itself
    (not to max(.., 1)): a wrong geometry scaled down must not pass as a small absolute error.
    """
    Z = sel_matrix(counts)
    U = ref.U()
    S = np.block([[ref.G_W, Z], [Z.T, (U * ref.sigma) @ U.T]])
    F = np.hstack([W, H])
    G = F.T @ F
    alpha = float(np.sum(G * S) / np.sum(S * S))
    if not alpha > 0:
        return math.inf, alpha
    return float(np.linalg.norm(G - alpha * S) / np.linalg.norm(alpha * S)), alpha


def judge_seli(cases, claim_id: str = "cor1.2") -> Verdict:
    rows = []
    for name, counts, W, H, tol in cases:
        res, alpha = seli_residual(counts, W, H, reference(counts))
        row = make_row(name, res, tol, alpha=alpha)
        row["ok"] = row["ok"] and alpha > 0
        rows.append(row)
    return aggregate(claim_id, rows)


def etf_residual(W: np.ndarray, M: np.ndarray) -> float:
    """0 for the ETF up to scaling: W = a M, M^T M = b (I - 11^T/k), a, b > 0 (else the largest
    relative error, each relative to the scaled target, so the residual is scale-invariant)."""
    k = W.shape[1]
    P = np.eye(k) - 1.0 / k
    a = float(np.sum(W * M) / np.sum(M * M))
    G = M.T @ M
    b = float(np.trace(G) / (k - 1))
    if not (a > 0 and b > 0):
        return math.inf
    return max(
        float(np.linalg.norm(W - a * M) / np.linalg.norm(a * M)),
        rel_residual(G / b, P),
        rel_residual(W.T @ W / (a * a * b), P),
    )


def etf_symbolic() -> dict[str, bool]:
    """Exact proofs: Zhat Zhat^T = P D P equals c P (hence (SELI) = (ETF)) for k = 2 and all
    n1, n2 (c = (n1 + n2)/2), and for balanced counts n0 at k = 2..8 (c = n0).

    The entries are polynomials in n1, n2, n0, so expanding them decides each identity exactly
    (no `simplify`, which could only fail to decide)."""
    n1, n2, n0 = sympy.symbols("n1 n2 n0", positive=True)

    def is_zero(E: sympy.Matrix) -> bool:
        return E.applyfunc(sympy.expand) == sympy.zeros(*E.shape)

    out = {}
    P2 = sympy.eye(2) - sympy.ones(2, 2) / 2
    D = sympy.diag(n1, n2)
    out["k=2, all n1, n2"] = is_zero(P2 * D * P2 - (n1 + n2) / 2 * P2)
    for k in range(2, 9):
        P = sympy.eye(k) - sympy.ones(k, k) / k
        out[f"R=1, k={k}"] = is_zero(P * (n0 * sympy.eye(k)) * P - n0 * P)
    return out


def judge_etf(cases, symbolic: dict[str, bool] | None = None, claim_id: str = "cor1.3") -> Verdict:
    """cases: (name, W (d, k), M (d, k), tol); symbolic: name -> proven (all must be True)."""
    rows = [make_row(name, etf_residual(W, M), tol) for name, W, M, tol in cases]
    symbolic = symbolic or {}
    for name, ok in symbolic.items():
        rows.append(
            {
                "instance": f"symbolic: {name}",
                "residual": 0.0 if ok else math.inf,
                "tol": 0.0,
                "ok": bool(ok),
            }
        )
    return aggregate(claim_id, rows)
