"""The UFM trainer: counts, batch order, the three engines against the plain PyTorch loop, metrics."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from seli_exact import arithmetic, close, default_rtol, factorize, sel_svd, step  # noqa: E402
from seli_exact.errors import SeliInputError  # noqa: E402
from training import _ufm_kernel  # noqa: E402
from training.ufm import (  # noqa: E402
    UFMConfig, evaluate, init_state, make_runs, train_ufm, ufm_counts,
)
from training.ufm_engines import epoch_permutation  # noqa: E402

F64 = arithmetic("float64")
HAVE_KERNEL = _ufm_kernel.load() is not None
FAST = ["torch"] + (["kernel"] if HAVE_KERNEL else [])
needs_kernel = pytest.mark.skipif(not HAVE_KERNEL, reason="no C compiler for the kernel engine")


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("R", [1, 5, 10, 100])
def test_paper_counts_have_n_near_400(R):
    c = ufm_counts(4, R, "1/2", 400)
    n_min = c.params["n_min"]
    # Sec. 5: n = ((R+1)/2) k n_min, n_min chosen so n ~ 400 (nearest multiple of (R+1)/2 * 4)
    assert c.n == (R + 1) * 2 * n_min
    assert abs(c.n - 400) <= (R + 1)  # half the spacing 2(R+1) between attainable n
    assert c.counts == (R * n_min, R * n_min, n_min, n_min)


def test_counts_with_fractional_R_keep_R_nmin_whole():
    c = ufm_counts(4, "5/2", "1/2", 100)
    assert c.params["n_min"] % 2 == 0 and c.counts[0] == Fraction(5, 2) * c.params["n_min"]


# --------------------------------------------------------------------------- batch order


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4, unique=True),
       st.integers(0, 10**6), st.integers(1, 60))
@example([0], 0, 110)
def test_epoch_permutation_is_a_permutation_per_run(seeds, epoch, n):
    ns = [max(1, n - 3 * i) for i in range(len(seeds))]
    perm = epoch_permutation(seeds, epoch, ns)
    for row, nr in zip(perm, ns):
        assert sorted(row[:nr].tolist()) == list(range(nr))
        assert (row[nr:] == -1).all()


@needs_kernel
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=3), st.integers(0, 10**6),
       st.integers(1, 500))
def test_kernel_and_numpy_shuffles_agree(seeds, epoch, n):
    lib = _ufm_kernel.load()
    s = np.array(seeds, dtype=np.uint64)
    out = np.zeros((len(seeds), n), dtype=np.int64)
    lib.permutations(s.ctypes.data, len(seeds), epoch, n, out.ctypes.data)
    assert (out == epoch_permutation(s, epoch, [n] * len(seeds))).all()


def test_epoch_permutation_varies_with_epoch_and_seed_and_is_uniformish():
    perms = epoch_permutation([7], np.arange(2000), [5])[:, 0]  # (2000, 5)
    assert len({tuple(p) for p in perms}) == 120  # all 5! orders appear
    # position of element 0 is uniform over 5 slots: chi-square with 4 dof, loose bound
    pos = (perms == 0).argmax(axis=1)
    freq = np.bincount(pos, minlength=5)
    chi2 = ((freq - 400.0) ** 2 / 400.0).sum()
    assert chi2 < 30  # p ~ 5e-6 under uniformity
    assert not (epoch_permutation([1], 3, [50]) == epoch_permutation([2], 3, [50])).all()


# --------------------------------------------------------------------------- engines


def _run(engine, **kw):
    base = dict(R=(1, 10, 3), seeds=(0, 1), n_target=22, epochs=6, engine=engine, d=5,
                log_per_decade=3)
    return train_ufm(UFMConfig(**(base | kw)))


CASES = [
    dict(),  # the paper's SGD: mean reduction, lr 0.4, batch 4
    dict(reduction="sum", lrs=(0.1, 0.05)),  # Eqn (1)'s sum, two learning rates
    dict(lam=0.02, batch_size=3, lrs=(0.4, 0.1)),  # ridge (1) as weight decay, ragged last batch
    dict(optimizer="gd", lrs=(0.5,)),  # full-batch GD
    dict(optimizer="gd", lam=0.05, reduction="sum", lrs=(0.02,)),
]


@pytest.mark.parametrize("engine", FAST)
@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "paper")
def test_engines_match_the_plain_pytorch_loop(engine, case):
    ref = _run("autograd", **case)  # torch.optim.SGD + autograd, one run at a time
    got = _run(engine, **case)
    assert close(got.Wt.numpy(), ref.Wt.numpy(), F64)
    assert close(got.Ht.numpy(), ref.Ht.numpy(), F64)
    assert float((got.Wt - _run(engine, **(case | {"epochs": 0})).Wt).abs().max()) > 0.01


@needs_kernel
def test_float32_kernel_matches_the_float32_plain_loop():
    ref = _run("autograd", dtype="float32")
    got = _run("kernel", dtype="float32")
    rtol = 64 * float(torch.finfo(torch.float32).eps)
    assert got.Wt.dtype == torch.float32
    assert close(got.Wt.double().numpy(), ref.Wt.double().numpy(), F64, rtol=rtol, atol=rtol)


@needs_kernel
def test_kernel_threads_do_not_change_results():
    a = _run("kernel", threads=1, epochs=20)
    b = _run("kernel", threads=2, epochs=20)
    assert torch.equal(a.Wt, b.Wt) and torch.equal(a.Ht, b.Ht)


@pytest.mark.parametrize("engine", FAST)
def test_sum_with_lr_over_batch_equals_mean(engine):
    # "mean" with lr = "sum" with lr / batch_size when every batch is full (n divisible by 4)
    kw = dict(R=(1,), seeds=(3,), n_target=40, epochs=5, engine=engine)
    a = train_ufm(UFMConfig(reduction="mean", lrs=(0.4,), **kw))
    b = train_ufm(UFMConfig(reduction="sum", lrs=(0.1,), **kw))
    assert a.runs[0].counts.n % 4 == 0
    assert close(a.Wt.numpy(), b.Wt.numpy(), F64)


@pytest.mark.parametrize("engine", FAST)
def test_gd_with_ridge_reaches_a_stationary_point_of_eq1(engine):
    # At a stationary point of (1): H G^T + lam W = 0 and W G + lam H = 0, hence W W^T = H H^T.
    lam = 0.1
    cfg = UFMConfig(R=(3,), seeds=(0,), n_target=16, d=3, optimizer="gd", reduction="sum",
                    lam=lam, lrs=(0.1,), epochs=3000 if engine == "kernel" else 1500,
                    engine=engine, log_per_decade=2)
    res = train_ufm(cfg)
    W, H = res.W(0), res.H(0)
    y = res.runs[0].counts.labels()
    Z = W.T @ H
    P = np.exp(Z - Z.max(axis=0)) / np.exp(Z - Z.max(axis=0)).sum(axis=0)
    G = P - np.eye(W.shape[1])[:, y]  # (k, n) CE gradient in the logits
    grad_W = H @ G.T + lam * W
    grad_H = W @ G + lam * H
    assert np.linalg.norm(grad_W) < 1e-6 * np.linalg.norm(W)
    assert np.linalg.norm(grad_H) < 1e-6 * np.linalg.norm(H)
    assert np.linalg.norm(W @ W.T - H @ H.T) < 1e-6 * np.linalg.norm(W @ W.T)


def test_gd_loss_decreases_every_logged_epoch():
    cfg = UFMConfig(R=(10,), seeds=(0,), n_target=44, optimizer="gd", lrs=(0.5,), epochs=200,
                    log_per_decade=10)
    losses = [r["loss"] for r in train_ufm(cfg).rows]
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_init_is_seeded_and_scaled():
    cfg = UFMConfig(R=(1,), seeds=(0, 1), n_target=400, d=16, init_scale=2.0)
    runs = make_runs(cfg)
    Wt, Ht = init_state(cfg, runs)
    Wt2, _ = init_state(cfg, runs)
    assert torch.equal(Wt, Wt2) and not torch.equal(Wt[0], Wt[1])
    H = Ht[0, :400]
    assert abs(float(H.pow(2).mean()) - 4.0 / 16) < 0.03  # var init_scale^2 / d
    assert float(Ht[0, 400].abs().max()) == 0.0  # padding row


# --------------------------------------------------------------------------- metrics


@given(st.sampled_from([1, 2, 5, 10, 100]), st.integers(1, 6))
@example(10, 5)  # the paper's case: k=4, R=10, rho=1/2, n_min=5
def test_evaluate_at_the_seli_geometry(R, n_min):
    # Theorem 1 (iii): any factorization of the SEL SVD is at distance 0 from SELI
    c = step(4, R, "1/2", n_min)
    cfg = UFMConfig(R=(R,), seeds=(0,), n_min=n_min, d=5)
    runs = make_runs(cfg)
    W, M = factorize(sel_svd(c), d=5, seed=1)
    H = M[:, c.labels()]
    scale = 30.0
    Wt = torch.tensor(scale * W.T)[None]
    Ht = torch.zeros(1, c.n + 1, 5, dtype=torch.float64)
    Ht[0, :c.n] = torch.tensor(scale * H.T)
    row = evaluate(Wt, Ht, runs, cfg, epoch=0)[0]
    tol = 1e3 * default_rtol(F64)
    assert row["seli_classifiers"] < tol and row["seli_embeddings"] < tol and row["seli_logits"] < tol
    if R > 1:
        assert row["etf_classifiers"] > 0.01 and row["etf_embeddings"] > 0.01
    assert row["error"] == 0.0
    # loss: mean CE of logits scale^2 * Zhat, computed independently by torch
    logits = torch.tensor((scale * W).T @ (scale * H)).T
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor(c.labels())).item()
    assert math.isclose(row["loss"], ce, rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(row["W_norm"], scale * np.linalg.norm(W), rel_tol=1e-12)


def test_runs_nest_R_then_seed_then_lr():
    cfg = UFMConfig(R=(1, 10), seeds=(0, 1), lrs=(0.4, 0.1))
    runs = make_runs(cfg)
    assert [(r.R, r.seed, r.lr) for r in runs][:3] == [(1, 0, 0.4), (1, 0, 0.1), (1, 1, 0.4)]
    assert len(runs) == 8 and [r.index for r in runs] == list(range(8))


def test_short_paper_run_moves_towards_seli():
    cfg = UFMConfig(R=(10,), seeds=(0,), epochs=300, log_per_decade=4)
    rows = train_ufm(cfg).rows
    first = next(r for r in rows if r["epoch"] == 10)
    last = rows[-1]
    assert last["error"] == 0.0
    assert last["seli_classifiers"] < first["seli_classifiers"]
    assert last["seli_classifiers"] < last["etf_classifiers"]


# --------------------------------------------------------------------------- config errors


@pytest.mark.parametrize("kw, match", [
    (dict(d=2), r"`d` must be at least k-1 = 3 .* got d=2"),
    (dict(reduction="avg"), r"`reduction` must be one of mean, sum; got 'avg'"),
    (dict(lrs=(0.4, -1)), r"every learning rate must be a positive number; got \[0.4, -1\]"),
    (dict(seeds=(1, 1)), r"`seeds` must be distinct whole numbers"),
    (dict(R=("0.5",)), r"`R` must be at least 1"),
    (dict(R=()), r"`R` must list at least one imbalance ratio"),
    (dict(R=(10, "10.0")), r"`R` lists a ratio twice; got \['10', '10'\]\. List each ratio once\."),
    (dict(lrs=(0.4, "0.4")), r"`lr` lists a learning rate twice; got \[0.4, 0.4\]"),
    (dict(device="cuda", engine="kernel"), r"`engine` kernel runs on the CPU only"),
    (dict(cuda_graphs=True), r"`cuda_graphs` replays .* got device=cpu, engine=auto\. Add --device cuda"),
    (dict(device="cuda", engine="autograd", cuda_graphs=True), r"got device=cuda, engine=autograd"),
    (dict(lam=-1), r"`lam` must be a number >= 0; got -1"),
    (dict(dtype="bfloat16"), r"`dtype` must be one of float64, float32; got 'bfloat16'"),
])
def test_config_errors_are_one_sentence(kw, match):
    with pytest.raises(SeliInputError, match=match):
        UFMConfig(**kw)
