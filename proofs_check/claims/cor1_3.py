"""Corollary 1.3: for R = 1 or k = 2 the UF-SVM solutions follow the ETF geometry.

Three kinds of evidence:

* factor cases: Theorem 1 (iii) built from seli_exact's structured SVD on balanced and binary
  counts must be an ETF up to scaling: W = a M and M^T M = b (I - 11^T/k), a, b > 0, each part
  relative to the scaled target (scale-invariant both ways);
* Gram cases: seli_exact's SELI Gram matrices (seli_geometry) on those counts against its ETF
  geometry (etf_geometry): G_W, G_M and W^T M proportional to G* with positive factors;
* identity cases: exact proofs that Zhat Zhat^T = P D P is c P (hence (SELI) = (ETF)) for k = 2
  and all n1, n2, and for balanced counts at k = 2..8. The entries are polynomials, so
  expansion decides each identity; an identity that does not reduce to a polynomial is
  undecided, never verified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from seli_exact import ClassCounts, etf_geometry, factorize, sel_svd, seli_geometry, simplex_gram, step
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import failed_row, proven_row, rel_error, residual_row, undecided_row, verdict

ID = "cor1.3"
REFERENCE = "Corollary 1.3"
STATEMENT = ("For R = 1 or k = 2 the UF-SVM solutions follow the ETF geometry "
             "(W = M up to scaling, M^T M proportional to I - 11^T/k)")
PROFILES = ("quick", "thorough")
ORDER = 40
ROUTES = ("structured_svd",)


@dataclass(frozen=True, eq=False)
class FactorCase:
    name: str
    counts: ClassCounts
    W: np.ndarray  # (d, k) classifiers
    M: np.ndarray  # (d, k) class means


@dataclass(frozen=True, eq=False)
class GramCase:
    name: str
    counts: ClassCounts
    seli: tuple  # (G_W, G_M, W^T M) of seli_geometry, float64 (k, k) each
    etf: tuple  # the same three of etf_geometry


@dataclass(frozen=True, eq=False)
class IdentityCase:
    name: str
    residual: sympy.Matrix  # must vanish identically


Case = FactorCase | GramCase | IdentityCase


def etf_residual(W: np.ndarray, M: np.ndarray) -> float:
    """0 for the ETF up to scaling (W = a M, M^T M = b P, a, b > 0), else the largest relative
    error, each relative to the scaled target."""
    k = W.shape[1]
    P = simplex_gram(k)
    a = float(np.sum(W * M) / np.sum(M * M))
    G = M.T @ M
    b = float(np.trace(G) / (k - 1))
    if not (a > 0 and b > 0):
        return math.inf
    return max(rel_error(W, a * M), rel_error(G / b, P), rel_error(W.T @ W / (a * a * b), P))


def gram_residual(seli: tuple, etf: tuple) -> float:
    """max over the three matrices of the relative distance to a positive multiple of ETF's."""
    worst = 0.0
    for A, E in zip(seli, etf):
        c = float(np.sum(A * E) / np.sum(E * E))
        if not c > 0:
            return math.inf
        worst = max(worst, rel_error(A, c * E))
    return worst


def identity_cases() -> list[IdentityCase]:
    n1, n2, n0 = sympy.symbols("n1 n2 n0", positive=True)
    P2 = sympy.Matrix(simplex_gram(2, "exact").tolist())
    out = [IdentityCase("k=2, all n1, n2", P2 * sympy.diag(n1, n2) * P2 - (n1 + n2) / 2 * P2)]
    for k in range(2, 9):
        P = sympy.Matrix(simplex_gram(k, "exact").tolist())
        out.append(IdentityCase(f"R=1, k={k}", P * (n0 * sympy.eye(k)) * P - n0 * P))
    return out


def _specs(profile: str):
    specs = [(2, 10, 3), (2, 1, 4), (4, 1, 5), (6, 1, 2)]
    if profile == "thorough":
        specs += [(2, 1000, 1), (2, Fraction(7, 3), 3), (10, 1, 3), (16, 1, 7)]
    return [step(k, R, "1/2", n) if k % 2 == 0 else step(k, R, Fraction(1, k), n) for k, R, n in specs]


def cases(profile: str) -> list[Case]:
    out: list[Case] = []
    for c in _specs(profile):
        W, M = factorize(sel_svd(c), c.k + 1, seed=c.k)
        out.append(FactorCase(f"{c.describe()} factorization", c, W, M))
        g, e = seli_geometry(c), etf_geometry(c)
        out.append(GramCase(f"{c.describe()} SELI vs ETF Gram", c, (g.W_gram, g.M_gram, g.logits),
                            (e.W_gram, e.M_gram, e.logits)))
    return out + identity_cases()


def _identity_row(case: IdentityCase) -> dict:
    entries = [sympy.expand(x) for x in case.residual]
    if all(e == 0 for e in entries):
        return proven_row(f"symbolic: {case.name}")
    bad = next(e for e in entries if e != 0)
    if bad.is_polynomial():  # a nonzero polynomial is nonzero somewhere
        return failed_row(f"symbolic: {case.name}", f"nonzero remainder {bad}")
    return undecided_row(f"symbolic: {case.name}", f"remainder {bad} is no polynomial")


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, IdentityCase):
            rows.append(_identity_row(case))
        elif isinstance(case, FactorCase):
            rows.append(residual_row(case.name, etf_residual(case.W, case.M),
                                     tolerances.lapack(case.counts)))
        else:
            rows.append(residual_row(case.name, gram_residual(case.seli, case.etf),
                                     tolerances.lapack(case.counts)))
    return verdict(ID, rows, kind="residual")


FIG1 = step(4, 10, "1/2", 5)
BALANCED = step(4, 1, "1/2", 5)


def planted() -> dict[str, list[Case]]:
    W, M = factorize(sel_svd(FIG1), 4, seed=0)
    W2, M2 = factorize(sel_svd(BALANCED), 4, seed=0)
    E = np.random.default_rng(0).standard_normal(W2.shape) * 1e-3
    g, e = seli_geometry(FIG1), etf_geometry(FIG1)
    n0 = sympy.Symbol("n0", positive=True)
    P = sympy.Matrix(simplex_gram(4, "exact").tolist())
    return {
        "SELI of imbalanced data called ETF": [FactorCase("fig1", FIG1, W, M)],
        "a tiny SELI of imbalanced data": [FactorCase("tiny fig1", FIG1, 1e-8 * W, 1e-8 * M)],
        "W != a M at a tiny scale": [FactorCase("W != a M", BALANCED, 1e-8 * (W2 + E), 1e-8 * W2)],
        "W = -M (a > 0 required)": [FactorCase("W = -M", BALANCED, -M2, M2)],
        "imbalanced Gram matrices vs ETF": [GramCase("fig1", FIG1, (g.W_gram, g.M_gram, g.logits),
                                                     (e.W_gram, e.M_gram, e.logits))],
        "a wrong identity (P D P = 2 n0 P)": [IdentityCase("wrong", P * (n0 * sympy.eye(4)) * P - 2 * n0 * P)],
    }


def undecided() -> dict[str, list[Case]]:
    x = sympy.Symbol("x", positive=True)
    P = sympy.Matrix(simplex_gram(3, "exact").tolist())
    # true (sin^2 + cos^2 = 1), but no polynomial: expansion cannot decide it
    disguised = P * (sympy.sin(x) ** 2 + sympy.cos(x) ** 2) - P
    return {"a true identity that is no polynomial": [IdentityCase("disguised", disguised)]}
