"""Labelled image data for the deep-net experiments (Sec. 5, Fig 2), and STEP subsampling.

Readers for the files torchvision leaves on disk, without torchvision and without downloading:

  MNIST          <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
  Fashion-MNIST  <root>/FashionMNIST/raw/  (same names)
  CIFAR10        <root>/cifar-10-batches-py/{data_batch_1..5, test_batch}  (python pickles)

and a built-in default needing no files: scikit-learn's bundled handwritten digits (8x8, 10
classes, about 180 images per class). Every reader returns a `LabelledData` with images as
float32 (N, C, H, W) in [0, 1] and int64 labels.

`subsample` turns any of them into a training set with given class counts (class c keeps n_c
images, chosen by a seeded generator); `step_subsample` is the (R, rho)-STEP case (Definition 1:
classes 0..m-1, majorities first, keep R * n_min, classes m..k-1 keep n_min) and
`profile_subsample` a count profile such as the exponential long tail. The resulting
`ClassCounts` and a hash of the chosen indices are recorded.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from seli_exact.counts import ClassCounts, long_tailed, parse_profile, step
from seli_exact.errors import SeliInputError
from seli_exact.validate import rational, whole

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
# each data set's image shape (C, H, W) and training-set class sizes, as the readers return the
# original files (digits: scikit-learn's bundled copy); a run's cost is estimated from them
# before any file is read (training.deepnet_config.DeepNetConfig.seconds_estimate)
SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28),
          "cifar10": (3, 32, 32)}
CLASS_SIZES = {
    "digits": (178, 182, 177, 183, 181, 182, 181, 179, 174, 180),
    "mnist": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    "fashion-mnist": (6000,) * 10,
    "cifar10": (5000,) * 10,
}

_IDX_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_IDX_SOURCE = {
    "mnist": "http://yann.lecun.com/exdb/mnist/ (or torchvision.datasets.MNIST(root, download=True))",
    "fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist "
    "(or torchvision.datasets.FashionMNIST(root, download=True))",
}
_CIFAR_SOURCE = (
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, unpacked under the data root "
    "(or torchvision.datasets.CIFAR10(root, download=True))"
)


@dataclass(frozen=True)
class LabelledData:
    """Images x (N, C, H, W) float32 in [0, 1] and labels y (N,) int64 in 0..k-1."""

    name: str
    x: np.ndarray
    y: np.ndarray
    k: int
    source: str = ""

    def __post_init__(self):
        if self.x.ndim != 4 or self.y.ndim != 1 or self.x.shape[0] != self.y.shape[0]:
            raise SeliInputError(
                f"`x` must be (N, C, H, W) with one label per image; got x {self.x.shape} and "
                f"y {self.y.shape}. Check the data files."
            )
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.k):
            raise SeliInputError(
                f"labels must lie in 0..{self.k - 1}; got {int(self.y.min())}..{int(self.y.max())}. "
                "Check the label file."
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x.shape[1:])

    def class_sizes(self) -> np.ndarray:
        return np.bincount(self.y, minlength=self.k)


# ---------------------------------------------------------------- readers

def load_digits() -> LabelledData:
    """scikit-learn's bundled 8x8 handwritten digits: 1797 images, 10 classes, no files needed."""
    from sklearn.datasets import load_digits as _sk_digits

    d = _sk_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]  # pixel values are 0..16
    return LabelledData("digits", x, d.target.astype(np.int64), 10, "sklearn.datasets.load_digits")


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """An array from an IDX file (LeCun's format; gzip-compressed when the name ends in .gz).

    Header: two zero bytes, a type byte (0x08 = unsigned byte, ...), the number of dimensions,
    then each dimension as a big-endian int32; the data follow in C order.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:  # unreadable, or not (whole) gzip data
        raise SeliInputError(
            f"{path} cannot be read as an IDX file ({type(err).__name__}: {err}); replace it "
            "with the original download."
        ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise SeliInputError(
            f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}); "
            "replace it with the original download."
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    size = int(np.prod(shape)) if shape else 1
    if len(raw) != offset + size * dtype.itemsize:
        raise SeliInputError(
            f"{path} holds {len(raw) - offset} data bytes but its header promises shape {shape}; "
            "the file is truncated or corrupt, so replace it with the original download."
        )
    return np.frombuffer(raw, dtype, count=size, offset=offset).reshape(shape)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dataset(name: str, root, *, train: bool = True) -> LabelledData:
    """MNIST or Fashion-MNIST from torchvision's raw folder <root>/{MNIST,FashionMNIST}/raw."""
    if name not in _IDX_FOLDER:
        raise SeliInputError(
            f"`name` must be one of {sorted(_IDX_FOLDER)} for IDX files; got {name!r}. "
            "Use load_cifar10 for CIFAR10."
        )
    folder = Path(root) / _IDX_FOLDER[name] / "raw"
    prefix = "train" if train else "t10k"
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    paths = [_find(folder, n) for n in names]
    if any(p is None for p in paths):
        raise SeliInputError(
            f"{name} needs {names[0]}[.gz] and {names[1]}[.gz] in {folder}; nothing is "
            f"downloaded at run time, so fetch them from {_IDX_SOURCE[name]} and pass "
            "--data-root to the folder that holds "
            f"{_IDX_FOLDER[name]}/raw."
        )
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise SeliInputError(
            f"{name} files in {folder} disagree: images {images.shape}, labels {labels.shape}; "
            "expected (N, H, W) images and N labels, so replace them with the original download."
        )
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return LabelledData(name, x, labels.astype(np.int64), 10, str(folder))


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a data file must not run code."""

    _reconstruct = np.zeros(1).__reduce__()[0]  # numpy's array reconstructor, any numpy version
    _frombuffer = np.zeros(1).__reduce_ex__(5)[0]  # the same for pickle protocol 5
    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): __import__("_codecs").encode,
    }

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a data file") from None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        # latin1: the original batches are Python 2 pickles (as torchvision reads them)
        batch = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, OSError) as err:
        raise SeliInputError(
            f"{path} is not a CIFAR10 python batch ({err}); replace it with the file from "
            f"{_CIFAR_SOURCE}."
        ) from None
    get = lambda key: batch.get(key, batch.get(key.encode())) if isinstance(batch, dict) else None  # noqa: E731
    data, labels = get("data"), get("labels")
    if data is None or labels is None:
        raise SeliInputError(
            f"{path} lacks the 'data' and 'labels' entries of a CIFAR10 batch; replace it with "
            f"the file from {_CIFAR_SOURCE}."
        )
    data = np.asarray(data, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != labels.shape[0]:
        raise SeliInputError(
            f"{path} holds data {data.shape} and {labels.shape[0]} labels; a CIFAR10 batch has "
            "(N, 3072) bytes and N labels, so replace it with the original download."
        )
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(root, *, train: bool = True) -> LabelledData:
    """CIFAR10 from torchvision's folder <root>/cifar-10-batches-py (python pickle batches)."""
    folder = Path(root) / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        wanted = "data_batch_1..data_batch_5" if train else "test_batch"
        raise SeliInputError(
            f"cifar10 needs {wanted} in {folder} (missing: {', '.join(missing)}); "
            f"nothing is downloaded at run time, so fetch {_CIFAR_SOURCE} and pass --data-root "
            "to the folder that holds cifar-10-batches-py."
        )
    parts = [_read_cifar_batch(folder / n) for n in names]
    x = np.concatenate([p[0] for p in parts]).astype(np.float32) / 255.0
    y = np.concatenate([p[1] for p in parts])
    return LabelledData("cifar10", x, y, 10, str(folder))


def load_dataset(name: str, root=None, *, train: bool = True) -> LabelledData:
    """One of DATASETS by name; `root` is torchvision's data root (unused for digits)."""
    if name == "digits":
        return load_digits()
    if name not in DATASETS:
        raise SeliInputError(
            f"`dataset` must be one of {', '.join(DATASETS)}; got {name!r}. "
            "Use digits for the built-in set that needs no files."
        )
    if root is None:
        raise SeliInputError(
            f"{name} is read from files, but no data root was given; pass --data-root DIR "
            "(the folder torchvision downloads into), or use --dataset digits."
        )
    if name == "cifar10":
        return load_cifar10(root, train=train)
    return load_idx_dataset(name, root, train=train)


# ---------------------------------------------------------------- subsampling to class counts

@dataclass(frozen=True)
class Subset:
    """A training set drawn from a data set to class counts: data ordered by class (for STEP,
    majorities first).

    `indices` are positions in the source data, in the order of `data`; `counts` is the
    resulting class-count vector (its labels() equals data.y).
    """

    data: LabelledData
    counts: ClassCounts
    indices: np.ndarray
    seed: int

    def __post_init__(self):
        if not np.array_equal(self.data.y, self.counts.labels()):
            raise SeliInputError(
                f"the subset's labels do not follow its class counts {list(self.counts.counts)}; "
                "build the subset with subsample."
            )

    def record(self) -> dict:
        """JSON-able description: counts, how they were chosen, seed and a hash of the indices."""
        p = self.counts.params
        out = {
            "dataset": self.data.name,
            "class_counts": list(self.counts.counts),
            "n": self.counts.n,
            "model": self.counts.model,
        }
        if self.counts.model == "step":
            out |= {"R": str(p.get("R")), "rho": str(p.get("rho")), "n_min": p.get("n_min")}
        else:
            out |= {k: str(v) for k, v in p.items()}
        return out | {
            "seed": self.seed,
            "indices_sha256": hashlib.sha256(self.indices.astype("<i8").tobytes()).hexdigest(),
        }


StepSubset = Subset  # the name from when STEP was the only model


def largest_n_min(sizes, R, rho) -> int:
    """The largest n_min whose (R, rho)-STEP counts fit in class sizes `sizes` (majorities first)."""
    sizes = np.asarray(sizes)
    k = len(sizes)
    R = rational("R", R)
    q = R.denominator  # R * n_min must be whole
    m = step(k, R, rho, q).params["m"]  # validates k, R >= 1 and rho; gives the majorities
    n_min = min(int(sizes[m:].min()), int(Fraction(int(sizes[:m].min())) / R))
    return n_min - n_min % q


def subsample(data: LabelledData, counts: ClassCounts, *, seed: int = 0,
              what: str = "`counts`") -> Subset:
    """Class c keeps counts[c] of its images, drawn without replacement by numpy's PCG64 seeded
    with `seed` (class by class, in label order), then kept in source order. `what` names the
    counts' origin in the error for a class the data set cannot supply."""
    seed = whole("seed", seed, minimum=0, fix="Use a non-negative integer seed.")
    if counts.k != data.k:
        raise SeliInputError(
            f"{what} names {counts.k} classes, but {data.name} has {data.k}; give one count per "
            "class."
        )
    sizes = data.class_sizes()
    short = [c for c in range(data.k) if counts.counts[c] > sizes[c]]
    if short:
        c = short[0]
        raise SeliInputError(
            f"{what} asks for {counts.counts[c]} images of class {c}, but {data.name} has "
            f"{int(sizes[c])}; lower it (class sizes {sizes.tolist()})."
        )
    rng = np.random.default_rng(seed)
    chosen = []
    for c, n_c in enumerate(counts.counts):
        pool = np.flatnonzero(data.y == c)
        chosen.append(np.sort(rng.choice(pool, size=n_c, replace=False)))
    idx = np.concatenate(chosen)
    sub = LabelledData(data.name, data.x[idx], data.y[idx], data.k, data.source)
    return Subset(sub, counts, idx, seed)


def step_subsample(data: LabelledData, R, rho="1/2", n_min=None, *, seed: int = 0) -> Subset:
    """Definition 1 applied to a data set: classes 0..m-1 keep R*n_min images, m..k-1 keep n_min.

    n_min defaults to the largest the data allow.
    """
    seed = whole("seed", seed, minimum=0, fix="Use a non-negative integer seed.")
    sizes = data.class_sizes()
    if n_min is None:
        n_min = largest_n_min(sizes, R, rho)
        if n_min < 1:
            raise SeliInputError(
                f"{data.name} has too few images for R={R}: class sizes {sizes.tolist()}; "
                "lower R."
            )
    counts = step(data.k, R, rho, n_min)
    short = [c for c in range(data.k) if counts.counts[c] > sizes[c]]
    if short:
        c = short[0]
        raise SeliInputError(
            f"`n_min`={counts.params['n_min']} asks for {counts.counts[c]} images of class {c}, "
            f"but {data.name} has {int(sizes[c])}; lower n_min (at most "
            f"{largest_n_min(sizes, R, rho)} here) or R."
        )
    return subsample(data, counts, seed=seed)


def largest_exp_n_max(sizes, ratio) -> int:
    """The largest n_max whose exponential long tail (long_tailed(k, ratio, n_max)) fits in
    class sizes `sizes` (head class first); 0 when none does (n_max must be at least ratio)."""
    sizes = [int(x) for x in sizes]
    k = len(sizes)

    def fits(n_max: int) -> bool:
        return all(a <= b for a, b in zip(long_tailed(k, ratio, n_max).counts, sizes))

    lo = -(-Fraction(ratio).numerator // Fraction(ratio).denominator)  # ceil(ratio)
    if lo > sizes[0] or not fits(lo):
        return 0
    hi = sizes[0]  # n_0 = n_max must fit the head class
    while lo < hi:  # the counts grow with n_max, so the ones that fit are an interval
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def profile_subsample(data: LabelledData, spec: str, *, seed: int = 0) -> Subset:
    """The training set of one count profile spec (seli_exact.counts.parse_profile); a profile the
    data set cannot supply is refused with the largest size it can."""
    counts = parse_profile(spec)
    if counts.k != data.k:
        raise SeliInputError(
            f"`profile` {spec!r} has k={counts.k} classes, but {data.name} has {data.k}; use "
            f"k={data.k}."
        )
    sizes = data.class_sizes()
    if any(a > b for a, b in zip(counts.counts, sizes)):
        p = counts.params
        if counts.model == "exp":
            best = largest_exp_n_max(sizes, p["ratio"])
            fix = (f"the largest n_max it can supply for ratio={spec_value(p['ratio'])} is {best}"
                   if best else f"no n_max supplies ratio={spec_value(p['ratio'])}; lower the ratio")
            raise SeliInputError(
                f"`profile` {spec!r} asks for {list(counts.counts)} images per class, but "
                f"{data.name} has {sizes.tolist()}; {fix}."
            )
        best = largest_n_min(sizes, p["R"], p["rho"])
        raise SeliInputError(
            f"`profile` {spec!r} asks for {list(counts.counts)} images per class, but "
            f"{data.name} has {sizes.tolist()}; the largest n_min it can supply is {best}."
        )
    return subsample(data, counts, seed=seed, what=f"`profile` {spec!r}")


def spec_value(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of images x (N, C, H, W), for standardizing."""
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)
