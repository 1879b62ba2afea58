"""Definition 3 and Sec. 3.1: the norms, angles, alignment and logits of the SELI geometry, as
seli_exact reports them, against the dense route.

Sec. 3.1: the diagonals of G_W and G_M give the norms (squared), with the off-diagonal entries
the angles, and with the logits W^T M the alignment of classifiers and class means. seli_exact's
Geometry (float64 and 50-digit mpmath) reports each: singular values, nuclear norm, G_W, G_M,
W^T M, G_H = U Lam U^T, classifier and embedding norms, their cosines, and cos(w_c, mu_c). The
dense route (proofs_check.lapack: LAPACK's eigh, and mpmath's eigsy at 50 digits, of P D P)
computes the same quantities from explicit vectors W = Lam^{1/2} V^T, M = Lam^{-1/2} V^T: norms
of columns, inner products of unit columns. Instances include count vectors with up to ten
distinct counts (as many secular roots, whose eigenvectors must not be mixed up). The SVD's own
factors are judged too, not only the Gram matrices built from its spectral projectors:
V Lam V^T and U_class Lam V^T (= Zhat per class, P) from sel_svd's sigma, V and U_class.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import mpmath
import numpy as np

from seli_exact import ClassCounts, from_counts, sel_svd, seli_geometry
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import max_rel_error, rel_error, residual_row, verdict
from ..instances import all_instances
from ..lapack import Reference, reference

ID = "def3.geometry"
REFERENCE = "Definition 3, Sec. 3.1 (norms, angles, alignment, logits)"
STATEMENT = ("seli_exact's SELI geometry (singular values, nuclear norm, G_W, G_M, G_H, logits, "
             "classifier and embedding norms and cosines, alignment cos(w_c, mu_c), and the SVD "
             "factors themselves) equals the geometry of Definition 3 (alpha = 1) computed by an "
             "independent dense route")
PROFILES = ("quick", "thorough")
ORDER = 45
ROUTES = ("structured_svd", "lapack")
VECTORS = ("singular_values", "classifier_norms", "embedding_norms", "alignment")
MATRICES = ("W_gram", "M_gram", "logits", "classifier_cosines", "embedding_cosines")
H_GRAM_MAX_N = 500  # G_H is (n, n): compared on small instances only


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    counts: ClassCounts
    reported: dict  # quantity -> seli_exact's value (float64 or mpmath arrays)
    reference: Reference  # the dense route in the same precision


def report(counts: ClassCounts, arith: str = "float64") -> dict:
    """Every quantity seli_exact's Geometry reports, and its SVD's factors."""
    digits = tolerances.DIGITS if arith == "mpmath" else None
    g = seli_geometry(counts, arith, digits)
    out = {q: getattr(g, q) for q in VECTORS + MATRICES}
    s = sel_svd(counts, arith, digits)
    with mpmath.workdps(tolerances.DIGITS + 10):  # mpmath values keep their precision
        out["V Lam V^T"] = (s.V * s.sigma[None, :]) @ s.V.T
        out["U_class Lam V^T"] = (s.U_class * s.sigma[None, :]) @ s.V.T
    out["nuclear_norm"] = g.nuclear_norm
    if counts.n <= H_GRAM_MAX_N:
        out["H_gram"] = g.H_gram()
    return out


def expected(ref: Reference) -> dict:
    out = {"singular_values": ref.sigma, "classifier_norms": ref.classifier_norms,
           "embedding_norms": ref.embedding_norms, "alignment": ref.alignment, "W_gram": ref.G_W,
           "M_gram": ref.G_M, "logits": ref.logits, "classifier_cosines": ref.classifier_cosines,
           "embedding_cosines": ref.embedding_cosines, "nuclear_norm": ref.nuclear_norm,
           "V Lam V^T": ref.G_W, "U_class Lam V^T": ref.logits}
    if ref.counts.n <= H_GRAM_MAX_N:
        with mpmath.workdps(ref.digits + 10):  # the mpmath reference keeps its precision
            U = ref.U()
            out["H_gram"] = (U * ref.sigma[None, :]) @ U.T
    return out


def residuals(case: Case) -> dict[str, float]:
    want = expected(case.reference)
    out = {}
    for q, got in case.reported.items():
        if q in VECTORS or q == "nuclear_norm":
            out[q] = max_rel_error(np.atleast_1d(np.asarray(got)), np.atleast_1d(np.asarray(want[q])))
        else:
            out[q] = rel_error(got, want[q])
    missing = set(want) - set(case.reported)
    out.update({q: float("inf") for q in missing})
    return out


def _instances(profile: str):
    return [i for i in all_instances(profile) if i.counts.k <= (12 if profile == "quick" else 30)]


def cases(profile: str) -> list[Case]:
    out = []
    for inst in _instances(profile):
        c = inst.counts
        out.append(Case(f"{inst.name} float64", c, report(c), reference(c)))
        if c.k <= 10:
            out.append(Case(f"{inst.name} 50 digits", c, report(c, "mpmath"),
                            reference(c, tolerances.DIGITS)))
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        res = residuals(case)
        worst = max(res, key=lambda q: res[q] if res[q] == res[q] else float("inf"))
        rows.append(residual_row(case.name, res[worst], case.reference.tol, worst_quantity=worst,
                                 residuals=res))
    return verdict(ID, rows, kind="residual")


MIXED = from_counts([1, 2, 3, 50, 7, 1000])


def planted() -> dict[str, list[Case]]:
    good = Case("mixed6", MIXED, report(MIXED), reference(MIXED))
    r = good.reported

    def _with(**kw):
        return [replace(good, reported={**r, **kw})]

    g = seli_geometry(MIXED)
    h = g.embedding_norms
    wrong_cos = g.M_gram / np.outer(g.classifier_norms, g.classifier_norms)  # classifier norms
    swapped_V = g.singular_values.copy()
    swapped_V[[0, 1]] = swapped_V[[1, 0]]
    svd = sel_svd(MIXED)
    V = svd.V[:, ::-1]  # singular vectors stored in the wrong order
    return {
        "singular vectors in the wrong order": _with(**{"V Lam V^T": (V * svd.sigma) @ V.T}),
        "embedding cosines divided by the classifier norms": _with(embedding_cosines=wrong_cos),
        "alignment without the embedding norms": _with(alignment=np.diagonal(g.logits) / g.classifier_norms),
        "singular values out of order": _with(singular_values=swapped_V),
        "G_M taken for G_W": _with(W_gram=g.M_gram),
        "embedding norms squared": _with(embedding_norms=h * h),
        "a nuclear norm 1% high": _with(nuclear_norm=1.01 * g.nuclear_norm),
    }


def undecided() -> dict[str, list[Case]]:
    c = from_counts([1, 1, 10**13])  # cond 1e13: float64 cannot resolve the comparison
    return {"an instance beyond float64's resolution": [Case("cond 1e13", c, report(c), reference(c))]}
