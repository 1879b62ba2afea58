r"""`measure`: is a trained network at the SELI geometry of its own class counts, or at ETF?

One call, in PyTorch's layouts: the classifier W is (k, d) (nn.Linear.weight), features H are
(n, d), one row per training example, labels y are n integers in [0, k). numpy arrays, memory
maps and torch tensors (CPU or GPU; torch is never imported here) of float16/bfloat16/float32/
float64 are accepted and read in float64. Instead of features, class means M (k, d) with their
counts: `measure(W, M, counts=[...])`.

What is measured. Formulas are in the paper's notation, classes as columns: W = weight.T (d, k)
with columns w_c, M (d, k) with columns mu_c, Mc = M centred as `center` says with columns mu~_c;
G* = I - 11^T/k; cos the cosine.
  distance_to_seli / distance_to_etf   Section 5, via seli_exact.metrics.distances:
      classifiers  || G_W/||G_W||_F - G/||G||_F ||_F with G_W = W^T W, G = V Lam V^T (SELI) or G*;
      embeddings   the same for G_M = Mc^T Mc against V Lam^{-1} V^T (SELI) or G*;
      logits       the same for W^T Mc against G* (both geometries have W^T M = G*).
    The SELI target is the exact geometry of *these* counts, any counts (seli_exact.geometry).
  nc1   Papyan et al. (2020): NC1 = (1/k) tr(Sigma_W Sigma_B^+), Sigma_W = (1/n) sum_i (h_i -
        mu_{y_i})(h_i - mu_{y_i})^T, Sigma_B = (1/k) sum_c mu~_c mu~_c^T. The common NC code
        (Zhu et al.'s validate_NC.py, rhubarbwu/neural-collapse's covariance_pinv) centres by
        the sample mean of all features: center="weighted" reproduces it; the default balanced
        mean agrees with it on balanced data. 0 when features collapse to their class means.
  nc2   equiangularity: Avg_{c != c'} |cos(a_c, a_c') - cos*(c, c')| for a = w (classifiers) and
        a = mu~ (embeddings), against ETF's cos* = -1/(k-1) (Papyan et al.'s max-angle measure)
        and against SELI's cos* (the cosines of its Grams). The Gram-matrix structure error of
        Kothapalli (2023), || G/||G||_F - G*/||G*||_F ||_F, is distance_to_etf above; equinorm is
        in `norms`.
  nc3   self-duality: || W/||W||_F - Mc/||Mc||_F ||_F (unsquared; Papyan et al.'s NC3, as in
        nc-toolbox's nc3_self_duality). ETF predicts 0; SELI, whose classifiers and means are
        not aligned under imbalance, predicts sqrt(2 - 2 (k-1)/sqrt(tr(V Lam V^T) tr(V Lam^-1
        V^T))), reported beside it.
  nc4   agreement of the classifier with the nearest class centre: the fraction of examples with
        argmax_c (w_c^T h_i + b_c) = argmin_c ||h_i - mu_c|| (Papyan et al.'s NC4 as 1 - mismatch;
        rhubarbwu's clf_ncc_agreement), and per class. Needs features.
  norms ||w_c|| and ||mu~_c|| beside SELI's (Theorem 1 at alpha = 1) times the least-squares
        scale s = <m, p>/<p, p>, fitted separately for classifiers and embeddings (Definition 3's
        alpha, and the relative scaling between them that unequal regularization gives, footnote
        2); error_seli = ||m - s p|| / ||m||, error_etf the same for equal norms (NC2's equinorm).
`center`: "balanced" (default; minus the mean of the class means, Sec. G), "weighted" (minus the
sample mean of all features, the global mean mu_G of Papyan et al. and of the NC codebases) or
"none". It applies to embeddings, logits and NC1-NC3. SELI's class means have balanced mean 0
(M 1 = 0), so only "balanced" leaves an exact SELI configuration at distance 0 when counts are
unequal; on balanced counts "balanced" and "weighted" agree.

Scale. Every number above but the norms and their scales s is unchanged when W, the features
or the bias are multiplied by a positive constant, and it is computed so: each input is divided by
a power of two, 2^e with e from its largest entry (so the largest lies in [1/2, 1)), before
anything is squared. Division by a power of two is exact in binary floating point, so the results
are bit for bit those of the unscaled input wherever that input's own computation neither
overflows nor underflows, and inputs near 1e300 or 1e-300 are measured as well as any other (a
direct W^T W would overflow to inf or underflow to 0). The cosines behind NC2 are computed with
each vector scaled by its own power of two, so a class whose vector is 1e-300 times another's
keeps its angle. The norms are reported at their true scale (the power of two multiplied back
in); a norm beyond float64's range (about 1.8e308) is refused with one sentence.

Streaming: features are read in blocks of rows, in two passes. Pass 1 accumulates the class
counts and class sums in float64 at a power-of-two scale that follows the largest entry read so
far (and checks labels and finiteness); pass 2 accumulates the within-class scatter around the
*final* means and the NC4 decisions, which need those means.
Centring at the exact means before squaring is the textbook two-pass algorithm: the one-pass form
sum h h^T - n mu mu^T cancels catastrophically in exactly the regime NC1 is about (within-class
spread << class means). NC1 needs Sigma_W only along the k singular directions u_j of the centred
means (metrics.nc1_basis), so pass 2 accumulates sum_i (u_j^T (h_i - mu_{y_i}))^2, O(n d k) work
instead of the O(n d^2) of the whole (d, d) scatter. Memory is O(b max(d, k) + k d) for blocks of
b rows (b ~ 2^21 / max(d, k), about 16 MiB per block), whatever n is.
`progress(rows_read, rows_total)` is called after every block (rows_total = 2n, both passes).

>>> import numpy as np
>>> from seli_exact.geometry import factorize
>>> from seli_exact.svd import sel_svd
>>> from seli_exact.counts import from_counts
>>> c = from_counts([50, 50, 5, 5])
>>> W, M = factorize(sel_svd(c), d=6, seed=0)              # Theorem 1 (iii), columns
>>> H, y = M[:, c.labels()].T, c.labels()                   # (n, d) features, (n,) labels
>>> m = measure(W.T, H, y)                                  # W.T: (k, d) like nn.Linear.weight
>>> bool(m.distance_to_seli.classifiers < 1e-12 < 0.1 < m.distance_to_etf.classifiers)
True
>>> m.nc4
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from seli_exact.arithmetic import arithmetic
from seli_exact.counts import ClassCounts
from seli_exact.errors import SeliInputError
from seli_exact.metrics import (
    CENTERS,
    Distances,
    angle_error,
    as_counts,
    centred_means,
    cosines_from_gram,
    distances,
    fitted_norms,
    gram,
    nc1_basis,
    reference_grams,
    reference_self_duality,
    self_duality,
)
from seli_exact.precision import default_rtol
from .sources import torch_problem

# elements of float64 per block of rows: 16 MiB, so a block of a (n, 512) input is 4096 rows
BLOCK_ELEMENTS = 2**21

_NAMES = {"classifier": "`W` (classifier)", "features": "`H` (features)", "labels": "`y` (labels)",
          "means": "`M` (class means)", "counts": "`counts`", "bias": "`bias`"}


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class AngleErrors:
    """NC2's equiangularity error of one kind of vector against ETF's and SELI's angles."""

    etf: float
    seli: float

    def __post_init__(self):
        for name in ("etf", "seli"):
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= 2.0):
                raise ValueError(f"AngleErrors.{name} must lie in [0, 2]; got {v}")

    def as_dict(self) -> dict:
        return {"etf": self.etf, "seli": self.seli}


@dataclass(frozen=True, eq=False)
class NormProfile:
    """Per-class norms (k,) measured and as SELI predicts them at the best-fitting scale."""

    measured: np.ndarray  # (k,)
    seli: np.ndarray  # (k,) = scale * SELI's norms at Theorem 1's scale (alpha = 1)
    scale: float
    error_seli: float  # ||measured - seli|| / ||measured||
    error_etf: float  # the same against equal norms at their best scale (their mean)

    def __post_init__(self):
        if self.measured.shape != self.seli.shape or self.measured.ndim != 1:
            raise ValueError(f"NormProfile shapes {self.measured.shape} and {self.seli.shape}")
        if not (np.all(np.isfinite(self.measured)) and np.all(np.isfinite(self.seli))):
            raise ValueError("NormProfile norms must be finite")

    def as_dict(self) -> dict:
        return {"measured": self.measured.tolist(), "seli": self.seli.tolist(),
                "scale": self.scale, "error_seli": self.error_seli, "error_etf": self.error_etf}


@dataclass(frozen=True, eq=False)
class Measurement:
    """What `measure` found; `as_dict()` is the JSON `seli measure --json` prints.

    W_gram and M_gram (k, k) are the measured Grams normalized, G/||G||_F (M centred): the
    matrices Sec. 5's distances compare, finite for any finite input; kept for the figure and
    left out of the JSON. nc1, nc4 and nc4_per_class are None when only class means were given.
    """

    class_counts: tuple[int, ...]
    d: int
    center: str
    distance_to_seli: Distances
    distance_to_etf: Distances
    nc1: float | None
    nc2_classifiers: AngleErrors
    nc2_embeddings: AngleErrors
    nc3: float
    nc3_seli: float
    nc4: float | None
    nc4_per_class: np.ndarray | None
    classifier_norms: NormProfile
    embedding_norms: NormProfile
    W_gram: np.ndarray = field(repr=False)
    M_gram: np.ndarray = field(repr=False)

    def __post_init__(self):
        k = self.k
        if self.center not in CENTERS:
            raise ValueError(f"Measurement.center must be one of {CENTERS}; got {self.center!r}")
        for label, A in (("W_gram", self.W_gram), ("M_gram", self.M_gram)):
            if A.shape != (k, k):
                raise ValueError(f"Measurement.{label} has shape {A.shape}, expected ({k}, {k})")
        for p in (self.classifier_norms, self.embedding_norms):
            if p.measured.shape != (k,):
                raise ValueError(f"Measurement norms have shape {p.measured.shape}, expected ({k},)")
        values = [self.nc3, self.nc3_seli]
        for dist in (self.distance_to_seli, self.distance_to_etf):
            values += [dist.classifiers, dist.embeddings, dist.logits]
        if not all(math.isfinite(v) and v >= 0.0 for v in values):
            raise ValueError(f"Measurement distances must be finite and >= 0; got {values}")
        if self.nc1 is not None and not math.isfinite(self.nc1):
            raise ValueError(f"Measurement.nc1 must be finite; got {self.nc1}")
        if (self.nc4 is None) != (self.nc4_per_class is None):
            raise ValueError("Measurement.nc4 and nc4_per_class come together")
        if self.nc4 is not None and not (0.0 <= self.nc4 <= 1.0 and self.nc4_per_class.shape == (k,)):
            raise ValueError(f"Measurement.nc4 must be a fraction with one per class; got {self.nc4}")

    @property
    def k(self) -> int:
        return len(self.class_counts)

    @property
    def n(self) -> int:
        return sum(self.class_counts)

    @property
    def counts(self) -> ClassCounts:
        return ClassCounts(self.class_counts)

    def as_dict(self) -> dict:
        return {
            "class_counts": list(self.class_counts),
            "n": self.n,
            "k": self.k,
            "d": self.d,
            "center": self.center,
            "distance_to_seli": _floats(self.distance_to_seli),
            "distance_to_etf": _floats(self.distance_to_etf),
            "nc1": self.nc1,
            "nc2": {"classifiers": self.nc2_classifiers.as_dict(),
                    "embeddings": self.nc2_embeddings.as_dict()},
            "nc3": {"measured": self.nc3, "seli": self.nc3_seli, "etf": 0.0},
            "nc4": self.nc4,
            "nc4_per_class": None if self.nc4_per_class is None else self.nc4_per_class.tolist(),
            "norms": {"classifiers": self.classifier_norms.as_dict(),
                      "embeddings": self.embedding_norms.as_dict()},
        }


def _floats(d: Distances) -> dict:
    return {"classifiers": float(d.classifiers), "embeddings": float(d.embeddings),
            "logits": float(d.logits)}


# --------------------------------------------------------------------------- inputs


def _is_torch(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


class _Rows:
    """Row-block access to an input in float64 or int64, whatever it is stored as."""

    def __init__(self, x, name: str):
        self.name = name
        self.torch = _is_torch(x)
        if not self.torch and not (hasattr(x, "shape") and hasattr(x, "dtype")):
            try:
                x = np.asarray(x)
            except (ValueError, TypeError):
                raise SeliInputError(
                    f"{name} must be an array; got a {type(x).__name__} numpy cannot read as one. "
                    "Pass a numpy array or a torch tensor."
                ) from None
        if self.torch and (problem := torch_problem(x)) is not None:
            raise SeliInputError(f"{name} {problem}.")
        self.x = x
        self.shape = tuple(int(s) for s in x.shape)
        if self.torch:
            self.dtype_name = str(x.dtype).removeprefix("torch.")
            self.kind = ("f" if x.is_floating_point() else "c" if x.is_complex()
                         else "b" if self.dtype_name == "bool" else "i")
        else:
            dt = np.dtype(x.dtype)
            self.dtype_name = getattr(x, "dtype_name", dt.name)
            self.kind = {"f": "f", "i": "i", "u": "i", "b": "b"}.get(dt.kind, dt.kind)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def rows(self, i: int, j: int, dtype) -> np.ndarray:
        part = self.x[i:j]
        if self.torch:
            part = part.detach().cpu()
            part = part.double() if dtype is np.float64 else part.long()
            return part.numpy()
        return np.asarray(part, dtype=dtype)

    def all(self, dtype) -> np.ndarray:
        return self.rows(0, self.shape[0], dtype)


def _float_input(x, name: str, ndim: int, layout: str) -> _Rows:
    """A floating-point input of `ndim` axes; `layout` says what one was expected to be."""
    r = _Rows(x, name)
    if r.ndim != ndim:
        raise SeliInputError(f"{name} must be a {ndim}-D array; got shape {r.shape}. Pass {layout}.")
    if r.kind == "c":
        raise SeliInputError(
            f"{name} must hold real numbers; got complex dtype {r.dtype_name}. The geometry is "
            "of real vectors: save the real part (x.real) if the imaginary parts are zero."
        )
    if r.kind != "f":
        raise SeliInputError(
            f"{name} must hold floating-point numbers; got dtype {r.dtype_name}. "
            "Save it as float16, float32 or float64."
        )
    return r


def _check_finite(A: np.ndarray, name: str, first_row: int = 0) -> None:
    if not np.all(np.isfinite(A)):
        bad = np.argwhere(~np.isfinite(A))[0]
        raise SeliInputError(
            f"{name} holds NaN or inf (first at row {first_row + int(bad[0])}); measure a "
            "checkpoint from before training diverged, or check that the file is complete."
        )


def _label_input(y, name: str, n: int, k: int) -> _Rows:
    r = _Rows(y, name)
    if r.ndim == 2 and r.shape == (n, k):
        raise SeliInputError(
            f"{name} must be n class indices; got one-hot rows of shape {r.shape}. "
            "Pass y.argmax(1)."
        )
    if r.ndim != 1:
        raise SeliInputError(
            f"{name} must be a 1-D array of n class indices; got shape {r.shape}. "
            "Pass one integer label per example."
        )
    if r.kind != "i":
        raise SeliInputError(
            f"{name} must hold integer class indices; got dtype {r.dtype_name}. "
            "Save the labels as integers (y.astype(np.int64))."
        )
    if r.shape[0] != n:
        raise SeliInputError(
            f"{name} has {r.shape[0]} labels but the features have {n} rows; pass the labels "
            "of exactly these examples, in the same order."
        )
    return r


# --------------------------------------------------------------------------- the passes


# --------------------------------------------------------------------------- scale


def _exponent(A) -> int | None:
    """e with max |A| / 2^e in [1/2, 1), or None when A is all zeros (or empty)."""
    A = np.asarray(A)
    top = max(float(A.max()), -float(A.min())) if A.size else 0.0  # no |A| temporary
    return None if top == 0.0 else math.frexp(top)[1]


def _times_pow2(A: np.ndarray, e: int) -> np.ndarray:
    """A * 2^e, exactly rounded (np.ldexp), as a plain product where 2^e is a normal float."""
    if e == 0:
        return A
    return A * 2.0**e if -1022 <= e <= 1023 else np.ldexp(A, e)


def _by_column(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A with each column divided by its own power of two, the exponents (k,)): the cosines
    between the columns are unchanged, bit for bit, and no column underflows beside another."""
    _, e = np.frexp(np.max(np.abs(A), axis=0))  # (k,); 0 for a zero column
    return np.ldexp(A, -e), e


def _true_norms(A: np.ndarray, e: int, what: str) -> np.ndarray:
    """The column norms (k,) of A * 2^e, from A (d, k) without forming A * 2^e."""
    As, ec = _by_column(A)
    return _representable(lambda: np.ldexp(np.linalg.norm(As, axis=0), ec + e), what)


def _representable(compute, what: str):
    """compute() (an ldexp back to the true scale), refused in one sentence when it overflows."""
    with np.errstate(over="ignore"):  # the overflow is the sentence below, not a warning
        x = compute()
    if not np.all(np.isfinite(x)):
        raise SeliInputError(
            f"{what} exceed float64's range (about 1.8e308), so they cannot be reported; divide "
            "the input by a power of two (every distance and NC statistic is scale-invariant)."
        )
    return x


def _block_rows(n: int, width: int, chunk_rows: int | None) -> int:
    if chunk_rows is not None:
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
            raise SeliInputError(
                f"`chunk_rows` must be a whole number >= 1; got {chunk_rows!r}. Leave it unset."
            )
        return chunk_rows
    return max(1, min(max(n, 1), BLOCK_ELEMENTS // max(width, 1)))


def _class_sums(Hb: np.ndarray, yb: np.ndarray, k: int) -> np.ndarray:
    """sum of the rows of Hb (b, d) per label (b,): (k, d), one sorted pass (O(b d), any k)."""
    order = np.argsort(yb, kind="stable")
    ys = yb[order]
    starts = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])
    out = np.zeros((k, Hb.shape[1]))
    out[ys[starts]] = np.add.reduceat(Hb[order], starts, axis=0)
    return out


def _first_pass(H: _Rows, y: _Rows, k: int, block: int, tick,
                names) -> tuple[np.ndarray, np.ndarray, int]:
    """(counts (k,), class sums (k, d) divided by 2^e, e): e follows the largest entry read so
    far (the sums are rescaled, exactly, when a larger one comes), so the sums neither overflow
    nor underflow whatever the scale of H. Checks labels and finiteness on the way."""
    n, d = H.shape
    counts = np.zeros(k, dtype=np.int64)
    sums = np.zeros((k, d))
    e = None
    for i in range(0, n, block):
        j = min(n, i + block)
        Hb = H.rows(i, j, np.float64)  # (b, d)
        _check_finite(Hb, names["features"], i)
        yb = y.rows(i, j, np.int64)  # (b,)
        bad = (yb < 0) | (yb >= k)
        if np.any(bad):
            at = int(np.flatnonzero(bad)[0])
            raise SeliInputError(
                f"{names['labels']} must lie in [0, {k}) for the {k} classifier rows; got label "
                f"{int(yb[at])} at row {i + at}. Check that the labels count from 0 and that the "
                "classifier is the network's last layer."
            )
        eb = _exponent(Hb)
        if eb is not None and (e is None or eb > e):
            if e is not None:
                sums = np.ldexp(sums, e - eb)
            e = eb
        counts += np.bincount(yb, minlength=k)
        sums += _class_sums(Hb if e is None else _times_pow2(Hb, -e), yb, k)
        tick(j - i)
    return counts, sums, (0 if e is None else e)


def _second_pass(H: _Rows, y: _Rows, W: np.ndarray, logit_bias, M: np.ndarray, e: int,
                 U: np.ndarray, block: int, tick) -> tuple[np.ndarray, np.ndarray]:
    """(sum_i (u_j^T (h_i - mu_{y_i}))^2 / 4^e for the NC1 directions U (d, r): (r,), NC4 hits
    per class (k,)), around the final means M (k, d) divided by 2^e, the rows of H divided by
    2^e too. `logit_bias` is (shift, b) from _logit_bias, or None: the logits are the products
    with W times 2^shift, plus b."""
    n, d = H.shape
    k = M.shape[0]
    quad = np.zeros(U.shape[1])
    hits = np.zeros(k, dtype=np.int64)
    WM = np.concatenate([W, M]).T  # (d, 2k): one product gives logits and centre scores
    half_sq = 0.5 * np.einsum("cd,cd->c", M, M)  # ||mu_c||^2 / 2
    for i in range(0, n, block):
        j = min(n, i + block)
        Hb = _times_pow2(H.rows(i, j, np.float64), -e)  # (b, d), at the scale of M
        yb = y.rows(i, j, np.int64)  # (b,)
        D = Hb - M[yb]  # (b, d) h_i - mu_{y_i}, each entry rounded relative to itself
        P = D @ U  # (b, r) projections on the NC1 directions
        quad += np.einsum("bj,bj->j", P, P)
        S = Hb @ WM  # (b, 2k)
        if logit_bias is None:
            logits = S[:, :k]
        else:
            shift, b = logit_bias
            logits = (S[:, :k] if shift == 0 else np.ldexp(S[:, :k], shift)) + b
        # argmin_c ||h - mu_c||^2 = argmax_c (h . mu_c - ||mu_c||^2 / 2)
        ncc = np.argmax(S[:, k:] - half_sq, axis=1)
        agree = np.argmax(logits, axis=1) == ncc
        hits += np.bincount(yb[agree], minlength=k)
        tick(j - i)
    return quad, hits


# --------------------------------------------------------------------------- measure


def measure(W, H, y=None, *, counts=None, center: str = "balanced", bias=None,
            progress: Callable[[int, int], None] | None = None, chunk_rows: int | None = None,
            names: dict | None = None) -> Measurement:
    """Measure classifiers W (k, d) and features H (n, d) with labels y (n,) against SELI and ETF.

    Or class means: `measure(W, M, counts=...)` with M (k, d) and the k class counts (plain counts
    or a ClassCounts); NC1 and NC4 then need features and are None. `bias` (k,) enters NC4's
    classifier decisions only (Sec. 5's metrics are about W). `names` maps "classifier",
    "features", "labels", "means", "counts", "bias" to how error messages name them (the CLI
    passes its flags and files). See the module docstring for every number returned.
    """
    names = {**_NAMES, **(names or {})}
    if center not in CENTERS:
        raise SeliInputError(
            f"`center` must be one of {', '.join(CENTERS)}; got {center!r}. "
            "Use balanced (the mean of the class means, Sec. G) unless you mean otherwise."
        )
    Wr = _float_input(W, names["classifier"], 2, "one row per class (k x d, like nn.Linear.weight)")
    k, d = Wr.shape
    if k < 2:
        raise SeliInputError(
            f"{names['classifier']} must have one row per class and at least 2 classes; got shape "
            f"{Wr.shape}. Pass nn.Linear.weight (k x d) of the last layer."
        )
    Wn = Wr.all(np.float64)  # (k, d)
    _check_finite(Wn, names["classifier"])
    zero = np.flatnonzero(~np.any(Wn != 0, axis=1)).tolist()
    if zero:
        raise SeliInputError(
            f"{names['classifier']} has all-zero rows {zero[:10]}; their angles are undefined, so "
            "measure a classifier with every class's weights trained."
        )
    b = None
    if bias is not None:
        br = _float_input(bias, names["bias"], 1, "one value per class (nn.Linear.bias)")
        if br.shape != (k,):
            raise SeliInputError(
                f"{names['bias']} must hold one value per class, ({k},); got shape {br.shape}. "
                "Pass the bias of the same nn.Linear as the classifier."
            )
        b = br.all(np.float64)
        _check_finite(b, names["bias"])

    what = "features" if y is not None else "means"
    Hr = _float_input(H, names[what], 2, "one row per example (n x d), flattened after the last "
                      "hidden layer" if y is not None else "one row per class (k x d)")
    if Hr.shape[1] != d:
        transposed = " (stored d x k? nn.Linear.weight is k x d: pass its transpose)" \
            if Hr.shape[1] == k else ""
        raise SeliInputError(
            f"{names[what]} has {Hr.shape[1]} columns but {names['classifier']} has {d}"
            f"{transposed}; pass {'features' if y is not None else 'class means'} of the layer "
            "the classifier reads, one row each."
        )
    if d < k - 1:
        raise SeliInputError(
            f"{names['classifier']} is {k} x {d}: d = {d} < k - 1 = {k - 1}, and neither SELI nor "
            f"ETF exists in fewer than k - 1 dimensions (Theorem 1 needs d >= k - 1); measure a "
            f"layer with at least {k - 1} features."
        )

    ew = _exponent(Wn)  # not None: W has no zero row
    Ws = np.ldexp(Wn, -ew)  # (k, d), W / 2^ew
    nc1 = nc4 = nc4_per_class = None
    if y is not None:
        n = Hr.shape[0]
        yr = _label_input(y, names["labels"], n, k)
        block = _block_rows(n, max(d, k), chunk_rows)
        done = [0]

        def tick(rows: int) -> None:
            done[0] += rows
            if progress is not None:
                progress(done[0], 2 * n)

        cnt, sums, e = _first_pass(Hr, yr, k, block, tick, names)
        empty = np.flatnonzero(cnt == 0).tolist()
        if empty:
            shown = ", ".join(map(str, empty[:10])) + (", ..." if len(empty) > 10 else "")
            raise SeliInputError(
                f"{names['labels']} has no example of class{'es' if len(empty) > 1 else ''} "
                f"{shown} of the {k} classifier rows; measure on the whole training set, since "
                "every class needs an example for its mean."
            )
        class_counts = ClassCounts(tuple(int(c) for c in cnt))
        if counts is not None and tuple(as_counts(counts).counts) != class_counts.counts:
            raise SeliInputError(
                f"{names['counts']} {list(as_counts(counts).counts)} differ from the counts of "
                f"{names['labels']}, {list(class_counts.counts)}; drop `counts` (the labels give "
                "them) or pass the matching labels."
            )
        M = sums / cnt[:, None]  # (k, d), the class means / 2^e
        Mc, em = _centred(M, center, class_counts, names["features"])  # (d, k), Mc_true / 2^(e+em)
        U, w = nc1_basis(Mc)  # (d, r), (r,): w = 1/s^2 at the scale of Mc
        quad, hits = _second_pass(Hr, yr, Ws, _logit_bias(b, e + ew), M, e, U, block, tick)
        # sum_j u_j^T Sigma_W u_j / s_j^2; quad is at scale 4^-e and w at 4^(e+em), so NC1 is
        # their sum times 4^-em (exact: a power of two)
        nc1 = float(_representable(lambda: np.ldexp(np.sum(quad / n * w), -2 * em),
                                   "NC1 (the within-class spread beside the class means)"))
        em += e
        nc4_per_class = hits / cnt
        nc4 = float(hits.sum() / n)
    else:
        if Hr.shape[0] != k:
            raise SeliInputError(
                f"{names['means']} has {Hr.shape[0]} rows but {names['classifier']} has {k}; "
                "pass one class mean per classifier row (k x d)."
            )
        if counts is None:
            raise SeliInputError(
                f"class means need their class counts; got {names['means']} without `counts`. "
                "Pass counts=[n_1, ..., n_k] (or features with labels instead)."
            )
        class_counts = as_counts(counts)
        if class_counts.k != k:
            raise SeliInputError(
                f"{names['counts']} lists {class_counts.k} classes but {names['classifier']} has "
                f"{k} rows; give one count per class."
            )
        M = Hr.all(np.float64)  # (k, d)
        _check_finite(M, names["means"])
        Mc, em = _centred(M, center, class_counts, names["means"])  # (d, k), Mc_true / 2^em
    return _result(Wn, ew, Mc, em, class_counts, center, nc1, nc4, nc4_per_class, names)


def _logit_bias(b: np.ndarray | None, c: int):
    """How pass 2 adds the bias to logits computed at scale 2^-c (W / 2^ew times H / 2^e, c =
    e + ew): (shift, b / 2^L) with L = max(c, the exponent of b), so that both terms of
    (products * 2^shift + b / 2^L) = logits / 2^L stay in range; None for no bias (or a zero
    one). shift = c - L is 0 unless the bias dwarfs the products."""
    eb = None if b is None else _exponent(b)
    if eb is None:
        return None
    top = max(c, eb)
    return c - top, np.ldexp(b, -top)


def _centred(M: np.ndarray, center: str, counts: ClassCounts, name: str) -> tuple[np.ndarray, int]:
    """(Mc (d, k), e): the class means (k, d) centred as columns, divided by 2^e so that the
    largest entry lies in [1/2, 1) (the means are scaled before centring and again after, since
    centring can cancel most of their size); none of them may sit at the centre."""
    e0 = _exponent(M) or 0
    M = np.ldexp(M, -e0)
    Mc = centred_means(M.T, center, counts)  # (d, k)
    # centring leaves rounding of about 2^-52 ||mu||: a mean within 2^-43 of the centre (the
    # float64 tolerance, a margin of 2^9) has no direction to measure
    floor = default_rtol(arithmetic("float64")) * np.linalg.norm(M, axis=1).max()
    zero = np.flatnonzero(np.linalg.norm(Mc, axis=0) <= floor).tolist()
    if zero:
        raise SeliInputError(
            f"the {center}-centred class means of classes {zero[:10]} are zero (they sit at the "
            f"centre), so their angles are undefined; check {name}"
            + (", or try center none." if center != "none" else ".")
        )
    e1 = _exponent(Mc)  # not None: no column is zero
    return np.ldexp(Mc, -e1), e0 + e1


def _result(W, ew: int, Mc, em: int, counts: ClassCounts, center, nc1, nc4, nc4_per_class,
            names) -> Measurement:
    """Everything but the passes, in the paper's column layout (metrics' (d, k)), from W (k, d)
    as given, ew its exponent, and the centred means Mc (d, k) divided by 2^em."""
    Wcols, _ = _by_column(W.T)  # NC2's cosines and the norms: each vector at its own scale
    Mcols, _ = _by_column(Mc)
    Wp = np.ldexp(W.T, -ew)  # (d, k): W / 2^ew, whose Gram cannot overflow
    w_norms = _true_norms(W.T, 0, f"the row norms of {names['classifier']}")  # (k,)
    m_norms = _true_norms(Mc, em, "the norms of the centred class means")  # (k,)
    dist = distances(Wp, Mc, counts)  # Mc is centred already
    G_W_seli, G_M_seli, G_star = reference_grams(counts)
    k = counts.k
    etf_cos = G_star / G_star[0, 0]  # 1 on the diagonal, -1/(k-1) off it
    seli_w_norms = np.sqrt(np.diagonal(G_W_seli))
    seli_m_norms = np.sqrt(np.diagonal(G_M_seli))

    def norm_profile(measured, predicted, what) -> NormProfile:
        e = _exponent(measured)  # fitted at a scale where the squares cannot overflow
        scaled = np.ldexp(measured, -e)
        s, err = fitted_norms(scaled, predicted)
        _, err_etf = fitted_norms(scaled, np.ones(k))
        seli = _representable(lambda: np.ldexp(s * predicted, e),
                              f"SELI's {what} at the fitted scale")
        return NormProfile(measured, seli, float(np.ldexp(s, e)), err, err_etf)

    def unit_gram(A):
        G = gram(A)
        return G / np.linalg.norm(G)

    return Measurement(
        class_counts=counts.counts,
        d=int(W.shape[1]),
        center=center,
        distance_to_seli=Distances(*(float(v) for v in (dist.seli.classifiers, dist.seli.embeddings,
                                                        dist.seli.logits))),
        distance_to_etf=Distances(*(float(v) for v in (dist.etf.classifiers, dist.etf.embeddings,
                                                       dist.etf.logits))),
        nc1=nc1,
        nc2_classifiers=AngleErrors(float(angle_error(Wcols, etf_cos)),
                                    float(angle_error(Wcols, cosines_from_gram(G_W_seli)))),
        nc2_embeddings=AngleErrors(float(angle_error(Mcols, etf_cos)),
                                   float(angle_error(Mcols, cosines_from_gram(G_M_seli)))),
        nc3=float(self_duality(Wp, Mc)),
        nc3_seli=reference_self_duality(counts),
        nc4=nc4,
        nc4_per_class=nc4_per_class,
        classifier_norms=norm_profile(w_norms, seli_w_norms, "classifier norms"),
        embedding_norms=norm_profile(m_norms, seli_m_norms, "class-mean norms"),
        W_gram=unit_gram(Wp),
        M_gram=unit_gram(Mc),
    )


__all__ = ["measure", "Measurement", "AngleErrors", "NormProfile", "BLOCK_ELEMENTS"]
