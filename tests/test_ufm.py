"""The UFM trainer: counts, batch order, the three engines against the plain PyTorch loop, metrics."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from proofs_check import tolerances  # noqa: E402
from tests.fp_bounds import U32, U64, gamma  # noqa: E402
from seli_exact import arithmetic, close, factorize, sel_svd, step  # noqa: E402
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


def sgd_rtol(cfg: UFMConfig, u: float = U64) -> float:
    """How far two correct implementations of `cfg`'s training may drift apart, relative to the
    size of W or H: each SGD step forms products and sums of at most m = max(batch, d, k) terms
    (gamma_m each) and applies them once, so over S steps the roundings of two routes add up to
    at most 2 S gamma_m while the iteration carries an error without amplifying it (lr times the
    curvature is below 1 over these few epochs). The engines sum in different orders (a C loop,
    batched matmuls, autograd), so bit-identity is no claim here; measured under every CPU
    capability, OpenBLAS kernel and thread count here the drift is 7-13 u in float64 and 1.7 u
    in float32, against bounds of several hundred u."""
    runs = make_runs(cfg)
    b = max(r.counts.n for r in runs) if cfg.optimizer == "gd" else cfg.batch_size
    steps = cfg.epochs * max(-(-r.counts.n // b) for r in runs)
    return 2 * steps * gamma(max(b, cfg.d, cfg.k), u)


def agree(a, b, rtol: float) -> bool:
    """|a - b| <= rtol max|b| entrywise: errors of a matrix's entries scale with the matrix."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return close(a, b, F64, rtol=rtol, atol=rtol * float(np.abs(b).max()))


def _run(engine, **kw):
    base = dict(R=(1, 10, 3), seeds=(0, 1), n_target=22, epochs=6, engine=engine, d=5,
                log_per_decade=3)
    return train_ufm(UFMConfig(**(base | kw)))


def plain_pytorch_loop(cfg: UFMConfig):
    """The UFM trained the textbook way, independently of training.ufm_engines: per run, W (k, d)
    and H (n, d) as nn.Parameters, torch.optim.SGD(lr, weight_decay=lam), cross_entropy with the
    config's reduction, one step per batch of the epoch's order (split into batch_size chunks,
    the last one smaller), or one full batch for gd. Returns [(W, H)] in run order."""
    runs = make_runs(cfg)
    Wt, Ht = init_state(cfg, runs)
    out = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors of a few dozen entries: more threads only wait
    try:
        for i, r in enumerate(runs):
            out.append(_plain_run(cfg, r, Wt[i], Ht[i]))
    finally:
        torch.set_num_threads(threads)
    return out


def _plain_run(cfg: UFMConfig, r, Wt0, Ht0):
    """One run of the plain loop from its initial Wt0 (k, d) and Ht0 (rows, d)."""
    n = r.counts.n
    y = torch.as_tensor(r.counts.labels())
    W = torch.nn.Parameter(Wt0.clone())  # (k, d)
    H = torch.nn.Parameter(Ht0[:n].clone())  # (n, d)
    opt = torch.optim.SGD([W, H], lr=r.lr, weight_decay=cfg.lam)
    for e in range(cfg.epochs):
        if cfg.optimizer == "gd":
            batches = [torch.arange(n)]
        else:
            batches = torch.as_tensor(epoch_permutation([r.seed], e, [n])[0]).split(cfg.batch_size)
        for idx in batches:
            loss = torch.nn.functional.cross_entropy(H[idx] @ W.T, y[idx],
                                                     reduction=cfg.reduction)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return W.detach(), H.detach()


ALL = ["autograd"] + FAST
# Groups of n = 4, 22, 8 (R = 1, 10, 3 with n_min = 1): no batch size below divides all three,
# so runs take different numbers of steps per epoch and each has a ragged last batch; an engine
# that decays a run on a step it does not take, or treats the last batch unlike SGD, drifts.
RAGGED = dict(R=(1, 10, 3), n_min=1, seeds=(0, 1), lrs=(0.3, 0.1), d=5, epochs=7,
              log_per_decade=2)


@pytest.mark.parametrize("engine", ALL)
@pytest.mark.parametrize("lam", [0.0, 0.05], ids=["no decay", "weight decay"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("batch", [3, 4], ids=lambda b: f"batch {b}")
def test_engines_match_the_plain_pytorch_loop_on_ragged_batches(engine, lam, reduction, batch):
    cfg = UFMConfig(**RAGGED, engine=engine, lam=lam, reduction=reduction, batch_size=batch)
    assert any(r.counts.n % batch for r in make_runs(cfg))
    got = train_ufm(cfg)
    tol = sgd_rtol(cfg)
    moved = 0.0
    for i, (run, (W, H)) in enumerate(zip(got.runs, plain_pytorch_loop(cfg))):
        assert agree(got.Wt[i].numpy(), W.numpy(), tol), (run, "W")
        assert agree(got.Ht[i, :run.counts.n].numpy(), H.numpy(), tol), (run, "H")
        assert float(got.Ht[i, run.counts.n:].abs().max()) == 0.0  # padding rows untouched
        moved = max(moved, float((W - init_state(cfg, got.runs)[0][i]).abs().max()))
    assert moved > 0.01  # the runs trained: equality is not two copies of the start


@pytest.mark.parametrize("engine", ALL)
@pytest.mark.parametrize("lam", [0.0, 0.05], ids=["no decay", "weight decay"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gd_engines_match_the_plain_pytorch_loop(engine, lam, reduction):
    cfg = UFMConfig(**(RAGGED | {"lrs": (0.05,)}), engine=engine, lam=lam, reduction=reduction,
                    optimizer="gd")
    got = train_ufm(cfg)
    tol = sgd_rtol(cfg)
    for i, (run, (W, H)) in enumerate(zip(got.runs, plain_pytorch_loop(cfg))):
        assert agree(got.Wt[i].numpy(), W.numpy(), tol)
        assert agree(got.Ht[i, :run.counts.n].numpy(), H.numpy(), tol)


def test_plain_loop_reference_is_sensitive_to_decay_on_skipped_steps():
    """The reference itself tells apart a loop that decays on steps a run does not take: the
    n = 4 runs take 2 steps an epoch at batch 3 while the n = 22 runs take 8; decaying the small
    runs 8 times would shrink W by (1 - lr lam)^6 more per epoch, far above rounding."""
    cfg = UFMConfig(**RAGGED, engine="autograd", lam=0.05, batch_size=3)
    ref = plain_pytorch_loop(cfg)
    small = next(i for i, r in enumerate(make_runs(cfg)) if r.counts.n == 4)
    W = ref[small][0]
    wrong = W * (1 - make_runs(cfg)[small].lr * 0.05) ** (6 * cfg.epochs)
    assert not agree(W.numpy(), wrong.numpy(), 1e3 * sgd_rtol(cfg))


@needs_kernel
def test_float32_kernel_matches_the_float32_plain_loop():
    ref = _run("autograd", dtype="float32")
    got = _run("kernel", dtype="float32")
    assert got.Wt.dtype == torch.float32
    assert agree(got.Wt.double().numpy(), ref.Wt.double().numpy(), sgd_rtol(got.config, U32))
    assert not torch.equal(got.Wt.double(), _run("kernel").Wt)  # float32 did round as float32


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
    # 0.4 * (g / 4) and 0.1 * g round differently at most once per step
    assert agree(a.Wt.numpy(), b.Wt.numpy(), sgd_rtol(a.config))


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
    # Gram products and a normalized difference of O(k) dense float64 operations, from the
    # structured SVD's factors (no LAPACK): proofs_check.tolerances.float64(k)
    tol = tolerances.float64(c.k)
    assert row["seli_classifiers"] < tol and row["seli_embeddings"] < tol and row["seli_logits"] < tol
    if R > 1:
        assert row["etf_classifiers"] > 0.01 and row["etf_embeddings"] > 0.01
    assert row["error"] == 0.0
    # loss: mean CE of logits scale^2 * Zhat, computed independently by torch. Both take the
    # log-sum-exp of k logits per example (k + 2 roundings, relative to the largest logit zmax,
    # since lse - z_y cancels) and a mean of n terms (gamma_n): |error| <= (gamma_n + (k + 2) u)
    # (loss + zmax), in float64 whatever the kernel
    logits = torch.tensor((scale * W).T @ (scale * H)).T
    ce = torch.nn.functional.cross_entropy(logits, torch.tensor(c.labels())).item()
    zmax = float(logits.abs().max())
    assert abs(row["loss"] - ce) <= (gamma(c.n, U64) + (c.k + 2) * U64) * (abs(ce) + zmax)
    # ||W||_F: a sum of k d squares and a square root, gamma_{kd} + u
    assert math.isclose(row["W_norm"], scale * np.linalg.norm(W),
                        rel_tol=2 * gamma(c.k * 5, U64) + 2 * U64)


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
    (dict(lrs=(0.4, -1)), r"`lr` must be in \(0, 1000000\); got lr=-1\.0\. Try 0\.4\."),
    (dict(lrs="nan"), r"`lr` must be a number; got the text 'nan'"),
    (dict(lrs=(float("inf"),)), r"`lr` must be a finite number; got inf"),
    (dict(seeds=(1, 1)), r"`seeds` lists 1 twice; got \['1', '1'\]\. List each value once\."),
    (dict(seeds=(-1,)), r"`seeds` must be in \[0, 1\.845e\+19\]; got seeds=-1"),
    (dict(R=("0.5",)), r"`R` must be in \[1, 1000000000\]; got R=0\.5"),
    (dict(R=()), r"`R` must list at least one value; got none"),
    (dict(R=""), r"`R` must be a comma-separated list with no empty item; got ''"),
    (dict(R="1,,10"), r"`R` must be a comma-separated list with no empty item; got '1,,10'"),
    (dict(R=(10, "10.0")), r"`R` lists 10 twice; got \['10', '10'\]\. List each value once\."),
    (dict(lrs=(0.4, "0.4")), r"`lr` lists 0\.4 twice"),
    (dict(epochs="1e400"), r"`epochs` must be a whole number with an exponent of at most 300; "
                           r"got '1e400'\. Try 100000\."),
    (dict(epochs=10**10), r"`epochs` must be in \[0, 1000000000\]; got epochs=10000000000"),
    (dict(d="1e400"), r"`d` must be a whole number with an exponent of at most 300"),
    (dict(k="2.5"), r"`k` must be a whole number; got '2\.5'"),
    (dict(device="cuda", engine="kernel"), r"`engine` kernel runs on the CPU only"),
    (dict(cuda_graphs=True), r"`cuda_graphs` replays .* got device=cpu, engine=auto\. Add --device cuda"),
    (dict(device="cuda", engine="autograd", cuda_graphs=True), r"got device=cuda, engine=autograd"),
    (dict(lam=-1), r"`lam` must be in \[0, 1000000\]; got lam=-1\.0\. Use 0 for Fig 4\."),
    (dict(lam="1e300"), r"`lam` must be in \[0, 1000000\]; got lam=1e\+300"),
    (dict(dtype="bfloat16"), r"`dtype` must be one of float64, float32; got 'bfloat16'"),
    (dict(engine="torch", threads=2), r"`threads` splits the runs of the CPU kernel engine and "
                                      r"nothing else; got threads=2 with device=cpu, engine=torch"),
    (dict(cuda_graphs="yes"), r"`cuda_graphs` must be True or False; got 'yes'"),
    # conflicting or ignored settings (issue 14)
    (dict(n_min=5, n_target=400), r"`n_min` fixes the class sizes, so `n_target` cannot choose "
                                  r"them; got n_min=5 and n_target=400\. Give one of"),
    (dict(optimizer="gd", batch_size=4), r"`batch_size` is ignored by full-batch gd; got "
                                         r"batch_size=4 with optimizer=gd"),
    (dict(R=(1, 10), batch_size=500), r"`batch_size` 500 is larger than the n = 396 examples of "
                                      r"the runs with R=10; pass --batch-size 396 or less"),
    (dict(counts="50,50,5,5", R=(10,)), r"`counts` replaces the STEP model, but --R was given too"),
    (dict(profile="exp:k=4:ratio=10", n_min=2), r"`profile` replaces the STEP model, but --n-min"),
    (dict(profile="exp:k=4:ratio=10", counts=(5, 5)), r"`counts` and `profile` both give the "
                                                      r"class counts"),
    (dict(counts=(5, 5, 2), k=4), r"`k`=4 disagrees with the 3 classes of the given counts"),
    (dict(profile="exp:k=3,4:ratio=10"), r"names count vectors with k = \[3, 4\]; the runs of one"),
    (dict(profile="exp:k=4:ratio=10:n_max=100,200"), r"names two count vectors with the "
                                                     r"imbalance ratio 10"),
    (dict(profile="exp:k=4:ratio=0.5"), r"`ratio` must be at least 1"),
    (dict(counts="5,0,3"), r"every class count must be a whole number >= 1; got 0 for class 1"),
    # resource estimates before anything is allocated
    (dict(counts=(10**9, 10**9, 1), seeds=(0,)), r"would need about .* GiB for 1 runs of up to "
                                                 r"n = 2000000001 .* above the 8 GiB"),
    (dict(k=60000, d=60000, seeds=(0,), R=(1,), n_min=1), r"would need about .* GiB"),
])
def test_config_errors_are_one_sentence(kw, match):
    with pytest.raises(SeliInputError, match=match) as err:
        UFMConfig(**kw)
    assert "\n" not in str(err.value)


def test_defaults_are_the_papers_fig4_setup():
    c = UFMConfig()
    assert (c.k, c.R, c.rho, c.n_target, c.n_min) == (4, (1, 5, 10, 100), Fraction(1, 2), 400, None)
    assert (c.lrs, c.batch_size, c.lam, c.epochs, c.seeds) == ((0.4,), 4, 0.0, 100_000, (0, 1, 2))
    assert [cnt.n for _, cnt in c.groups()] == [400, 396, 396, 404]
    g = UFMConfig(optimizer="gd")
    assert g.batch_size is None


def test_long_tail_profile_runs_one_group_per_ratio():
    cfg = UFMConfig(profile="exp:k=10:ratio=1,10,100:n_max=100", seeds=(0, 1))
    runs = make_runs(cfg)
    assert cfg.k == 10 and cfg.R is None and [r.R for r in runs] == [1, 1, 10, 10, 100, 100]
    # n_c = floor(100 * ratio^(-c/9)) (CIFAR-10-LT's rule), checked by hand for ratio = 100:
    # 100 * 100^(-c/9) = 100, 59.9, 35.9, 21.5, 12.9, 7.7, 4.6, 2.8, 1.7, 1
    assert runs[4].counts.counts == (100, 59, 35, 21, 12, 7, 4, 2, 1, 1)
    assert runs[0].counts.counts == (100,) * 10
    explicit = UFMConfig(counts="50,20,5", seeds=(0,))
    assert explicit.k == 3 and [(r.R, r.counts.counts) for r in make_runs(explicit)] == \
        [(10, (50, 20, 5))]
    assert UFMConfig(counts="9,6,4", seeds=(0,)).groups()[0][0] == Fraction(9, 4)


def test_short_long_tail_run_moves_towards_its_own_seli_geometry():
    cfg = UFMConfig(profile="exp:k=5:ratio=20:n_max=40", seeds=(0,), d=8, epochs=400,
                    log_per_decade=4)
    rows = train_ufm(cfg).rows
    first = next(r for r in rows if r["epoch"] == 9)
    last = rows[-1]
    assert last["error"] == 0.0 and last["R"] == "20"
    assert last["seli_classifiers"] < first["seli_classifiers"]
    assert last["seli_classifiers"] < last["etf_classifiers"]
