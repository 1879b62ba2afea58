"""`seli measure`'s report from its definitions, in mpmath, apart from seli_exact.

measurement.report streams features in float64 blocks, centres through seli_exact.metrics
and reads SELI's targets off the structured SVD. This module evaluates every number of the
report (Measurement.as_dict, the JSON `seli measure --json` prints) from the definitions in
measurement.report's docstring, at `digits` + 10 digits, from the float64 values of the
inputs, with SELI's Grams, cosines, norms and factors from the dense route at `digits` digits
(proofs_check.lapack: mpmath's eigsy of P D P). Classes are columns: W (d, k), features
H (d, n) with labels y, or class means M (d, k) with their counts.

  centring     balanced: M - mean_c mu_c; weighted: M - (1/n) sum_i h_i (with means given:
               sum_c n_c mu_c / n); none: M
  distances    || A/||A||_F - B/||B||_F ||_F for G_W = W^T W, G_M = Mc^T Mc, logits W^T Mc against
               SELI's V Lam V^T, V Lam^-1 V^T (and G* for logits) and ETF's G* = I - 11^T/k
  nc1          (1/k) tr(Sigma_W Sigma_B^+), Sigma_W = (1/n) sum_i (h_i - mu_{y_i})(...)^T,
               Sigma_B = (1/k) sum_c mu~_c mu~_c^T; Sigma_B^+ from eigsy (eigenvalues below
               10^-40 of the largest are its null space's)
  nc2          mean over c != c' of |cos(a_c, a_c') - cos*| for a = w and a = mu~, cos* = -1/(k-1)
               (ETF) or SELI's cosines
  nc3          || W/||W||_F - Mc/||Mc||_F ||_F; SELI's: the same for the dense route's factors;
               ETF's: 0
  nc4          the fraction of examples with argmax_c (w_c^T h_i + b_c) = argmin_c ||h_i - mu_c||
               (uncentred means), overall and per class; exact fractions
  norms        ||w_c||, ||mu~_c|| beside SELI's norms p at the least-squares scale s = <m, p>/<p, p>;
               error_seli = ||m - s p||/||m||, error_etf the same for equal norms (their mean)

`report` returns the expected JSON object (mpmath numbers where the library reports floats) and
the smallest relative decision margin of NC4 (the gap between the best and second-best score of
either rule, relative to the largest score), so a judge can tell a near tie from a wrong
decision.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from seli_exact import ClassCounts

from .cache import memo
from .lapack import reference

CENTERS = ("balanced", "weighted", "none")


def _cols(A) -> list[list]:
    """The columns of a float (d, m) array as lists of exact mpf."""
    A = np.asarray(A, dtype=float)
    return [[mpmath.mpf(float(x)) for x in A[:, j]] for j in range(A.shape[1])]


def _dot(a, b):
    return mpmath.fdot(a, b)


def _norm(a):
    return mpmath.sqrt(mpmath.fdot(a, a))


def _fro(cols) -> mpmath.mpf:
    return mpmath.sqrt(mpmath.fsum(x * x for c in cols for x in c))


def _gram(A, B) -> mpmath.matrix:
    """A^T B for column lists A, B."""
    out = mpmath.matrix(len(A), len(B))
    for i, a in enumerate(A):
        for j, b in enumerate(B):
            out[i, j] = _dot(a, b)
    return out


def _mat(G) -> mpmath.matrix:
    G = np.asarray(G)
    out = mpmath.matrix(G.shape[0], G.shape[1])
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            out[i, j] = _to_mp(G[i, j])
    return out


def _distance(A: mpmath.matrix, B: mpmath.matrix):
    na, nb = mpmath.mnorm(A, "F"), mpmath.mnorm(B, "F")
    return mpmath.mnorm(A / na - B / nb, "F")


def _cosines(cols) -> list[list]:
    norms = [_norm(c) for c in cols]
    return [[_dot(a, b) / (na * nb) for b, nb in zip(cols, norms)] for a, na in zip(cols, norms)]


def _angle_error(cos, target) -> mpmath.mpf:
    k = len(cos)
    return mpmath.fsum(abs(cos[i][j] - target(i, j)) for i in range(k) for j in range(k)
                       if i != j) / (k * (k - 1))


def _self_duality(W, M) -> mpmath.mpf:
    fw, fm = _fro(W), _fro(M)
    return mpmath.sqrt(mpmath.fsum((w / fw - m / fm) ** 2 for a, b in zip(W, M)
                                   for w, m in zip(a, b)))


def _norm_profile(measured: list, predicted: list) -> dict:
    s = mpmath.fdot(measured, predicted) / mpmath.fdot(predicted, predicted)
    nm = mpmath.sqrt(mpmath.fdot(measured, measured))
    mean = mpmath.fsum(measured) / len(measured)
    return {"measured": measured, "seli": [s * p for p in predicted], "scale": s,
            "error_seli": mpmath.sqrt(mpmath.fsum((m - s * p) ** 2 for m, p in zip(measured, predicted))) / nm,
            "error_etf": mpmath.sqrt(mpmath.fsum((m - mean) ** 2 for m in measured)) / nm}


def _sigma_w(H, y, means, n) -> mpmath.matrix:
    """(1/n) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T (d, d)."""
    d = len(means[0])
    resid = [[H[i][r] - means[y[i]][r] for r in range(d)] for i in range(n)]  # per example
    rows = list(zip(*resid))  # d lists of n residual entries
    sigma_w = mpmath.matrix(d, d)
    for r in range(d):
        for s in range(r, d):
            sigma_w[r, s] = sigma_w[s, r] = mpmath.fdot(rows[r], rows[s]) / n
    return sigma_w


def _nc1(sigma_w, centred, k) -> mpmath.mpf:
    """(1/k) tr(Sigma_W Sigma_B^+) with Sigma_B = (1/k) sum_c mu~_c mu~_c^T."""
    d = sigma_w.rows
    sigma_b = mpmath.matrix(d, d)
    for r in range(d):
        for s in range(r, d):
            sigma_b[r, s] = sigma_b[s, r] = mpmath.fsum(c[r] * c[s] for c in centred) / k
    E, Q = mpmath.eigsy(sigma_b)
    top = max(abs(e) for e in E)
    pinv = mpmath.matrix(d, d)
    for j in range(d):
        if abs(E[j]) > top * mpmath.mpf(10) ** -40:
            q = Q[:, j]
            pinv += (q * q.T) / E[j]
    prod = sigma_w * pinv
    return mpmath.fsum(prod[i, i] for i in range(d)) / k


def _nc4(W, bias, H, y, means, counts: ClassCounts) -> tuple[Fraction, list, float]:
    """(overall agreement, per class, smallest relative decision margin)."""
    k, n = counts.k, len(H)
    hits = [0] * k
    tie = mpmath.inf
    for i in range(n):
        h = H[i]
        logits = [_dot(w, h) + (bias[c] if bias is not None else 0) for c, w in enumerate(W)]
        dist2 = [mpmath.fsum((a - b) ** 2 for a, b in zip(h, mu)) for mu in means]
        for scores in (logits, [-v for v in dist2]):
            top2 = sorted(scores)[-2:]
            scale = max(abs(v) for v in scores)
            if scale > 0:
                tie = min(tie, (top2[1] - top2[0]) / scale)
        best = max(range(k), key=lambda c: logits[c])
        nearest = min(range(k), key=lambda c: dist2[c])
        if best == nearest:
            hits[y[i]] += 1
    per = [Fraction(hits[c], counts.counts[c]) for c in range(k)]
    return Fraction(sum(hits), n), per, float(tie)


@memo
def _features(W: bytes, H: bytes, bias: bytes | None, d: int, counts: ClassCounts, digits: int):
    """What does not depend on the centring, once per input: the columns of W and H, the class
    means, the sample mean, Sigma_W's residual rows and NC4 (keyed by the arrays' bytes)."""
    k = counts.k
    Wa = np.frombuffer(W, dtype=float).reshape(d, k)
    Ha = np.frombuffer(H, dtype=float).reshape(d, -1)
    y = counts.labels()
    with mpmath.workdps(digits + 10):
        Wc, Hc = _cols(Wa), _cols(Ha)
        n = len(Hc)
        means = []
        for c in range(k):
            members = [Hc[i] for i in np.flatnonzero(y == c)]
            means.append([mpmath.fsum(h[r] for h in members) / len(members) for r in range(d)])
        total = [mpmath.fsum(h[r] for h in Hc) / n for r in range(d)]
        b = None if bias is None else [mpmath.mpf(float(v)) for v in np.frombuffer(bias, dtype=float)]
        nc4 = _nc4(Wc, b, Hc, y, means, counts)
        sigma_w = _sigma_w(Hc, y, means, n)
    return Wc, means, total, sigma_w, nc4


def report(W, *, counts: ClassCounts, H=None, M=None, bias=None, center: str = "balanced",
           digits: int = 50) -> tuple[dict, float]:
    """(the JSON object `seli measure` should print, NC4's smallest relative margin (inf when
    means are given)) for classifiers W (d, k) and features H (d, n) with labels
    counts.labels(), or class means M (d, k); bias (k,) or None (module doc)."""
    if center not in CENTERS:
        raise ValueError(f"center must be one of {CENTERS}, not {center!r}")
    k, d = counts.k, np.asarray(W).shape[0]
    ref = reference(counts, digits)  # the dense route, mpmath
    raw = lambda A: None if A is None else np.ascontiguousarray(A, dtype=float).tobytes()  # noqa: E731
    with mpmath.workdps(digits + 10):
        if H is not None:
            Wc, means, total, sigma_w, nc4 = _features(raw(W), raw(H), raw(bias), d, counts, digits)
        else:
            Wc = _cols(W)  # k columns of length d
            means = _cols(M)
            n = counts.n
            total = [mpmath.fsum(counts.counts[c] * means[c][r] for c in range(k)) / n
                     for r in range(d)]
        shift = {"balanced": [mpmath.fsum(mu[r] for mu in means) / k for r in range(d)],
                 "weighted": total, "none": [mpmath.mpf(0)] * d}[center]
        Mc = [[mu[r] - shift[r] for r in range(d)] for mu in means]

        star = mpmath.eye(k) - mpmath.ones(k, k) / k
        GW, GM, L = _gram(Wc, Wc), _gram(Mc, Mc), _gram(Wc, Mc)
        GW_seli, GM_seli = _mat(ref.G_W), _mat(ref.G_M)
        out: dict = {
            "class_counts": list(counts.counts), "n": counts.n, "k": k, "d": d, "center": center,
            "distance_to_seli": {"classifiers": _distance(GW, GW_seli),
                                 "embeddings": _distance(GM, GM_seli),
                                 "logits": _distance(L, star)},
            "distance_to_etf": {"classifiers": _distance(GW, star), "embeddings": _distance(GM, star),
                                "logits": _distance(L, star)},
        }
        out["nc1"] = None if H is None else _nc1(sigma_w, Mc, k)
        etf = -mpmath.mpf(1) / (k - 1)
        out["nc2"] = {}
        for name, cols, seli_cos in (("classifiers", Wc, ref.classifier_cosines),
                                     ("embeddings", Mc, ref.embedding_cosines)):
            cos = _cosines(cols)
            target = _mat(seli_cos)
            out["nc2"][name] = {"etf": _angle_error(cos, lambda i, j: etf),
                                "seli": _angle_error(cos, lambda i, j: target[i, j])}
        ref_W = [list(map(_to_mp, np.asarray(ref.W)[:, c])) for c in range(k)]
        ref_M = [list(map(_to_mp, np.asarray(ref.M)[:, c])) for c in range(k)]
        out["nc3"] = {"measured": _self_duality(Wc, Mc), "seli": _self_duality(ref_W, ref_M),
                      "etf": 0.0}
        tie = float("inf")
        if H is None:
            out["nc4"], out["nc4_per_class"] = None, None
        else:
            overall, per, tie = nc4
            out["nc4"], out["nc4_per_class"] = float(overall), [float(f) for f in per]
        out["norms"] = {
            "classifiers": _norm_profile([_norm(w) for w in Wc],
                                         [_to_mp(v) for v in np.asarray(ref.classifier_norms)]),
            "embeddings": _norm_profile([_norm(m) for m in Mc],
                                        [_to_mp(v) for v in np.asarray(ref.embedding_norms)]),
        }
    return out, tie


def _to_mp(x) -> mpmath.mpf:
    return mpmath.mp.make_mpf(x._mpf_) if hasattr(x, "_mpf_") else mpmath.mpf(x)


def flatten(obj, prefix: str = "") -> dict:
    """{"a.b.c": leaf} for a nested JSON object; lists of numbers are leaves."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: obj}
