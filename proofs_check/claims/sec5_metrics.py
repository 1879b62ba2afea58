"""Sec. 5: the metric library behind Figs 2-4 and the training claims, against the definitions.

Sec. 5 measures classifiers by G_W = W^T W, class means by G_M = M^T M (centred by their
balanced mean in the deep-net experiments, Sec. G), logits by W^T M, each against SELI
(V Lam V^T, V Lam^{-1} V^T; Definition 3) and ETF (G* = I - 11^T/k) by
dist(A, B) = ||A/||A||_F - B/||B||_F||_F. Within-class variability is NC1 of Papyan et al. [26]:
(1/k) tr(Sigma_W Sigma_B^+), Sigma_W = (1/n) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T,
Sigma_B = (1/k) sum_c (mu_c - mu_G)(mu_c - mu_G)^T with mu_G the balanced mean of class means.

seli_exact.metrics reports these (distances, feature_distances with class means from features,
stacked inputs with batch axes, nc1); the judge recomputes each from its definition at 60 digits
from the same float64 inputs, with SELI's Gram matrices from the dense route at 50 digits
(mpmath's eigsy; proofs_check.lapack) and Sigma_B^+ from an eigen-decomposition at 60 digits.
`seli measure` (seli_exact.measurement) computes the same distances and NC1 in its own, streaming
way (features read in blocks, two passes, Sigma_W only along the centred means' directions): its
NC1 and its distances from features (balanced centring) are judged against the same definitions,
and so is everything else it reports (seli_exact.measurement's docstring): NC2's equiangularity
errors against ETF's cosine -1/(k-1) and against the cosines of the dense route's SELI Grams, NC3
(self-duality) measured and SELI's value (NC3 of the dense route's own factors), NC4 (classifier
decisions against the nearest class mean, overall and per class; a near tie makes it undecided)
and the per-class norms beside SELI's at the least-squares scale, with both fit errors,
on arrays in memory and on a model stored as a user's files are (the classifier k x d and the
features n x d as float16 .npy, float32 and bfloat16 .safetensors, float64 .npz, read back
through seli_exact.sources): the definitions are then evaluated at the stored values, which every
narrower float widens to exactly, so reading or summing in the stored precision shows as an error
of that precision's size.
Inputs: random (seeded), the dense route's SELI point (distance to SELI 0), noisy features; on
STEP and on count vectors with several distinct counts.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mpmath
import numpy as np

from seli_exact import ClassCounts, from_counts, metrics, simplex_gram, step
from seli_exact.measurement import measure
from seli_exact.sources import load_source
from seli_exact.verdict import Verdict

from .. import tolerances
from ..evidence import residual_row, to_mpf, undecided_row, verdict
from ..lapack import reference, seli_factors
from ..safetensors_layout import write_safetensors

ID = "sec5.metrics"
REFERENCE = "Sec. 5 (metrics of Figs 2-4), Sec. G (centring), NC1 of Papyan et al. [26]"
STATEMENT = ("seli_exact.metrics' distances of classifiers, class means (given, or from features; "
             "centred or not) and logits to SELI and ETF, and NC1, and the same numbers from "
             "`seli measure`'s streaming two-pass route, equal their definitions evaluated at 60 "
             "digits against an independent SELI reference")
PROFILES = ("quick", "thorough")
ORDER = 215
ROUTES = ("structured_svd", "lapack")
KEYS = tuple(f"{g}_{o}" for g in ("seli", "etf") for o in ("classifiers", "embeddings", "logits"))


@dataclass(frozen=True, eq=False)
class DistanceCase:
    name: str
    counts: ClassCounts
    W: np.ndarray  # (..., d, k) classifiers
    M: np.ndarray | None  # (..., d, k) class means, or None: from H and the counts' labels
    H: np.ndarray | None  # (..., d, n) features
    centred: bool
    reported: dict  # KEYS -> metrics' values, arrays of the batch shape


@dataclass(frozen=True, eq=False)
class NC1Case:
    name: str
    counts: ClassCounts
    H: np.ndarray  # (d, n) features, labels counts.labels()
    reported: float  # metrics.nc1


@dataclass(frozen=True, eq=False)
class MeasureCase:
    """seli_exact.measurement.measure on classifiers W (d, k) and features H (d, n), read in
    blocks of `block` rows; its distances (balanced centring) and NC1. `stored` says how measure
    was given them: "memory", or the file format and dtype (W and H are then the float64 values
    of the stored numbers)."""
    name: str
    counts: ClassCounts
    W: np.ndarray
    H: np.ndarray
    block: int
    reported: dict  # _reported(measure(...)): KEYS, nc1, nc2_*, nc3, nc3_seli, nc4, norms_*
    stored: str = "memory"


Case = DistanceCase | NC1Case | MeasureCase


def _flat(d) -> dict:
    return {f"{g}_{o}": np.asarray(getattr(getattr(d, g), o), dtype=float)
            for g in ("seli", "etf") for o in ("classifiers", "embeddings", "logits")}


def distance_case(name, counts, W, M=None, H=None, centred=False) -> DistanceCase:
    if M is not None:
        got = metrics.distances(W, M, counts, centred=centred)
    else:
        got = metrics.feature_distances(W, H, counts.labels(), counts, centred=centred)
    return DistanceCase(name, counts, W, M, H, centred, _flat(got))


def nc1_case(name, counts, H) -> NC1Case:
    return NC1Case(name, counts, H, float(metrics.nc1(H, counts.labels(), counts.k)))


def _reported(m) -> dict:
    got = {f"{g}_{o}": float(getattr(getattr(m, f"distance_to_{g}"), o))
           for g in ("seli", "etf") for o in ("classifiers", "embeddings", "logits")}
    for o in ("classifiers", "embeddings"):
        angles = getattr(m, f"nc2_{o}")
        got[f"nc2_{o}_etf"], got[f"nc2_{o}_seli"] = angles.etf, angles.seli
        norms = m.classifier_norms if o == "classifiers" else m.embedding_norms
        got.update({f"norms_{o}_measured": norms.measured, f"norms_{o}_seli": norms.seli,
                    f"norms_{o}_scale": norms.scale, f"norms_{o}_error_seli": norms.error_seli,
                    f"norms_{o}_error_etf": norms.error_etf})
    return {**got, "nc1": m.nc1, "nc3": m.nc3, "nc3_seli": m.nc3_seli, "nc4": m.nc4,
            "nc4_per_class": m.nc4_per_class}


def measure_case(name, counts, W, H, block=7) -> MeasureCase:
    m = measure(W.T, H.T, counts.labels(), center="balanced", chunk_rows=block)
    return MeasureCase(name, counts, W, H, block, _reported(m))


# the formats a stored model is read from: (file kind, dtype name)
STORED = (("npy", "float16"), ("safetensors", "float32"), ("safetensors", "bfloat16"),
          ("npz", "float64"))


def _narrowed(A: np.ndarray, dtype: str) -> np.ndarray:
    """A (float64) rounded to `dtype`, in that dtype; bfloat16 as its uint16 bits (the top half of
    the float32, truncated)."""
    if dtype == "bfloat16":
        return (np.ascontiguousarray(A, dtype="<f4").view("<u4") >> 16).astype("<u2")
    return np.asarray(A, dtype=dtype)


def _widened(A: np.ndarray, dtype: str) -> np.ndarray:
    """The float64 values of the numbers `_narrowed` stored (exact: every narrower float is a
    float64)."""
    if dtype == "bfloat16":
        return (A.astype("<u4") << 16).view("<f4").astype(np.float64)
    return A.astype(np.float64)


def stored_measure_case(name, counts, W, H, kind: str, dtype: str, block=7) -> MeasureCase:
    """measure on W (d, k) and H (d, n) saved as PyTorch-layout files (classifier k x d, features
    n x d, labels int64) of `kind` in `dtype`, read back by seli_exact.sources."""
    Wn, Hn, y = _narrowed(W.T, dtype), _narrowed(H.T, dtype), counts.labels().astype(np.int64)
    with tempfile.TemporaryDirectory(prefix="seli-sec5-") as folder:
        f = Path(folder) / f"model.{kind}"
        if kind == "npy":
            specs = [str(f.with_name(f"{a}.npy")) for a in ("W", "H", "y")]
            for spec, arr in zip(specs, (Wn, Hn, y)):
                np.save(spec, arr)
        elif kind == "npz":
            np.savez(f, W=Wn, H=Hn, y=y)
            specs = [f"{f}:{a}" for a in ("W", "H", "y")]
        else:
            bf16 = {"fc.weight": "BF16", "features": "BF16"} if dtype == "bfloat16" else None
            write_safetensors(f, {"fc.weight": Wn, "features": Hn, "labels": y}, dtypes=bf16)
            specs = [f"{f}:{a}" for a in ("fc.weight", "features", "labels")]
        m = measure(*(load_source(spec) for spec in specs), center="balanced", chunk_rows=block)
        reported = _reported(m)
    return MeasureCase(name, counts, _widened(Wn, dtype).T, _widened(Hn, dtype).T, block, reported,
                       f"{kind} {dtype}")


# --------------------------------------------------------------------------- the definitions
def _mat(A) -> mpmath.matrix:
    return mpmath.matrix([[to_mpf(x) for x in row] for row in np.asarray(A)])


def _means(H: np.ndarray, counts: ClassCounts) -> mpmath.matrix:
    d, y = H.shape[0], counts.labels()
    M = mpmath.matrix(d, counts.k)
    for c in range(counts.k):
        cols = np.flatnonzero(y == c)
        for r in range(d):
            M[r, c] = mpmath.fsum(to_mpf(H[r, i]) for i in cols) / len(cols)
    return M


def _centre(M: mpmath.matrix) -> mpmath.matrix:
    out = M.copy()
    for r in range(M.rows):
        mean = mpmath.fsum(M[r, c] for c in range(M.cols)) / M.cols
        for c in range(M.cols):
            out[r, c] -= mean
    return out


def _dist(A: mpmath.matrix, B: mpmath.matrix):
    na, nb = mpmath.mnorm(A, "F"), mpmath.mnorm(B, "F")
    return mpmath.mnorm(A / na - B / nb, "F")


def expected_distances(case: DistanceCase) -> dict:
    """KEYS -> the definitions' values at 60 digits, arrays of the batch shape."""
    k = case.counts.k
    ref = reference(case.counts, tolerances.DIGITS)
    batch = np.asarray(case.W).shape[:-2]
    out = {key: np.empty(batch) for key in KEYS}
    with mpmath.workdps(tolerances.DIGITS + 10):
        star = _mat(simplex_gram(k, "exact"))  # G* = I - 11^T/k, exactly
        GW_seli, GM_seli = _mat(ref.G_W), _mat(ref.G_M)
        for idx in np.ndindex(*batch):
            W = _mat(np.asarray(case.W)[idx])
            M = _mat(np.asarray(case.M)[idx]) if case.M is not None else _means(np.asarray(case.H)[idx], case.counts)
            if case.centred:
                M = _centre(M)
            GW, GM, L = W.T * W, M.T * M, W.T * M
            values = {"seli_classifiers": _dist(GW, GW_seli), "seli_embeddings": _dist(GM, GM_seli),
                      "seli_logits": _dist(L, star), "etf_classifiers": _dist(GW, star),
                      "etf_embeddings": _dist(GM, star), "etf_logits": _dist(L, star)}
            for key, v in values.items():
                out[key][idx] = float(v)
    return out


def _unit_cosines(A: np.ndarray) -> np.ndarray:
    U = A / np.linalg.norm(A, axis=0)[None, :]
    return U.T @ U


def _self_duality(W: np.ndarray, M: np.ndarray) -> float:
    return float(np.linalg.norm(W / np.linalg.norm(W) - M / np.linalg.norm(M)))


def _norm_fit(measured: np.ndarray, predicted: np.ndarray) -> dict:
    """The least-squares scale s of `predicted` to `measured`, and both relative fit errors."""
    s = float(measured @ predicted / (predicted @ predicted))
    return {"measured": measured, "seli": s * predicted, "scale": s,
            "error_seli": float(np.linalg.norm(measured - s * predicted) / np.linalg.norm(measured)),
            "error_etf": float(np.linalg.norm(measured - measured.mean()) / np.linalg.norm(measured))}


def expected_measure(case: MeasureCase) -> tuple[dict, float]:
    """The rest of `seli measure`'s report from the definitions (measurement's docstring), in
    float64, balanced centring, no bias: {key: value} and the smallest relative decision margin
    of NC4 (the gap between the best and second-best class of either rule)."""
    counts, k, W, H = case.counts, case.counts.k, case.W, case.H
    y = counts.labels()
    ref = reference(counts)  # the dense route, float64
    M = np.stack([H[:, y == c].mean(axis=1) for c in range(k)], axis=1)  # (d, k)
    Mc = M - M.mean(axis=1, keepdims=True)
    off = ~np.eye(k, dtype=bool)
    out: dict = {}
    for o, A, seli_cos, seli_norms in (("classifiers", W, ref.classifier_cosines, ref.classifier_norms),
                                       ("embeddings", Mc, ref.embedding_cosines, ref.embedding_norms)):
        cos = _unit_cosines(A)
        out[f"nc2_{o}_etf"] = float(np.mean(np.abs(cos[off] + 1.0 / (k - 1))))
        out[f"nc2_{o}_seli"] = float(np.mean(np.abs(cos[off] - seli_cos[off])))
        fit = _norm_fit(np.linalg.norm(A, axis=0), np.asarray(seli_norms, dtype=float))
        out.update({f"norms_{o}_{key}": v for key, v in fit.items()})
    out["nc3"] = _self_duality(W, Mc)
    out["nc3_seli"] = _self_duality(np.asarray(ref.W, float), np.asarray(ref.M, float))
    scores = W.T @ H  # (k, n): the classifier's logits
    dist2 = ((H[:, None, :] - M[:, :, None]) ** 2).sum(axis=0)  # (k, n): squared distances
    agree = np.argmax(scores, axis=0) == np.argmin(dist2, axis=0)
    out["nc4"] = float(agree.mean())
    out["nc4_per_class"] = np.array([agree[y == c].mean() for c in range(k)])
    margins = [np.diff(np.sort(v, axis=0)[-2:], axis=0) / np.max(np.abs(v)) for v in (scores, -dist2)]
    return out, float(min(m.min() for m in margins))


def expected_nc1(case: NC1Case) -> float:
    """(1/k) tr(Sigma_W Sigma_B^+) at 60 digits, Sigma_B^+ from eigsy (eigenvalues below
    10^-40 of the largest are the null space's)."""
    counts, k = case.counts, case.counts.k
    H = case.H
    d, n, y = H.shape[0], H.shape[1], counts.labels()
    with mpmath.workdps(tolerances.DIGITS + 10):
        M = _means(H, counts)
        Hc = mpmath.matrix(d, n)
        for i in range(n):
            for r in range(d):
                Hc[r, i] = to_mpf(H[r, i]) - M[r, y[i]]
        sigma_w = Hc * Hc.T / n
        Mc = _centre(M)
        sigma_b = Mc * Mc.T / k
        E, Q = mpmath.eigsy(sigma_b)
        top = max(abs(e) for e in E)
        pinv = mpmath.matrix(d, d)
        for j in range(d):
            if abs(E[j]) > top * mpmath.mpf(10) ** -40:
                q = Q[:, j]
                pinv += (q * q.T) / E[j]
        prod = sigma_w * pinv
        return float(mpmath.fsum(prod[i, i] for i in range(d)) / k)


def cases(profile: str) -> list[Case]:
    rng = np.random.default_rng(20221128)
    instances = [step(4, 10, "1/2", 5), from_counts([1, 2, 3, 50, 7, 1000])]
    if profile == "thorough":
        instances += [step(10, 100, "3/10", 2), from_counts(list(range(1, 11)))]
    out: list[Case] = []
    for c in instances:
        k, d = c.k, c.k + 1
        W, M = rng.standard_normal((d, k)), rng.standard_normal((d, k))
        out.append(distance_case(f"{c.describe()} random", c, W, M))
        out.append(distance_case(f"{c.describe()} random, centred", c, W, M, centred=True))
        Ws, Ms = seli_factors(c, d, seed=1)
        out.append(distance_case(f"{c.describe()} dense SELI point", c, Ws, Ms))
        out.append(distance_case(f"{c.describe()} stacked batch (2, 3)", c,
                                 rng.standard_normal((2, 3, d, k)), rng.standard_normal((2, 3, d, k))))
        if c.n <= 2000:
            H = Ms[:, c.labels()] + 0.1 * rng.standard_normal((d, c.n))
            out.append(distance_case(f"{c.describe()} noisy features, centred", c, Ws, H=H, centred=True))
            out.append(nc1_case(f"{c.describe()} noisy features", c, H))
            Hw = rng.standard_normal((k - 1, c.n)) + 3 * rng.standard_normal((k - 1, k))[:, c.labels()]
            out.append(nc1_case(f"{c.describe()} d = k - 1", c, Hw))
            out.append(measure_case(f"{c.describe()} seli measure, noisy features", c, Ws, H))
            if c is instances[0]:
                out += [stored_measure_case(f"{c.describe()} seli measure of a stored model, "
                                            f"{kind} {dtype}", c, Ws, H, kind, dtype)
                        for kind, dtype in STORED]
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, MeasureCase):
            feats = DistanceCase(case.name, case.counts, case.W, None, case.H, True, {})
            want = {key: float(v) for key, v in expected_distances(feats).items()}
            want["nc1"] = expected_nc1(NC1Case(case.name, case.counts, case.H, 0.0))
            errs = {key: abs(case.reported[key] - want[key]) / (1.0 if key != "nc1" else abs(want[key]))
                    for key in want}
            worst = max(errs, key=lambda key: errs[key] if errs[key] == errs[key] else np.inf)
            # distances as for metrics; NC1 sums O(d n) float64 products
            bound = max(tolerances.lapack(case.counts), tolerances.float64(case.H.size))
            rows.append(residual_row(f"seli measure, {case.name}", errs[worst], bound,
                                     worst=worst, errors=errs))
            rows.append(_measure_rest_row(case, bound))
            continue
        if isinstance(case, NC1Case):
            want = expected_nc1(case)
            err = abs(case.reported - want) / abs(want)
            # Sigma_W and Sigma_B sum O(d n) float64 products: tolerances.float64(d n)
            rows.append(residual_row(f"NC1, {case.name}", err, tolerances.float64(case.H.size),
                                     nc1=case.reported, expected=want))
            continue
        want = expected_distances(case)
        errs = {key: float(np.max(np.abs(np.asarray(case.reported[key]) - want[key]))
                           if np.shape(case.reported[key]) == want[key].shape else np.inf)
                for key in KEYS}
        worst = max(errs, key=lambda key: errs[key] if errs[key] == errs[key] else np.inf)
        rows.append(residual_row(f"distances, {case.name}", errs[worst],
                                 tolerances.lapack(case.counts), worst_distance=worst, errors=errs))
    return verdict(ID, rows, kind="residual")


def _measure_rest_row(case: MeasureCase, bound: float) -> dict:
    """NC2, NC3, NC4 and the norms of one `seli measure` case against expected_measure: values
    within `bound` (relative to the largest entry for the norms), NC4 equal, or undecided when a
    decision of NC4 is a near tie."""
    want, tie = expected_measure(case)
    name = f"seli measure NC2-NC4 and norms, {case.name}"
    errs = {}
    for key, w in want.items():
        got = np.asarray(case.reported.get(key, np.nan), dtype=float)
        w = np.asarray(w, dtype=float)
        if got.shape != w.shape:
            errs[key] = np.inf
        elif key.startswith("nc4"):
            errs[key] = 0.0 if np.array_equal(got, w) else np.inf
        else:
            scale = max(1.0, float(np.max(np.abs(w)))) if key.startswith("norms") else 1.0
            errs[key] = float(np.max(np.abs(got - w))) / scale
    worst = max(errs, key=lambda key: errs[key] if errs[key] == errs[key] else np.inf)
    if tie <= tolerances.nc4_tie(case.H.size) and errs["nc4"] + errs["nc4_per_class"] > 0:
        return undecided_row(name, f"an NC4 decision is a near tie (relative margin {tie:.2g})")
    return residual_row(name, errs[worst], bound, worst=worst, errors=errs, nc4_tie_margin=tie)


FIG1 = step(4, 10, "1/2", 5)


def _good() -> tuple[DistanceCase, NC1Case, MeasureCase, MeasureCase]:
    rng = np.random.default_rng(5)
    W, M = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    H = M[:, FIG1.labels()] + 0.1 * rng.standard_normal((5, FIG1.n))
    return (distance_case("fig1 random", FIG1, W, M), nc1_case("fig1", FIG1, H),
            measure_case("fig1", FIG1, W, H),
            stored_measure_case("fig1 stored", FIG1, W, H, "safetensors", "float32"))


def planted() -> dict[str, list[Case]]:
    dist, nc, meas, stored = _good()
    r = dist.reported
    half = measure(stored.W.T.astype(np.float16), stored.H.T.astype(np.float16), FIG1.labels(),
                   center="balanced")
    return {
        "class-mean distance measured against the classifier Gram": [
            replace(dist, reported={**r, "seli_embeddings": np.asarray(
                metrics.normalized_distance(metrics.gram(dist.M), metrics.reference_grams(FIG1)[0]))})],
        "SELI and ETF distances swapped": [
            replace(dist, reported={**r, "seli_classifiers": r["etf_classifiers"],
                                    "etf_classifiers": r["seli_classifiers"]})],
        "NC1 without the 1/k": [replace(nc, reported=nc.reported * FIG1.k)],
        "NC1 with n - 1 for n": [replace(nc, reported=nc.reported * FIG1.n / (FIG1.n - 1))],
        "seli measure's NC1 with n - 1 for n": [
            replace(meas, reported={**meas.reported, "nc1": meas.reported["nc1"] * FIG1.n / (FIG1.n - 1)})],
        "seli measure centring by the sample mean": [
            replace(meas, reported={**meas.reported, "seli_embeddings": float(measure(
                meas.W.T, meas.H.T, FIG1.labels(), center="weighted").distance_to_seli.embeddings)})],
        "a stored float32 model measured as if rounded to float16": [
            replace(stored, reported=_reported(half))],
        "NC3's SELI value taken as ETF's 0": [replace(meas, reported={**meas.reported, "nc3_seli": 0.0})],
        "NC4 read from the classifier alone (every example agrees)": [
            replace(meas, reported={**meas.reported, "nc4": 1.0, "nc4_per_class": np.ones(FIG1.k)})],
        "NC2 and the norms of uncentred class means": [
            replace(meas, reported={**meas.reported, **{key: v for key, v in _reported(measure(
                meas.W.T, meas.H.T, FIG1.labels(), center="none")).items() if "embeddings" in key
                and not key.endswith(("_classifiers", "_embeddings", "_logits"))}})],
        "a batch with one run's distances swapped": [
            replace(dist, W=np.stack([dist.W, 2 * dist.W]), M=np.stack([dist.M, dist.M[:, ::-1]]),
                    reported={key: np.stack([v, v]) for key, v in r.items()})],
    }


def _tied() -> MeasureCase:
    """Classes 0 and 1 share one classifier, so their examples' decisions are exact ties; the
    reported NC4 breaks them toward the later class (the judge's rule breaks them toward the
    earlier): no rule is right, so NC4 cannot be decided."""
    W, M = seli_factors(FIG1, 5, seed=0)
    W[:, 1] = W[:, 0]
    y = FIG1.labels()
    H = M[:, y] + 0.01 * np.random.default_rng(6).standard_normal((5, FIG1.n))
    case = measure_case("fig1, classes 0 and 1 share a classifier", FIG1, W, H)
    scores = W.T @ H
    later = FIG1.k - 1 - np.argmax(scores[::-1], axis=0)
    nearest = np.argmin(((H[:, None, :] - (M[:, :, None])) ** 2).sum(axis=0), axis=0)
    agree = later == nearest
    return replace(case, reported={**case.reported, "nc4": float(agree.mean()),
                                   "nc4_per_class": np.array([agree[y == c].mean() for c in range(FIG1.k)])})


def undecided() -> dict[str, list[Case]]:
    c = from_counts([1, 1, 10**13])  # cond 1e13: the float64 SELI reference cannot resolve it
    W, M = seli_factors(c, 4, seed=0)
    return {"an instance beyond float64's resolution": [distance_case("cond 1e13", c, W, M)],
            "an NC4 decided by exact ties": [_tied()]}
