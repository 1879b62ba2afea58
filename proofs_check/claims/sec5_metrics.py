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
`seli measure` (measurement.report) computes the same numbers in its own, streaming way
(features read in blocks, two passes, Sigma_W only along the centred means' directions). Every
number it reports is judged as a user reads it: the JSON object (`seli measure --json`, run
in-process through seli_cli.main, or measurement.measure's as_dict written as JSON text), parsed
back, key by key, against proofs_check.measure_reference, which evaluates each definition of
measurement.report's docstring at 60 digits apart from seli_exact (SELI's targets from the
dense route at 50 digits): the distances, NC1, NC2's equiangularity errors against ETF's cosine
-1/(k-1) and SELI's, NC3 and SELI's value, NC4 (exact fractions; a near tie with a disagreement
is undecided), the per-class norms beside SELI's at the least-squares scale and both fit
errors, and the counts, k, d and centring it says it used; a key the judge does not know, or
one it misses, refutes. Under every `--center` (balanced, weighted: minus the sample mean of
the features, none), with and without a classifier bias (which enters NC4's decisions only),
from features and from class means with counts, on arrays in memory read in blocks of 7 rows,
and on a model stored as a user's files are (the classifier k x d and the features n x d as
float16 .npy, float32 and bfloat16 .safetensors, float64 .npz and .npy, read back through
measurement.sources): the definitions are then evaluated at the stored values, which every
narrower float widens to exactly, so reading or summing in the stored precision shows as an
error of that precision's size. In the thorough profile also torch inputs (tensors given to
measurement.measure, and a .pt file given to the command); the quick profile never imports
torch.
Inputs: random (seeded), the dense route's SELI point (distance to SELI 0), noisy features; on
STEP and on count vectors with several distinct counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mpmath
import numpy as np

from seli_exact import ClassCounts, from_counts, metrics, simplex_gram, step
from seli_exact.errors import SeliInputError
from measurement.report import measure
from seli_exact.verdict import Verdict

from .. import measure_reference, tolerances
from ..evidence import failed_row, residual_row, to_mpf, undecided_row, verdict
from ..lapack import reference, seli_factors
from ..safetensors_layout import write_safetensors

ID = "sec5.metrics"
REFERENCE = "Sec. 5 (metrics of Figs 2-4), Sec. G (centring), NC1 of Papyan et al. [26]"
STATEMENT = ("seli_exact.metrics' distances of classifiers, class means (given, or from features; "
             "centred or not) and logits to SELI and ETF, and NC1, and every number `seli measure` "
             "reports (its JSON, under every centring, with and without a bias), equal their "
             "definitions evaluated at 60 digits against an independent SELI reference")
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
    """`seli measure`'s report on classifiers W (d, k) and features H (d, n) (labels
    counts.labels()) or class means M (d, k), with an optional bias (k,), centred as `center`
    says: the JSON object as a user reads it (`reported`, the text parsed back). `how` says how
    it was produced (the command, or measurement.measure in blocks of rows) and from what (arrays
    in memory, or files of a format and dtype: W, H, M and bias are then the float64 values of
    the stored numbers)."""
    name: str
    counts: ClassCounts
    W: np.ndarray
    H: np.ndarray | None
    reported: dict
    how: str
    center: str = "balanced"
    bias: np.ndarray | None = None
    M: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Entries of the features (or means) the report sums over."""
        return (self.H if self.H is not None else self.M).size


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


def json_of(m) -> dict:
    """A Measurement's JSON object as a user reads it: as_dict written as JSON text, parsed."""
    return json.loads(json.dumps(m.as_dict()))


def api_case(name, counts, W, H, *, center="balanced", bias=None, block=7) -> MeasureCase:
    """measurement.measure on arrays in memory, features read in blocks of `block` rows; a
    refusal of valid input is reported as {"error": ...} (and refuted by the judge)."""
    try:
        reported = json_of(measure(W.T, H.T, counts.labels(), center=center, bias=bias,
                                   chunk_rows=block))
    except SeliInputError as err:
        reported = {"error": f"measurement.measure refused valid input: {err}"}
    return MeasureCase(name, counts, W, H, reported, f"measurement.measure, blocks of {block} rows",
                       center, bias)


def run_measure(argv: list[str]) -> tuple[int, str, str]:
    """`seli measure ARGV --json` in-process: (exit status, stdout, stderr)."""
    from seli_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["measure", *argv, "--json", "--progress", "never"])
    return code, out.getvalue(), err.getvalue()


def _command_report(argv: list[str]) -> dict:
    """The JSON `seli measure --json` prints, parsed; {"error": ...} when it fails."""
    code, text, err = run_measure(argv)
    if code != 0:
        return {"error": f"exit {code}: {err.strip()}"}
    return json.loads(text)


def cli_case(name, counts, W, H=None, *, M=None, center="balanced", bias=None) -> MeasureCase:
    """`seli measure --json` on float64 .npy files: W as the classifier (k x d), H as the
    features (n x d) with int64 labels, or M as the class means (k x d) with --counts."""
    with tempfile.TemporaryDirectory(prefix="seli-sec5-") as folder:
        f = Path(folder)
        np.save(f / "W.npy", np.ascontiguousarray(W.T))
        argv = ["--classifier", str(f / "W.npy"), "--center", center]
        if H is not None:
            np.save(f / "H.npy", np.ascontiguousarray(H.T))
            np.save(f / "y.npy", counts.labels().astype(np.int64))
            argv += ["--features", str(f / "H.npy"), "--labels", str(f / "y.npy")]
        else:
            np.save(f / "M.npy", np.ascontiguousarray(M.T))
            argv += ["--means", str(f / "M.npy"), "--counts", ",".join(map(str, counts.counts))]
        if bias is not None:
            np.save(f / "b.npy", np.asarray(bias, dtype=float))
            argv += ["--bias", str(f / "b.npy")]
        reported = _command_report(argv)
    return MeasureCase(name, counts, W, H, reported, "seli measure --json, float64 .npy", center,
                       bias, M)


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


def stored_measure_case(name, counts, W, H, kind: str, dtype: str) -> MeasureCase:
    """`seli measure --json` on W (d, k) and H (d, n) saved as PyTorch-layout files (classifier
    k x d, features n x d, labels int64) of `kind` in `dtype`."""
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
        reported = _command_report(["--classifier", specs[0], "--features", specs[1],
                                    "--labels", specs[2]])
    return MeasureCase(name, counts, _widened(Wn, dtype).T, _widened(Hn, dtype).T, reported,
                       f"seli measure --json, {kind} {dtype}")


def torch_cases(name, counts, W, H, bias) -> list[MeasureCase]:
    """torch inputs: float32 and bfloat16 tensors given to measurement.measure (as_dict as JSON),
    and a float32 .pt file (a state dict with the bias) given to `seli measure --json`."""
    import torch

    def widen(t):  # exact: every narrower float is a float64
        return t.double().numpy()

    out = []
    for dtype in (torch.float32, torch.bfloat16):
        Wt, Ht = torch.tensor(W.T).to(dtype), torch.tensor(H.T).to(dtype)
        bt = torch.tensor(bias).to(dtype)
        m = measure(Wt, Ht, torch.tensor(counts.labels()), center="weighted", bias=bt)
        out.append(MeasureCase(f"{name}, torch {dtype}", counts, widen(Wt).T, widen(Ht).T,
                               json_of(m), f"measurement.measure, torch {dtype}", "weighted",
                               widen(bt)))
    Wt, Ht, bt = (torch.tensor(a, dtype=torch.float32) for a in (W.T, H.T, bias))
    with tempfile.TemporaryDirectory(prefix="seli-sec5-") as folder:
        f = Path(folder) / "model.pt"
        torch.save({"fc.weight": Wt, "fc.bias": bt, "features": Ht,
                    "labels": torch.tensor(counts.labels())}, f)
        reported = _command_report(["--classifier", f"{f}:fc.weight", "--bias", f"{f}:fc.bias",
                                    "--features", f"{f}:features", "--labels", f"{f}:labels",
                                    "--center", "none"])
    out.append(MeasureCase(f"{name}, a .pt state dict", counts, widen(Wt).T, widen(Ht).T,
                           reported, "seli measure --json, pt float32", "none", widen(bt)))
    return out


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


def expected_measure(case: MeasureCase) -> tuple[dict, float]:
    """The JSON object `seli measure` should have printed for the case, flattened to
    {"a.b": value} (proofs_check.measure_reference, 60 digits), and NC4's smallest relative
    decision margin."""
    want, tie = measure_reference.report(case.W, counts=case.counts, H=case.H, M=case.M,
                                         bias=case.bias, center=case.center,
                                         digits=tolerances.DIGITS)
    return measure_reference.flatten(want), tie


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
            out += measure_cases(c, Ws, Ms, H, profile, first=c is instances[0])
    return out


def measure_cases(c, W, M, H, profile: str, first: bool) -> list[MeasureCase]:
    """`seli measure` on one instance: in memory in blocks of 7 rows; through the command under
    every centring, from features and from means (on the first instance: with and without a
    bias, and from stored files); torch inputs in the thorough profile."""
    name = c.describe()
    out = [api_case(f"{name} measurement.measure, noisy features", c, W, H)]
    # a bias on the last class that moves a quarter of NC4's decisions to it: the 0.25 quantile
    # of the margins it must overcome (interpolated, so no decision becomes a tie)
    logits = W.T @ H  # (k, n)
    bias = np.zeros(c.k)
    bias[-1] = float(np.quantile(logits.max(axis=0) - logits[-1], 0.25))
    for center in measure_reference.CENTERS:
        out.append(cli_case(f"{name} seli measure --center {center}", c, W, H, center=center))
        if first or profile == "thorough":
            out.append(cli_case(f"{name} seli measure --center {center} --bias", c, W, H,
                                center=center, bias=bias))
            out.append(cli_case(f"{name} seli measure --means --center {center}", c, W,
                                M=H @ np.eye(c.k)[c.labels()] / np.asarray(c.counts)[None, :],
                                center=center))
    if first:
        out += [stored_measure_case(f"{name} seli measure of a stored model, {kind} {dtype}",
                                    c, W, H, kind, dtype) for kind, dtype in STORED]
        if profile == "thorough":
            out += torch_cases(f"{name} torch inputs", c, W, H, bias)
    return out


def judge(cases: list[Case]) -> Verdict:
    rows = []
    for case in cases:
        if isinstance(case, MeasureCase):
            rows += _measure_rows(case)
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


# keys of the report that are exact (counts, sizes, the centring named, ETF's NC3 of 0)
EXACT_KEYS = ("class_counts", "n", "k", "d", "center", "nc3.etf")


def _error(key: str, got, want) -> float:
    """|got - want| for one key of the report: relative for NC1, relative to the largest entry
    (at least 1) for the norm profiles, absolute otherwise (distances, NC2, NC3 and the fit
    errors are O(1)); inf for a number of the wrong shape or type, or None where a number is
    due."""
    if want is None or got is None:
        return 0.0 if got is None and want is None else math.inf
    try:
        g = np.asarray(got, dtype=float)
        w = np.asarray([float(x) for x in np.ravel(want)], dtype=float).reshape(np.shape(want))
    except (TypeError, ValueError):
        return math.inf
    if g.shape != w.shape:
        return math.inf
    diff = float(np.max(np.abs(g - w), initial=0.0))
    if key == "nc1":
        return diff / abs(float(w))
    if key.startswith("norms.") and key.rsplit(".", 1)[1] in ("measured", "seli", "scale"):
        return diff / max(1.0, float(np.max(np.abs(w))))
    return diff if diff == diff else math.inf


def _measure_rows(case: MeasureCase) -> list[dict]:
    """Every key of one `seli measure` report against expected_measure: no key missing or
    unknown; the exact keys equal; NC4 equal, or undecided when one of its decisions is a near
    tie; every other value within the bound of the distances (the dense route's, or O(d n)
    float64 sums for NC1 and the means)."""
    name = f"seli measure ({case.how}, --center {case.center}"
    name += ", with a bias)" if case.bias is not None else ")"
    name += f", {case.name}"
    got = measure_reference.flatten(case.reported)
    if "error" in got:
        return [failed_row(name, f"the command failed: {got['error']}")]
    want, tie = expected_measure(case)
    rows = []
    unknown, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
    if unknown or missing:
        rows.append(failed_row(f"{name}: keys", f"keys no judge knows {unknown}, missing {missing}"))
    wrong = [key for key in EXACT_KEYS if key in got and got[key] != want[key]]
    rows.append(residual_row(f"{name}: counts, sizes and centring", 0.0 if not wrong else math.inf,
                             0.0, differ={key: [got[key], want[key]] for key in wrong}))
    nc4 = [key for key in ("nc4", "nc4_per_class") if key in got]
    off = [key for key in nc4 if _error(key, got[key], want[key]) != 0.0]
    if off and tie <= tolerances.nc4_tie(case.size):
        rows.append(undecided_row(f"{name}: NC4", f"a decision is a near tie (relative margin "
                                                  f"{tie:.2g})"))
    else:
        rows.append(residual_row(f"{name}: NC4", 0.0 if not off else math.inf, 0.0,
                                 nc4=got.get("nc4"), expected=want.get("nc4"), nc4_tie_margin=tie))
    errs = {key: _error(key, got[key], want[key]) for key in want
            if key in got and key not in EXACT_KEYS and key not in nc4}
    worst = max(errs, key=lambda key: errs[key] if errs[key] == errs[key] else np.inf)
    # distances as for metrics; NC1 and the means sum O(d n) float64 products
    bound = max(tolerances.lapack(case.counts), tolerances.float64(case.size))
    rows.append(residual_row(f"{name}: values", errs[worst], bound, worst=worst, errors=errs))
    return rows


def with_reported(case: MeasureCase, **values) -> MeasureCase:
    """The case with reported values replaced, keys as flattened paths with "__" for "."
    (nc3__seli=0.0 sets reported["nc3"]["seli"])."""
    reported = json.loads(json.dumps(case.reported))
    for path, value in values.items():
        *parents, leaf = path.split("__")
        node = reported
        for key in parents:
            node = node[key]
        node[leaf] = value
    return replace(case, reported=reported)


FIG1 = step(4, 10, "1/2", 5)


def _fig1_model(seed: int = 5):
    rng = np.random.default_rng(seed)
    W, M = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    H = M[:, FIG1.labels()] + 0.1 * rng.standard_normal((5, FIG1.n))
    bias = 2.0 * rng.standard_normal(4)
    return W, M, H, bias


def _good() -> tuple[DistanceCase, NC1Case, MeasureCase, MeasureCase]:
    W, M, H, _ = _fig1_model()
    return (distance_case("fig1 random", FIG1, W, M), nc1_case("fig1", FIG1, H),
            api_case("fig1", FIG1, W, H),
            stored_measure_case("fig1 stored", FIG1, W, H, "safetensors", "float32"))


def _report_of(case: MeasureCase, **kw) -> dict:
    """What measurement.measure reports on the case's arrays with other settings (a planted
    answer: right for the settings it was made with)."""
    args = {"center": case.center, "bias": case.bias, **kw}
    return json_of(measure(case.W.T, case.H.T, case.counts.labels(), **args))


def planted() -> dict[str, list[Case]]:
    dist, nc, meas, stored = _good()
    W, M, H, bias = _fig1_model()
    r = dist.reported
    weighted = cli_case("fig1 weighted", FIG1, W, H, center="weighted")
    biased = cli_case("fig1 with a bias", FIG1, W, H, center="balanced", bias=bias)
    half = json_of(measure(stored.W.T.astype(np.float16), stored.H.T.astype(np.float16),
                           FIG1.labels(), center="balanced"))
    rep = meas.reported
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
            with_reported(meas, nc1=rep["nc1"] * FIG1.n / (FIG1.n - 1))],
        "seli measure centring by the sample mean, reported as balanced": [
            replace(meas, reported={**_report_of(meas, center="weighted"), "center": "balanced"})],
        "--center weighted centring by the mean of the class means": [
            replace(weighted, reported={**_report_of(weighted, center="balanced"),
                                        "center": "weighted"})],
        "--center weighted, NC1's Sigma_B centred by the mean of the class means": [
            with_reported(weighted, nc1=_report_of(weighted, center="balanced")["nc1"])],
        "--center none reported for weighted centring": [
            replace(weighted, reported={**_report_of(weighted, center="none"), "center": "weighted"})],
        "NC4 ignoring the classifier bias": [
            with_reported(biased, nc4=_report_of(biased, bias=None)["nc4"],
                          nc4_per_class=_report_of(biased, bias=None)["nc4_per_class"])],
        "NC4 with the bias subtracted": [
            with_reported(biased, nc4=_report_of(biased, bias=-biased.bias)["nc4"],
                          nc4_per_class=_report_of(biased, bias=-biased.bias)["nc4_per_class"])],
        "a stored float32 model measured as if rounded to float16": [replace(stored, reported=half)],
        "NC3's SELI value taken as ETF's 0": [with_reported(meas, nc3__seli=0.0)],
        "NC3 measured and SELI's swapped in the JSON": [
            with_reported(meas, nc3__seli=rep["nc3"]["measured"], nc3__measured=rep["nc3"]["seli"])],
        "NC4 read from the classifier alone (every example agrees)": [
            with_reported(meas, nc4=1.0, nc4_per_class=[1.0] * FIG1.k)],
        "NC2 and the norms of uncentred class means": [
            with_reported(meas, nc2__embeddings=_report_of(meas, center="none")["nc2"]["embeddings"],
                          norms__embeddings=_report_of(meas, center="none")["norms"]["embeddings"])],
        "the classifier and class-mean norm profiles swapped in the JSON": [
            with_reported(meas, norms__classifiers=rep["norms"]["embeddings"],
                          norms__embeddings=rep["norms"]["classifiers"])],
        "the equal-norm fit error reported as SELI's": [
            with_reported(meas, norms__embeddings__error_etf=rep["norms"]["embeddings"]["error_seli"])],
        "a JSON key the judge does not know": [with_reported(meas, nc5=0.5)],
        "a JSON key missing": [replace(meas, reported={key: v for key, v in rep.items()
                                                        if key != "nc4_per_class"})],
        "n reported for the wrong counts": [with_reported(meas, n=FIG1.n - 1)],
        "means given: NC1 reported as 0 instead of null": [
            with_reported(cli_case("fig1 means", FIG1, W, M=M), nc1=0.0)],
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
    case = api_case("fig1, classes 0 and 1 share a classifier", FIG1, W, H)
    scores = W.T @ H
    later = FIG1.k - 1 - np.argmax(scores[::-1], axis=0)
    nearest = np.argmin(((H[:, None, :] - (M[:, :, None])) ** 2).sum(axis=0), axis=0)
    agree = later == nearest
    return with_reported(case, nc4=float(agree.mean()),
                         nc4_per_class=[float(agree[y == c].mean()) for c in range(FIG1.k)])


def undecided() -> dict[str, list[Case]]:
    c = from_counts([1, 1, 10**13])  # cond 1e13: the float64 SELI reference cannot resolve it
    W, M = seli_factors(c, 4, seed=0)
    return {"an instance beyond float64's resolution": [distance_case("cond 1e13", c, W, M)],
            "an NC4 decided by exact ties": [_tied()]}
