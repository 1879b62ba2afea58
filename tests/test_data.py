"""training.data: the on-disk readers on tiny fake files, and subsampling to class counts: STEP
(Definition 1), explicit counts and long-tail profiles."""

from __future__ import annotations

import gzip
import pickle
import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seli_exact.errors import SeliInputError
from training.data import (
    LabelledData,
    channel_stats,
    largest_exp_n_max,
    largest_n_min,
    load_cifar10,
    load_dataset,
    load_digits,
    load_idx_dataset,
    profile_subsample,
    read_idx,
    step_subsample,
    subsample,
)
from seli_exact.counts import from_counts


# ---------------------------------------------------------------- fake files, written by hand

def idx_bytes(array: np.ndarray) -> bytes:
    """LeCun's IDX layout for unsigned bytes: 0, 0, 0x08, ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(root, folder: str, images, labels, *, gz: bool, prefix: str = "train"):
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(arr)
        if gz:
            (raw / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (raw / name).write_bytes(data)


def fake_images(n, h, w, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, h, w), dtype=np.uint8), rng.integers(0, 10, size=n)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_idx_loader_reads_what_was_written(tmp_path, name, folder, gz):
    images, labels = fake_images(7, 5, 4)
    write_idx_set(tmp_path, folder, images, labels, gz=gz)
    data = load_idx_dataset(name, tmp_path)
    assert data.x.shape == (7, 1, 5, 4) and data.x.dtype == np.float32
    assert data.k == 10
    np.testing.assert_array_equal(data.y, labels)
    # image 3, row 2, column 1 of the file, scaled to [0, 1]
    assert data.x[3, 0, 2, 1] == np.float32(images[3, 2, 1] / 255.0)
    np.testing.assert_array_equal(np.round(data.x[:, 0] * 255).astype(np.uint8), images)


def test_idx_test_split_and_load_dataset(tmp_path):
    images, labels = fake_images(3, 2, 2, seed=4)
    write_idx_set(tmp_path, "MNIST", images, labels, gz=True, prefix="t10k")
    data = load_dataset("mnist", tmp_path, train=False)
    np.testing.assert_array_equal(data.y, labels)
    with pytest.raises(SeliInputError, match=r"train-images-idx3-ubyte\[\.gz\].*yann\.lecun"):
        load_dataset("mnist", tmp_path, train=True)


def test_missing_idx_files_name_what_to_fetch(tmp_path):
    with pytest.raises(SeliInputError, match=r"fashion-mnist needs train-images-idx3-ubyte.*"
                                             r"FashionMNIST/raw.*zalandoresearch"):
        load_idx_dataset("fashion-mnist", tmp_path)


def test_load_dataset_needs_a_root_for_files():
    with pytest.raises(SeliInputError, match="no data root was given; pass --data-root"):
        load_dataset("cifar10", None)
    with pytest.raises(SeliInputError, match="`dataset` must be one of"):
        load_dataset("imagenet", "/tmp")


def test_idx_reader_rejects_bad_magic_and_truncation(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(SeliInputError, match="not an IDX file"):
        read_idx(p)
    good = idx_bytes(np.zeros((2, 3, 3), np.uint8))
    p.write_bytes(good[:-1])
    with pytest.raises(SeliInputError, match="truncated or corrupt"):
        read_idx(p)


@pytest.mark.parametrize("content", [b"garbage", b"\x1f\x8b\x08\x00", b"\x1f\x8b"])
def test_idx_reader_rejects_a_broken_gzip(tmp_path, content):
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(content)
    with pytest.raises(SeliInputError, match=r"train-images-idx3-ubyte\.gz cannot be read as an "
                                             r"IDX file \(\w+: .*\); replace it"):
        read_idx(p)


def test_idx_reader_other_types(tmp_path):
    arr = np.array([[1.5, -2.0], [3.25, 4.0]], dtype=">f4")
    p = tmp_path / "f.idx"
    p.write_bytes(bytes([0, 0, 0x0D, 2]) + struct.pack(">2I", 2, 2) + arr.tobytes())
    np.testing.assert_array_equal(read_idx(p), arr)


def write_cifar(root, *, n_per_batch=3, str_keys=False, seed=0, protocol=2):
    """Six fake batches; returns {name: (data (N, 3072) uint8, labels)}."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch).tolist()
        key = (lambda s: s) if str_keys else (lambda s: s.encode())
        batch = {key("batch_label"): "fake", key("labels"): labels, key("data"): data,
                 key("filenames"): [f"img{i}.png" for i in range(n_per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        out[name] = (data, labels)
    return out


@pytest.mark.parametrize("str_keys,protocol", [(False, 2), (True, 2), (False, 5)])
def test_cifar_loader_reads_what_was_written(tmp_path, str_keys, protocol):
    written = write_cifar(tmp_path, str_keys=str_keys, protocol=protocol)
    data = load_cifar10(tmp_path)
    assert data.x.shape == (15, 3, 32, 32)
    expected_y = sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    np.testing.assert_array_equal(data.y, expected_y)
    # CIFAR's row layout: 1024 red, 1024 green, 1024 blue bytes, each image row-major
    row = written["data_batch_2"][0][1]  # image 1 of batch 2 = image 4 overall
    c, h, w = 2, 5, 17
    assert data.x[4, c, h, w] == np.float32(row[c * 1024 + h * 32 + w] / 255.0)
    test = load_cifar10(tmp_path, train=False)
    np.testing.assert_array_equal(test.y, written["test_batch"][1])


def python2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A CIFAR10 batch as Python 2's cPickle wrote the originals (protocol 2, str = bytes).

    Assembled opcode by opcode: {'data': ndarray via numpy.core.multiarray._reconstruct,
    'labels': [...]}, the array's bytes as a BINSTRING that Python 3 decodes as latin1.
    """
    def short(s: bytes) -> bytes:  # SHORT_BINSTRING
        return b"U" + bytes([len(s)]) + s

    n = data.shape[0]
    dtype = (b"cnumpy\ndtype\n" + short(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + short(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    state = (b"(K\x01" + b"K" + bytes([n]) + b"M\x00\x0c\x86" + dtype + b"\x89"
             + b"T" + struct.pack("<i", data.size) + data.tobytes() + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + short(b"b")
             + b"\x87R" + state)
    items = b"".join(b"K" + bytes([v]) for v in labels)
    return (b"\x80\x02}q\x00(" + short(b"data") + array + short(b"labels") + b"]q\x01("
            + items + b"eu.")


def test_cifar_loader_reads_python2_pickles(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    data[0, :6] = [250, 251, 252, 253, 254, 255]  # bytes above 127 survive the latin1 route
    (folder / "test_batch").write_bytes(python2_batch(data, [3, 9]))
    test = load_cifar10(tmp_path, train=False)
    np.testing.assert_array_equal(test.y, [3, 9])
    np.testing.assert_array_equal(np.round(test.x * 255).astype(np.uint8).reshape(2, -1), data)


class _Evil:
    def __reduce__(self):
        return (print, ("this must not run",))


def test_cifar_loader_refuses_code_in_pickles(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(
        pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=2))
    with pytest.raises(SeliInputError, match=r"data_batch_3 is not a CIFAR10 python batch"):
        load_cifar10(tmp_path)


def test_cifar_missing_and_malformed(tmp_path):
    with pytest.raises(SeliInputError, match=r"cifar10 needs data_batch_1\.\.data_batch_5 .*"
                                             r"cifar-10-python\.tar\.gz"):
        load_cifar10(tmp_path)
    write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2))
    with pytest.raises(SeliInputError, match=r"a CIFAR10 batch has \(N, 3072\) bytes"):
        load_cifar10(tmp_path, train=False)


def test_digits_builtin():
    d = load_digits()
    assert d.x.shape == (1797, 1, 8, 8) and d.k == 10
    assert float(d.x.min()) == 0.0 and float(d.x.max()) == 1.0
    assert d.class_sizes().sum() == 1797 and d.class_sizes().min() == 174


# ---------------------------------------------------------------- STEP subsampling

def labelled(sizes, seed=0) -> LabelledData:
    """A shuffled fake data set with the given class sizes; pixel 0 holds the source index."""
    y = np.repeat(np.arange(len(sizes)), sizes)
    y = np.random.default_rng(seed).permutation(y)
    x = np.zeros((len(y), 1, 2, 2), np.float32)
    x[:, 0, 0, 0] = np.arange(len(y))
    return LabelledData("fake", x, y.astype(np.int64), len(sizes))


def test_step_subsample_by_hand():
    data = labelled([30, 25, 40, 20])
    # majorities 0, 1 (first), minorities 2, 3: n_min <= 20 and R*n_min <= 25 -> n_min = 5
    sub = step_subsample(data, 5, "1/2", seed=3)
    assert sub.counts.counts == (25, 25, 5, 5)
    np.testing.assert_array_equal(sub.data.y, [0] * 25 + [1] * 25 + [2] * 5 + [3] * 5)
    src = sub.data.x[:, 0, 0, 0].astype(int)
    np.testing.assert_array_equal(src, sub.indices)
    np.testing.assert_array_equal(data.y[sub.indices], sub.data.y)  # each image kept its label
    assert len(set(sub.indices.tolist())) == 60
    rec = sub.record()
    assert rec["class_counts"] == [25, 25, 5, 5] and rec["n_min"] == 5 and rec["R"] == "5"


def test_step_subsample_is_seeded():
    data = labelled([50, 50, 50, 50])
    a = step_subsample(data, 2, n_min=10, seed=1)
    b = step_subsample(data, 2, n_min=10, seed=1)
    c = step_subsample(data, 2, n_min=10, seed=2)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.record()["indices_sha256"] == b.record()["indices_sha256"]
    assert not np.array_equal(a.indices, c.indices)


def test_fractional_R_needs_whole_majorities():
    # R = 5/2: n_min even; n_min <= 20 and 5/2 n_min <= 30 -> 12
    assert largest_n_min([30, 30, 20, 20], "2.5", "1/2") == 12
    sub = step_subsample(labelled([30, 30, 20, 20]), "2.5")
    assert sub.counts.counts == (30, 30, 12, 12)


def test_step_subsample_errors():
    data = labelled([30, 25, 40, 20])
    with pytest.raises(SeliInputError, match=r"asks for 30 images of class 1, but fake has 25; "
                                             r"lower n_min \(at most 5 here\)"):
        step_subsample(data, 5, n_min=6)
    with pytest.raises(SeliInputError, match="too few images for R=100"):
        step_subsample(data, 100)
    with pytest.raises(SeliInputError, match="`rho` \\* `k` must be a whole number"):
        step_subsample(data, 2, "1/3")


@st.composite
def step_cases(draw):
    k = draw(st.sampled_from([2, 4, 6, 10]))
    rho = draw(st.sampled_from([Fraction(j, k) for j in range(1, k)]))
    R = draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(5, 2), Fraction(10)]))
    sizes = draw(st.lists(st.integers(1, 60), min_size=k, max_size=k))
    return k, R, rho, sizes


@given(step_cases())
@example((4, Fraction(10), Fraction(1, 2), [50, 50, 5, 5]))  # the paper's Fig 1 case, n_min = 5
def test_largest_n_min_is_largest(case):
    k, R, rho, sizes = case
    m = k - int(rho * k)
    n_min = largest_n_min(sizes, R, rho)

    def fits(t):  # (R, rho)-STEP with minority size t fits the class sizes, majorities first
        return (R * t).denominator == 1 and all(R * t <= s for s in sizes[:m]) \
            and all(t <= s for s in sizes[m:])

    best = max([t for t in range(1, 61) if fits(t)], default=0)
    assert n_min == best
    if best:
        sub = step_subsample(labelled(sizes), R, rho)
        assert sub.counts.counts == (int(R * best),) * m + (best,) * (k - m)


def test_subsample_to_explicit_counts_by_hand():
    data = labelled([30, 25, 40, 20])
    sub = subsample(data, from_counts("3,1,7,1"), seed=4)
    np.testing.assert_array_equal(sub.data.y, [0] * 3 + [1] + [2] * 7 + [3])
    np.testing.assert_array_equal(data.y[sub.indices], sub.data.y)
    rec = sub.record()
    assert rec["model"] == "counts" and rec["class_counts"] == [3, 1, 7, 1] and "R" not in rec
    with pytest.raises(SeliInputError, match=r"`counts` asks for 26 images of class 1, but fake "
                                             r"has 25; lower it \(class sizes \[30, 25, 40, 20\]\)"):
        subsample(data, from_counts("1,26,1,1"))
    with pytest.raises(SeliInputError, match=r"`counts` names 3 classes, but fake has 4"):
        subsample(data, from_counts("1,1,1"))


def test_step_subsample_draws_what_subsample_draws():
    # STEP is the counts route with STEP's counts: the same images for the same seed
    data = labelled([30, 30, 20, 20])
    a = step_subsample(data, 2, n_min=7, seed=5)
    b = subsample(data, a.counts, seed=5)
    np.testing.assert_array_equal(a.indices, b.indices)


def _exp_counts(k, ratio, n_max):
    """floor(n_max ratio^(-c/(k-1))) in exact rational arithmetic: the largest m with
    m^(k-1) <= n_max^(k-1) ratio^(-c), by counting up (an independent route, slow but plain)."""
    r = Fraction(ratio)
    out = []
    for c in range(k):
        m = 0
        while Fraction(m + 1) ** (k - 1) <= Fraction(n_max) ** (k - 1) / r**c:
            m += 1
        out.append(m)
    return out


@given(st.lists(st.integers(1, 40), min_size=3, max_size=5),
       st.sampled_from([Fraction(1), Fraction(2), Fraction(5, 2), Fraction(10)]))
@example([178, 182, 177, 183, 181, 182, 181, 179, 174, 180], Fraction(10))  # digits: 178
def test_largest_exp_n_max_is_largest(sizes, ratio):
    k = len(sizes)
    best = largest_exp_n_max(sizes, ratio)
    fits = [t for t in range(1, max(sizes) + 1)
            if t >= ratio and all(a <= b for a, b in zip(_exp_counts(k, ratio, t), sizes))]
    assert best == (max(fits) if fits else 0)


def test_profile_subsample_and_its_refusals():
    data = labelled([40, 30, 20, 10])
    sub = profile_subsample(data, "exp:k=4:ratio=8:n_max=24", seed=1)
    assert sub.counts.counts == tuple(_exp_counts(4, 8, 24)) == (24, 12, 6, 3)
    rec = sub.record()
    assert (rec["model"], rec["ratio"], rec["n_max"], rec["k"]) == ("exp", "8", "24", "4")
    with pytest.raises(SeliInputError, match=r"asks for \[41, 20, 10, 5\] images per class, but "
                                             r"fake has \[40, 30, 20, 10\]; the largest n_max it "
                                             r"can supply for ratio=8 is 40\."):
        profile_subsample(data, "exp:k=4:ratio=8:n_max=41")
    with pytest.raises(SeliInputError, match=r"no n_max supplies ratio=100; lower the ratio"):
        profile_subsample(data, "exp:k=4:ratio=100:n_max=200")
    with pytest.raises(SeliInputError, match=r"has k=3 classes, but fake has 4; use k=4"):
        profile_subsample(data, "exp:k=3:ratio=2:n_max=5")
    with pytest.raises(SeliInputError, match=r"the largest n_min it can supply is 10"):
        profile_subsample(data, "step:k=4:R=2:rho=1/2:n_min=11")


def test_channel_stats():
    x = np.zeros((2, 2, 1, 2), np.float32)
    x[:, 0] = [[[1, 3]], [[5, 7]]]
    x[:, 1] = 2.0
    mean, std = channel_stats(x)
    # small whole numbers: every sum is exact in float64, and sqrt is correctly rounded (IEEE),
    # so the float32 results are exactly the roundings of 4, 2, sqrt(5) and 1
    np.testing.assert_array_equal(mean, np.float32([4.0, 2.0]))
    np.testing.assert_array_equal(std, np.float32([np.sqrt(5.0), 1.0]))  # constant channel: 1
