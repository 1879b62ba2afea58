"""measurement.measure: known answers by independent routes, streaming = dense, every bad input.

Known answers: a Theorem 1 (iii) factorization built here from a dense numpy SVD of the SEL
matrix (Definition 2) is at SELI distance 0, and its ETF distances follow by hand from the
singular values alone: for G = V diag(g) V^T and G* = V V^T (V orthonormal, V^T 1 = 0),
|| G/||G|| - G*/||G*|| ||_F = sqrt(2 - 2 sum(g) / (sqrt(k-1) ||g||)), with g = s (classifiers) or
1/s (class means). A balanced ETF is at distance 0 from both. NC1 and NC4 are checked against
loops over examples written from Papyan et al.'s definitions.
"""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest

from seli_exact import SeliInputError, long_tailed
from seli_exact.arithmetic import arithmetic
from measurement.report import AngleErrors, Measurement, measure
from seli_exact.metrics import Distances
from seli_exact.precision import default_rtol

from .test_metrics import papyan_nc1, sel_svd_dense

TOL = 1e3 * default_rtol(arithmetic("float64"))  # ~1e-10
PAPER = (50, 50, 5, 5)  # (10, 1/2)-STEP, n_min = 5: Fig 1's case
LONG_TAIL = long_tailed(10, 100, n_max=200).counts  # CIFAR-10-LT's profile, scaled down


def etf_distance_by_hand(g) -> float:
    k1 = len(g)
    return math.sqrt(max(0.0, 2 - 2 * g.sum() / (math.sqrt(k1) * np.linalg.norm(g))))


def seli_network(counts, d, *, a=1.0, b=1.0, seed=0, offset=None):
    """(W (k, d), H (n, d), y) in PyTorch layouts: Theorem 1 (iii) from a dense SVD, W scaled by a,
    features by b, every feature equal to its class mean (plus a common offset, if given)."""
    s, V, U_class = sel_svd_dense(counts)
    k = len(counts)
    R = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k - 1)))[0].T  # (k-1, d)
    W = a * R.T @ (np.sqrt(s)[:, None] * V.T)  # (d, k) columns
    M = b * R.T @ (np.sqrt(s)[:, None] * U_class.T)  # (d, k)
    if offset is not None:
        M = M + offset[:, None]
    y = np.repeat(np.arange(k), counts)
    return W.T, M[:, y].T, y, s


def noisy_network(counts, d, seed=0):
    """A network partway to collapse: W, M random with a common offset, features spread around M."""
    rng = np.random.default_rng(seed)
    k = len(counts)
    W = rng.standard_normal((k, d))
    M = rng.standard_normal((k, d)) + 2.0 * rng.standard_normal(d)
    y = np.repeat(np.arange(k), counts)
    rng.shuffle(y)
    H = M[y] + 0.3 * rng.standard_normal((len(y), d))
    return W, H, y


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("counts", [PAPER, LONG_TAIL, (7, 3, 3, 1, 1)])
def test_exact_seli_is_at_distance_zero_and_etf_distances_are_the_closed_form(counts):
    W, H, y, s = seli_network(counts, d=len(counts) + 3, a=3.0, b=0.5)
    m = measure(W, H, y)
    assert m.class_counts == tuple(counts)
    for key in ("classifiers", "embeddings", "logits"):
        assert getattr(m.distance_to_seli, key) <= TOL
    assert m.distance_to_etf.classifiers == pytest.approx(etf_distance_by_hand(s), rel=1e-9)
    assert m.distance_to_etf.embeddings == pytest.approx(etf_distance_by_hand(1 / s), rel=1e-9)
    assert m.distance_to_etf.logits <= TOL  # W^T M = V V^T = G* for SELI (Theorem 1 (i))
    assert m.distance_to_etf.classifiers > 0.05 and m.distance_to_etf.embeddings > 0.05
    assert abs(m.nc1) <= TOL  # every feature is its class mean
    assert m.nc4 == 1.0 and np.all(m.nc4_per_class == 1.0)
    assert m.nc2_classifiers.seli <= TOL and m.nc2_embeddings.seli <= TOL
    # NC2 against ETF: SELI's own cosines against -1/(k-1), from the dense SVD
    k = len(counts)
    _, V, _ = sel_svd_dense(counts)
    for g, err in ((s, m.nc2_classifiers.etf), (1 / s, m.nc2_embeddings.etf)):
        Gr = V @ np.diag(g) @ V.T
        cos = Gr / np.sqrt(np.outer(np.diag(Gr), np.diag(Gr)))
        off = ~np.eye(k, dtype=bool)
        assert err == pytest.approx(np.abs(cos[off] + 1 / (k - 1)).mean(), rel=1e-9)
    # NC3: SELI's own prediction, and the norms at the scales the network was built with
    assert m.nc3 == pytest.approx(m.nc3_seli, rel=1e-9, abs=TOL)
    assert m.classifier_norms.scale == pytest.approx(3.0, rel=1e-9)
    assert m.embedding_norms.scale == pytest.approx(0.5, rel=1e-9)
    assert m.classifier_norms.error_seli <= TOL and m.embedding_norms.error_seli <= TOL
    assert m.classifier_norms.error_etf > 0.01


def test_balanced_etf_is_at_distance_zero_from_both():
    k, d = 5, 7
    P = np.eye(k) - 1.0 / k
    E = np.linalg.qr(np.random.default_rng(1).standard_normal((d, k)))[0] @ P  # (d, k): an ETF
    y = np.repeat(np.arange(k), 6)
    m = measure(2.0 * E.T, 0.3 * E[:, y].T, y)
    for dist in (m.distance_to_seli, m.distance_to_etf):
        assert max(dist.classifiers, dist.embeddings, dist.logits) <= TOL
    assert m.nc3 <= TOL and m.nc3_seli <= TOL
    assert m.nc2_classifiers.etf <= TOL and m.nc2_embeddings.seli <= TOL
    assert m.classifier_norms.error_etf <= TOL


def test_centring_options():
    counts = PAPER
    offset = 4.0 * np.ones(6)
    W, H, y, _ = seli_network(counts, d=6, offset=offset)
    bal = measure(W, H, y)  # the balanced mean of class means removes the offset
    assert bal.distance_to_seli.embeddings <= TOL and bal.distance_to_seli.logits <= TOL
    none = measure(W, H, y, center="none")
    assert none.distance_to_seli.embeddings > 0.1
    # SELI's class means have balanced mean 0 but not sample mean 0 under imbalance
    W0, H0, y0, _ = seli_network(counts, d=6)
    weighted = measure(W0, H0, y0, center="weighted")
    assert weighted.distance_to_seli.embeddings > 0.05
    # on balanced counts the two centrings agree
    Wb, Hb, yb = noisy_network((4, 4, 4), 5)
    a, b = measure(Wb, Hb, yb), measure(Wb, Hb, yb, center="weighted")
    _close_dicts(a.as_dict(), b.as_dict(), skip={"center"})


def _close_dicts(a, b, skip=(), tol=TOL):
    for key in a:
        if key in skip:
            continue
        x, y = a[key], b[key]
        if isinstance(x, dict):
            _close_dicts(x, y, tol=tol)
        elif x is None or isinstance(x, str):
            assert y == x, key
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
    return True


# --------------------------------------------------------------------------- against dense loops


def dense_reference(W, H, y, k, bias=None):
    """NC1 (loops) and NC4 (loops) from the definitions, in the paper's columns."""
    Hc = H.T  # (d, n)
    mu = np.stack([Hc[:, y == c].mean(axis=1) for c in range(k)], axis=1)
    agree = []
    for i in range(len(y)):
        h = H[i]
        z = W @ h + (0.0 if bias is None else bias)
        dist = [np.linalg.norm(h - mu[:, c]) for c in range(k)]
        # decisions by margins far above rounding, so no BLAS kernel can flip them
        assert np.diff(np.sort(z)[-2:])[0] > 1e-8 and np.diff(np.sort(dist)[:2])[0] > 1e-8
        agree.append(int(np.argmax(z)) == int(np.argmin(dist)))
    return papyan_nc1(Hc, y, k), float(np.mean(agree)), mu


@pytest.mark.parametrize("chunk_rows", [None, 1, 7, 64])
def test_streaming_equals_dense_definitions(chunk_rows):
    counts = (30, 11, 6, 2, 1)
    W, H, y = noisy_network(counts, d=6, seed=5)
    bias = np.random.default_rng(6).standard_normal(5)
    m = measure(W, H, y, chunk_rows=chunk_rows, bias=bias)
    nc1_ref, nc4_ref, mu = dense_reference(W, H, y, 5, bias)
    assert m.nc1 == pytest.approx(nc1_ref, rel=TOL)
    assert m.nc4 == nc4_ref
    # Sec. 5's distances from the class means the loops found, via the dense metrics path
    from seli_exact.metrics import distances

    ref = distances(W.T, mu, list(counts), centred=True)
    assert m.distance_to_seli.embeddings == pytest.approx(float(ref.seli.embeddings), rel=TOL)
    assert m.distance_to_etf.classifiers == pytest.approx(float(ref.etf.classifiers), rel=TOL)
    assert m.distance_to_seli.logits == pytest.approx(float(ref.seli.logits), rel=TOL)
    one_block = measure(W, H, y, bias=bias)
    _close_dicts(m.as_dict(), one_block.as_dict())


def test_nc1_keeps_its_accuracy_when_features_sit_far_from_the_origin():
    # within-class spread 1e-6 around means of size 1e3: a one-pass sum h h^T - n mu mu^T would
    # lose all digits (relative cancellation 1e-18 < eps); the two-pass scatter keeps them
    rng = np.random.default_rng(7)
    k, d, per = 3, 4, 50
    M = 1e3 * (1.0 + rng.standard_normal((k, d)))
    y = np.repeat(np.arange(k), per)
    H = M[y] + 1e-6 * rng.standard_normal((k * per, d))
    W = rng.standard_normal((k, d))
    m = measure(W, H, y, chunk_rows=16)
    ref = papyan_nc1(H.T, y, k)
    assert 0 < ref < 1e-10
    assert m.nc1 == pytest.approx(ref, rel=1e-6)


def test_nc4_follows_the_bias():
    # two classes on a line: the classifier without bias agrees with the nearest centre,
    # a bias of 10 towards class 1 overrules it for every example of class 0
    W = np.array([[1.0, 0.0], [-1.0, 0.0]])
    H = np.array([[1.0, 0.0], [1.2, 0.1], [-1.0, 0.0], [-0.9, -0.1]])
    y = np.array([0, 0, 1, 1])
    assert measure(W, H, y).nc4 == 1.0
    m = measure(W, H, y, bias=np.array([0.0, 10.0]))
    assert m.nc4 == 0.5 and m.nc4_per_class.tolist() == [0.0, 1.0]
    assert m.distance_to_seli.as_dict() == measure(W, H, y).distance_to_seli.as_dict()


def test_means_variant_matches_features():
    counts = (20, 9, 4, 2)
    W, H, y = noisy_network(counts, d=5, seed=8)
    mf = measure(W, H, y)
    M = np.stack([H[y == c].mean(axis=0) for c in range(4)])  # (k, d)
    mm = measure(W, M, counts=list(counts))
    assert mm.nc1 is None and mm.nc4 is None and mm.nc4_per_class is None
    a, b = mf.as_dict(), mm.as_dict()
    _close_dicts(a, b, skip={"nc1", "nc4", "nc4_per_class"})
    assert measure(W, H, y, counts=counts).as_dict()["class_counts"] == list(counts)


# --------------------------------------------------------------------------- input kinds


def test_float_types_and_torch_tensors():
    torch = pytest.importorskip("torch")
    W, H, y = noisy_network((9, 5, 2), d=4, seed=9)
    ref = measure(W, H, y).as_dict()
    got = measure(torch.tensor(W), torch.tensor(H), torch.tensor(y)).as_dict()
    _close_dicts(ref, got)
    # float16 / float32 / bfloat16 inputs are read exactly as stored, then in float64
    for np_t, t_t in ((np.float16, torch.float16), (np.float32, torch.float32)):
        a = measure(W.astype(np_t), H.astype(np_t), y.astype(np.int32)).as_dict()
        b = measure(torch.tensor(W).to(t_t), torch.tensor(H).to(t_t), torch.tensor(y)).as_dict()
        _close_dicts(a, b)
    Hb = torch.tensor(H).to(torch.bfloat16)
    c = measure(W, Hb, y).as_dict()
    d = measure(W, Hb.double().numpy(), y).as_dict()
    _close_dicts(c, d)


def test_memory_mapped_npy_streams_in_bounded_memory(tmp_path):
    # features of 100,000 x 64 float32 (25.6 MB on disk, 51 MB in float64) read in blocks of 2,000
    rng = np.random.default_rng(10)
    n, d, k = 100_000, 64, 10
    path = tmp_path / "H.npy"
    H = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    y = rng.integers(0, k, size=n)
    for i in range(0, n, 10_000):
        # class means 1..10, away from 0: the class sums do not cancel (sum |h| / |sum h|
        # is about 1.2), so their rounding is bounded by gamma_n alone, whatever the order
        H[i:i + 10_000] = (rng.standard_normal((10_000, d)).astype(np.float32)
                           + 1 + y[i:i + 10_000, None])
    H.flush()
    del H
    W = rng.standard_normal((k, d))
    Hm = np.load(path, mmap_mode="r")
    tracemalloc.start()
    m = measure(W, Hm, y, chunk_rows=2_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000, f"streaming allocated {peak} bytes at peak"
    dense = measure(W, np.load(path), y)
    # blocks of 2,000 rows against one pass: float64 sums of n terms in two orders, each within
    # gamma_n (1.1e-11 at n = 1e5) of the exact sum, times the mild cancellation above; the
    # metrics are well conditioned functions of the sums (no near-tie in NC4 at these margins)
    from tests.fp_bounds import U64, gamma

    tol = 8 * gamma(n, U64)
    _close_dicts(m.as_dict(), dense.as_dict(), tol=tol)


def test_progress_reports_rows_of_both_passes():
    W, H, y = noisy_network((10, 6, 4), d=4)
    calls = []
    measure(W, H, y, chunk_rows=6, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (40, 40) and all(t == 40 for _, t in calls)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls) and len(calls) == 8


def test_as_dict_is_the_json_schema():
    W, H, y = noisy_network((10, 6, 4), d=4)
    obj = json.loads(json.dumps(measure(W, H, y).as_dict()))
    assert set(obj) == {"class_counts", "n", "k", "d", "center", "distance_to_seli",
                        "distance_to_etf", "nc1", "nc2", "nc3", "nc4", "nc4_per_class", "norms"}
    assert set(obj["distance_to_seli"]) == {"classifiers", "embeddings", "logits"}
    assert set(obj["norms"]["classifiers"]) == {"measured", "seli", "scale", "error_seli", "error_etf"}
    assert obj["n"] == 20 and obj["k"] == 3 and obj["d"] == 4


def test_measurement_refuses_an_inconsistent_object():
    m = measure(*noisy_network((10, 6, 4), d=4))
    import dataclasses

    with pytest.raises(ValueError, match="W_gram has shape"):
        dataclasses.replace(m, W_gram=np.eye(2))
    with pytest.raises(ValueError, match="distances must be finite"):
        dataclasses.replace(m, distance_to_etf=Distances(float("nan"), 0.0, 0.0))
    with pytest.raises(ValueError, match="nc4 must be a fraction"):
        dataclasses.replace(m, nc4=1.5)
    with pytest.raises(ValueError, match=r"must lie in \[0, 2\]"):
        AngleErrors(-0.1, 0.0)
    assert isinstance(m, Measurement)


# --------------------------------------------------------------------------- bad input


def _good():
    return noisy_network((6, 4, 3), d=4)


@pytest.mark.parametrize("change, match", [
    (lambda W, H, y: (W[:, :3], H, y),
     r"`H` \(features\) has 4 columns but `W` \(classifier\) has 3; pass features"),
    (lambda W, H, y: (W, H[:, :3], y),
     r"has 3 columns but `W` \(classifier\) has 4 \(stored d x k\? nn\.Linear\.weight is k x d: pass its transpose\)"),
    (lambda W, H, y: (W, H, np.where(y == 2, 3, y)),
     r"`y` \(labels\) must lie in \[0, 3\) for the 3 classifier rows; got label 3 at row \d+\. Check"),
    (lambda W, H, y: (W, H, np.where(y == 2, -1, y)), r"got label -1 at row \d+"),
    (lambda W, H, y: (W, H, np.where(y == 2, 0, y)),
     r"`y` \(labels\) has no example of class 2 of the 3 classifier rows; measure on the whole"),
    (lambda W, H, y: (W, np.where(np.arange(13)[:, None] == 5, np.nan, H), y),
     r"`H` \(features\) holds NaN or inf \(first at row 5\); measure a checkpoint"),
    (lambda W, H, y: (np.where(W > 0, np.inf, W), H, y), r"`W` \(classifier\) holds NaN or inf"),
    (lambda W, H, y: (W, H, y.astype(float)),
     r"`y` \(labels\) must hold integer class indices; got dtype float64\. Save the labels as integers"),
    (lambda W, H, y: (W, H, np.eye(3)[y]), r"must be n class indices; got one-hot rows .* Pass y\.argmax\(1\)"),
    (lambda W, H, y: (W, H, y[:-1]), r"`y` \(labels\) has 12 labels but the features have 13 rows"),
    (lambda W, H, y: (W, H.astype(int), y), r"`H` \(features\) must hold floating-point numbers; got dtype int64"),
    (lambda W, H, y: (W[0], H, y), r"`W` \(classifier\) must be a 2-D array; got shape \(4,\)"),
    (lambda W, H, y: (W[:1], H, np.zeros_like(y)), r"at least 2 classes; got shape \(1, 4\)"),
    (lambda W, H, y: (np.vstack([W[:2], 0 * W[2]]), H, y), r"has all-zero rows \[2\]"),
])
def test_bad_inputs_are_one_sentence(change, match):
    W, H, y = change(*_good())
    with pytest.raises(SeliInputError, match=match):
        measure(W, H, y)


def test_d_below_k_minus_1():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 2)
    with pytest.raises(SeliInputError, match=r"is 6 x 3: d = 3 < k - 1 = 5, and neither SELI nor "
                       r"ETF exists .* measure a layer with at least 5 features"):
        measure(rng.standard_normal((6, 3)), rng.standard_normal((12, 3)), y)


def test_bad_keywords_and_means_inputs():
    W, H, y = _good()
    with pytest.raises(SeliInputError, match=r"`center` must be one of balanced, weighted, none; got 'mean'"):
        measure(W, H, y, center="mean")
    with pytest.raises(SeliInputError, match=r"`bias` must hold one value per class, \(3,\); got shape \(4,\)"):
        measure(W, H, y, bias=np.zeros(4))
    with pytest.raises(SeliInputError, match=r"`counts` \[6, 4, 2\] differ from the counts of `y` \(labels\), \[6, 4, 3\]"):
        measure(W, H, y, counts=[6, 4, 2])
    M = np.stack([H[y == c].mean(axis=0) for c in range(3)])
    with pytest.raises(SeliInputError, match=r"class means need their class counts"):
        measure(W, M)
    with pytest.raises(SeliInputError, match=r"`counts` lists 2 classes but `W` \(classifier\) has 3 rows"):
        measure(W, M, counts=[3, 3])
    with pytest.raises(SeliInputError, match=r"`M` \(class means\) has 2 rows but `W` \(classifier\) has 3"):
        measure(W, M[:2], counts=[3, 3, 3])
    with pytest.raises(SeliInputError, match=r"`chunk_rows` must be a whole number >= 1; got 0"):
        measure(W, H, y, chunk_rows=0)
    with pytest.raises(SeliInputError, match=r"centred class means of classes \[0, 1, 2\] are zero"):
        measure(W, np.ones_like(H), y)
    named = {"features": "--features f.npy", "labels": "--labels y.npy", "classifier": "--classifier m.pt:fc.weight"}
    with pytest.raises(SeliInputError, match=r"^--labels y\.npy must lie in \[0, 3\)"):
        measure(W, H, np.where(y == 2, 3, y), names=named)


# --------------------------------------------------------------------------- training.features


def _tiny_model(torch, bias=True):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3, bias=bias))


def test_collect_features_reads_the_classifier_input():
    torch = pytest.importorskip("torch")
    from training.features import collect_features

    model = _tiny_model(torch)
    x = torch.randn(23, 5)
    y = torch.arange(23) % 3
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=7)
    model.train()
    f = collect_features(model, loader)
    assert model.training and not model[2]._forward_pre_hooks  # mode restored, hook removed
    from tests.fp_bounds import forward_bound

    model.eval()
    expected, bound = forward_bound(model[:2], x)  # exact, and the float32 rounding bound
    model.train()
    assert np.all(np.abs(f.features.double().numpy() - expected) <= bound)
    assert torch.equal(f.labels, y)
    assert torch.equal(f.classifier, model[2].weight) and torch.equal(f.bias, model[2].bias)
    m = measure(f.classifier, f.features, f.labels, bias=f.bias)
    # NC4 against the model's own predictions and nearest centres by a loop
    with torch.no_grad():
        top = model(x).topk(2).values
        pred = model(x).argmax(1).numpy()
    H = f.features.double().numpy()
    mu = np.stack([H[y.numpy() == c].mean(axis=0) for c in range(3)])
    dist = np.stack([np.linalg.norm(mu - h, axis=1) for h in H])  # (n, k)
    ncc = dist.argmin(axis=1)
    # both decisions hold by margins far above float32 rounding, so they cannot flip with it
    assert float((top[:, 0] - top[:, 1]).min()) > 1e-4
    assert float(np.diff(np.sort(dist, axis=1)[:, :2], axis=1).min()) > 1e-4
    assert m.nc4 == float(np.mean(pred == ncc))
    assert m.nc1 == pytest.approx(papyan_nc1(H.T, y.numpy(), 3), rel=TOL)


def test_collect_features_errors():
    torch = pytest.importorskip("torch")
    from training.features import collect_features

    x, y = torch.randn(6, 5), torch.arange(6) % 3
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=3)
    with pytest.raises(SeliInputError, match=r"the model \(ReLU\) has no nn\.Linear"):
        collect_features(torch.nn.ReLU(), loader)
    with pytest.raises(SeliInputError, match=r"`layer` 'fc' is not a module of the model; its linear "
                       r"layers are 0, 2\. Name one of them\."):
        collect_features(_tiny_model(torch), loader, layer="fc")
    with pytest.raises(SeliInputError, match=r"every batch of the loader must be \(inputs, labels\)"):
        collect_features(_tiny_model(torch), [x])
    shared = torch.nn.Linear(5, 5)
    twice = torch.nn.Sequential(shared, torch.nn.ReLU(), shared)
    with pytest.raises(SeliInputError, match=r"the classifier layer ran 2 times in one forward pass"):
        collect_features(twice, loader)


def test_a_training_runs_logged_metrics_equal_measure_on_its_features():
    # The README's promise: the numbers a run logs are `seli measure`'s on the arrays it saves
    # (final.npz). Both are float64 computations on the same float32 arrays in one process, so
    # they agree exactly. The features themselves are float32 forward passes: the logger's
    # (batches of 7) and collect_features' (batches of 16) may sum in different orders on
    # other BLAS kernels and thread counts, so they are compared with the a priori float32
    # bound of tests.fp_bounds, not bit for bit.
    torch = pytest.importorskip("torch")
    from training.data import load_digits, step_subsample
    from training.deepnet import measure as logged_metrics
    from training.deepnet import to_device
    from training.features import collect_features
    from training.models import build_model

    from tests.fp_bounds import forward_bound

    sub = step_subsample(load_digits(), 10, n_min=2, seed=0)
    x, y = to_device(sub, "cpu")
    model = build_model("mlp", (1, 8, 8), 10, width=12, seed=1)
    saved: dict = {}
    row = logged_metrics(model, x, y, sub.counts, eval_batch=7, keep=saved)
    m = measure(saved["classifier"], saved["features"], saved["labels"]).as_dict()
    assert m["class_counts"] == list(sub.counts.counts)
    for geo in ("seli", "etf"):
        for key in ("classifiers", "embeddings", "logits"):
            assert m[f"distance_to_{geo}"][key] == row[f"{geo}_{key}"]
    assert m["nc1"] == row["nc1"]

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    f = collect_features(model, loader)
    model.eval()
    _, bound = forward_bound(model.body, x)
    assert np.all(np.abs(f.features.double().numpy() - saved["features"]) <= 2 * bound)
    assert np.array_equal(f.classifier.numpy(), saved["classifier"])
    assert np.array_equal(f.labels.numpy(), saved["labels"])


def test_means_at_the_centre_up_to_rounding_are_refused():
    # every class mean the same point, written with rounding noise: nothing to measure
    W, H, y = _good()
    same = np.full_like(H, 0.1) + 1e-17 * np.random.default_rng(0).standard_normal(H.shape)
    with pytest.raises(SeliInputError, match=r"centred class means of classes \[0, 1, 2\] are zero"):
        measure(W, same, y)


def test_kothapallis_structure_errors_are_the_etf_distances():
    # the simplex-ETF error of rhubarbwu/neural-collapse (Kothapalli 2023), written out here:
    # || B A^T / ||B A^T||_F - (I - 11^T/k) / sqrt(k - 1) ||_F, rows = classes, means centred
    W, H, y = noisy_network((30, 12, 5, 2), d=6, seed=12)
    k = 4
    M = np.stack([H[y == c].mean(axis=0) for c in range(k)])
    Mc = M - M.mean(axis=0)  # balanced centring

    def structure_error(A, B):
        S = B @ A.T
        return np.linalg.norm(S / np.linalg.norm(S) - (np.eye(k) - 1 / k) / math.sqrt(k - 1))

    m = measure(W, H, y)
    assert m.distance_to_etf.embeddings == pytest.approx(structure_error(Mc, Mc), rel=TOL)
    assert m.distance_to_etf.classifiers == pytest.approx(structure_error(W, W), rel=TOL)
    assert m.distance_to_etf.logits == pytest.approx(structure_error(Mc, W), rel=TOL)
    # Papyan et al.'s self-duality, by hand
    nc3 = np.linalg.norm(W / np.linalg.norm(W) - Mc / np.linalg.norm(Mc))
    assert m.nc3 == pytest.approx(nc3, rel=TOL)
