"""training.deepnet: config, schedule, the measuring pass, long tails, resume, NaN guard, CLI,
Fig 2, and final.npz read back by `seli measure`."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seli_cli.main import main  # noqa: E402
from seli_exact import arithmetic, close  # noqa: E402
from seli_exact.errors import SeliInputError  # noqa: E402
from training.data import load_digits, profile_subsample, step_subsample  # noqa: E402
from training.deepnet import DeepNetConfig, load_run, measure, to_device, train  # noqa: E402
from training.models import build_model  # noqa: E402
from training.runio import NonFiniteError  # noqa: E402

# a run small enough for a test: 2 minority images a class, (10, 1/2)-STEP -> n = 110
TINY = dict(dataset="digits", arch="mlp", width=16, R=10, n_min=2, epochs=6, batch_size=16,
            metrics_every="epoch", checkpoint_every=2)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets gain nothing from intra-op threads, and on a busy machine threads only wait."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def strip_time(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


# ---------------------------------------------------------------- config and schedule

def test_defaults_are_the_papers_recipe():
    c = DeepNetConfig()
    assert (c.lr, c.momentum, c.weight_decay, c.epochs, c.gamma) == (0.1, 0.9, 5e-4, 350, 0.1)
    assert c.milestone_epochs() == (117, 233)  # 350/3 = 116.7, 700/3 = 233.3
    # lr * gamma**drops: two roundings against the decimal literals' one: 4 u covers it
    assert [c.lr_at(e) for e in (1, 117, 118, 233, 234, 350)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rel=4 * 2.0**-53, abs=0)
    assert c.batch_size == 32 and DeepNetConfig(dataset="cifar10").batch_size == 128


@pytest.mark.parametrize("kw,match", [
    ({"dataset": "svhn"}, "`dataset` must be one of digits, mnist"),
    ({"arch": "vit"}, "`arch` must be one of mlp, resnet18, vgg13"),
    ({"lr": "fast"}, "`lr` must be a number; got the text 'fast'"),
    ({"lr": "nan"}, "`lr` must be a number; got the text 'nan'"),
    ({"lr": 0}, r"`lr` must be in \(0, 1000\); got lr=0"),
    ({"weight_decay": -1}, r"`weight_decay` must be in \[0, 1000\]; got weight_decay=-1"),
    ({"milestones": (0.7, 0.3)}, "`milestones` must be increasing fractions"),
    ({"milestones": (0.5, 1)}, r"`milestones` must be in \(0, 1\); got milestones=1"),
    ({"epochs": 0}, "`epochs` must be in \\[1, 1000000\\]; got epochs=0"),
    ({"epochs": "1e400"}, "`epochs` must be a whole number with an exponent of at most 300"),
    ({"metrics_every": "step"}, "`metrics_every` must be one of log, epoch; got 'step'"),
    ({"device": "tpu"}, "`device` must be cpu or cuda"),
    ({"device": "cuda:x"}, r"`device` must be cpu or cuda \(cuda:N for GPU N\); got 'cuda:x'"),
    ({"milestones": ()}, r"`milestones` must list at least one value; got none\. Try 1/3,2/3 "
                         r"\(or --gamma 1"),
    ({"epochs": -2}, r"`epochs` must be in \[1, 1000000\]; got epochs=-2\. Try 350\."),
    ({"R": "1/2"}, r"`R` must be in \[1, 1000000\]; got R=0\.5\. R is the imbalance ratio"),
    ({"rho": 1}, r"`rho` must lie strictly between 0 and 1; got rho=1\. Try rho=1/2\."),
    ({"threads": 0}, r"`threads` must be in \[1, 4096\]; got threads=0"),
    ({"data_root": "/data"}, r"`data_root` names where data files are, but digits is built in"),
    ({"tf32": True}, r"`tf32` allows TF32 arithmetic on CUDA devices only; got device=cpu"),
    ({"R": 10, "profile": "exp:k=10:ratio=10:n_max=50"}, r"`profile` replaces the STEP model, "
                                                         r"but --R was given too"),
    ({"counts": (5,) * 10, "profile": "exp:k=10:ratio=10"}, "`counts` and `profile` both give"),
    ({"profile": "exp:k=10:ratio=1,10"}, r"`profile` must name one count vector here"),
    ({"profile": "zipf:k=10"}, r"`profile` must start with one of exp, step"),
])
def test_config_rejects_bad_values(kw, match):
    with pytest.raises(SeliInputError, match=match):
        DeepNetConfig(**kw)


# ---------------------------------------------------------------- the measuring pass

@pytest.mark.parametrize("subset", ["step", "long tail"])
def test_measure_against_a_dense_svd_reference(subset):
    """Distances recomputed by hand: class means by loops, centring, SELI from numpy's SVD of the
    SEL matrix of the subset's own counts (ten distinct counts for the long tail).

    Both routes start from the float32 arrays of the measuring pass (`collect`, batches of 7),
    so the comparison is one of float64 arithmetic, at the dense-SVD route's tolerance
    (proofs_check.tolerances.lapack); features from another forward pass (another batch size,
    another CPU kernel) would differ in float32's last bits, which is no claim of this test."""
    from proofs_check import tolerances
    from training.deepnet import collect

    sub = step_subsample(load_digits(), 10, n_min=2, seed=0) if subset == "step" else \
        profile_subsample(load_digits(), "exp:k=10:ratio=10:n_max=20", seed=0)
    x, y = to_device(sub, "cpu")
    model = build_model("mlp", (1, 8, 8), 10, width=12, seed=1).eval()
    got = measure(model, x, y, sub.counts, eval_batch=7)  # batches of 7: the pass is batched
    W32, H32, _, correct = collect(model, x, y, eval_batch=7)  # the arrays `got` comes from

    H = H32.astype(np.float64)  # (n, d)
    W = W32.astype(np.float64).T  # (d, k)
    labels = sub.data.y
    k = 10
    M = np.stack([H[labels == c].mean(axis=0) for c in range(k)], axis=1)  # (d, k)
    M = M - M.mean(axis=1, keepdims=True)  # Sec. G: centred by the balanced mean
    Z = np.eye(k)[labels].T - 1.0 / k  # SEL matrix (k, n), Definition 2
    U, s, Vt = np.linalg.svd(Z.T, full_matrices=False)
    V, lam = Vt[: k - 1].T, s[: k - 1]
    G_W_seli, G_M_seli = V @ np.diag(lam) @ V.T, V @ np.diag(1 / lam) @ V.T
    G_star = np.eye(k) - 1.0 / k

    def dist(A, B):
        return np.linalg.norm(A / np.linalg.norm(A) - B / np.linalg.norm(B))

    tol = tolerances.lapack(sub.counts)
    f64 = arithmetic("float64")
    for key, ref in (("seli_classifiers", dist(W.T @ W, G_W_seli)),
                     ("etf_classifiers", dist(W.T @ W, G_star)),
                     ("seli_embeddings", dist(M.T @ M, G_M_seli)),
                     ("etf_embeddings", dist(M.T @ M, G_star)),
                     ("seli_logits", dist(W.T @ M, G_star))):
        assert close(got[key], ref, f64, rtol=tol, atol=tol), key
    # accuracy: the pass decides in float32, the reference in float64; they may differ only on
    # near ties, whose top two logits are closer than float32's dot-product bound gamma_d u32
    Z = H @ W  # (n, k)
    top2 = np.sort(Z, axis=1)[:, -2:]
    from tests.fp_bounds import gamma

    bound = 2 * gamma(H.shape[1]) * (np.abs(H) @ np.abs(W)).max(axis=1)
    ties = int((top2[:, 1] - top2[:, 0] <= bound).sum())
    n = labels.shape[0]
    assert got["train_acc"] == correct / n
    assert abs(correct - int((Z.argmax(axis=1) == labels).sum())) <= ties


# ---------------------------------------------------------------- training runs

def test_tiny_run_records_every_epoch_and_the_zero_error_epoch():
    res = train(DeepNetConfig(**TINY, lr=0.05))
    assert [r["epoch"] for r in res.rows] == list(range(7))
    assert res.counts.counts == (20,) * 5 + (2,) * 5
    first = next((r["epoch"] for r in res.rows if r["epoch"] > 0 and r["train_acc"] == 1.0), None)
    assert res.zero_error_epoch == first
    assert res.rows[0]["train_loss_sgd"] is None and res.rows[1]["train_loss_sgd"] > 0
    assert [r["lr"] for r in res.rows[1:]] == pytest.approx([0.05] * 2 + [0.005] * 2 + [5e-4] * 2)


def test_log_spaced_metrics_and_every_epoch_until_zero_error():
    res = train(DeepNetConfig(**(TINY | {"R": 2, "n_min": 4, "width": 32, "epochs": 12,
                                         "milestones": (0.9,), "metrics_every": "log",
                                         "per_decade": 1})))
    epochs = [r["epoch"] for r in res.rows]
    z = res.zero_error_epoch
    assert z is not None
    assert epochs[: z + 1] == list(range(z + 1))  # dense until zero training error
    assert set(epochs[z + 1:]) <= {1, 12}  # log_epochs(12, per_decade=1) = [0, 1, 12]
    assert epochs[-1] == 12


def test_resume_is_bit_identical_on_cpu(tmp_path):
    config = DeepNetConfig(**TINY)
    whole = train(config, out=tmp_path / "a")

    class Killed(Exception):
        pass

    def kill_at_5(epoch, **_):
        if epoch == 5:  # after the checkpoint at epoch 4 and the row of epoch 5
            raise Killed

    with pytest.raises(Killed):
        train(config, out=tmp_path / "b", progress=kill_at_5)
    assert len(load_run(tmp_path / "b").rows) == 6  # epochs 0..5 on disk, 5 past the checkpoint
    resumed = train(config, out=tmp_path / "b", resume=True)
    assert strip_time(resumed.rows) == strip_time(whole.rows)
    assert strip_time(load_run(tmp_path / "b").rows) == strip_time(whole.rows)
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)["state"]["model"]
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["state"]["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert resumed.zero_error_epoch == whole.zero_error_epoch
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert saved["config"]["R"] == "10" and saved["config"]["batch_size"] == 16


def test_resume_refuses_another_config(tmp_path):
    train(DeepNetConfig(**(TINY | {"epochs": 2})), out=tmp_path)
    with pytest.raises(SeliInputError, match="--resume needs the configuration"):
        train(DeepNetConfig(**(TINY | {"epochs": 2, "lr": 0.5})), out=tmp_path, resume=True)
    with pytest.raises(SeliInputError, match="already holds a run"):
        train(DeepNetConfig(**(TINY | {"epochs": 2})), out=tmp_path)


def test_resume_refuses_an_epoch_count_that_moves_the_milestones(tmp_path):
    # the milestones are fractions of the epochs: 2 -> 4 epochs moves the second drop from
    # after epoch 1 (round(2 * 2/3)) to after epoch 3 (round(4 * 2/3)), so epoch 2, trained at
    # 0.1 * 0.1^2 = 0.001, would have had 0.01
    train(DeepNetConfig(**(TINY | {"epochs": 2})), out=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SeliInputError, match=r"--resume cannot change --epochs from 2 to 4: the "
                                             r"learning rate drops by --gamma at the fractions "
                                             r"0\.3333, 0\.6667 of --epochs, so 4 epochs would "
                                             r"train epoch 2 at lr 0\.01 where this run used "
                                             r"0\.001; start a fresh --out"):
        train(DeepNetConfig(**(TINY | {"epochs": 4})), out=tmp_path, resume=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_constant_rate_run_extends_to_the_run_trained_longer(tmp_path):
    flat = TINY | {"gamma": 1.0, "epochs": 3}
    train(DeepNetConfig(**flat), out=tmp_path / "ext")
    extended = train(DeepNetConfig(**(flat | {"epochs": 6})), out=tmp_path / "ext", resume=True)
    whole = train(DeepNetConfig(**(flat | {"epochs": 6})), out=tmp_path / "whole")
    assert strip_time(extended.rows) == strip_time(whole.rows)
    a, b = np.load(tmp_path / "ext" / "final.npz"), np.load(tmp_path / "whole" / "final.npz")
    assert all(np.array_equal(a[k], b[k]) for k in ("classifier", "features", "labels"))
    # an interrupted step-schedule run may take a new count while no milestone has passed
    step = TINY | {"epochs": 30, "checkpoint_every": 2}

    def stop(epoch, **_):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(DeepNetConfig(**step), out=tmp_path / "cut", progress=stop)
    assert train(DeepNetConfig(**(step | {"epochs": 12})), out=tmp_path / "cut",
                 resume=True).rows[-1]["epoch"] == 12


def test_resume_refuses_other_training_images(tmp_path):
    config = DeepNetConfig(**(TINY | {"epochs": 2}))
    train(config, out=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    data = load_digits()
    y = data.y.copy()
    y[[0, 1]] = y[[1, 0]]  # the data set on disk changed: two labels swapped
    changed = type(data)(data.name, data.x, y, data.k, data.source)
    with pytest.raises(SeliInputError, match=r"--resume found other training images than the run "
                                             r"started with .* or start a fresh --out"):
        train(config, out=tmp_path, resume=True, data=changed)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing touched
    assert train(config, out=tmp_path, resume=True, data=data).rows  # the same data resume


def test_nan_guard_keeps_the_last_good_checkpoint(tmp_path):
    # lr 0.1 in epoch 1, 100 in epoch 2, 1e5 after: the loss blows up in epoch 2, 3 or 4
    config = DeepNetConfig(**(TINY | {"gamma": 1000, "milestones": (0.25, 0.5), "epochs": 4,
                                      "checkpoint_every": 1}))
    with pytest.raises(NonFiniteError, match=r"training loss became (nan|inf) at epoch [234]; "
                                             r"training stopped and the last good checkpoint"):
        train(config, out=tmp_path)
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ckpt["epoch"] in (1, 2, 3)
    assert all(torch.isfinite(v).all() for v in ckpt["state"]["model"].values())
    rows = load_run(tmp_path).rows
    assert all(np.isfinite(v) for r in rows for v in r.values() if isinstance(v, float))


def test_bf16_and_channels_last_on_a_conv_net():
    config = DeepNetConfig(**(TINY | {"arch": "resnet18", "width": 2, "epochs": 1, "bf16": True,
                                      "channels_last": True}))
    res = train(config)
    assert len(res.rows) == 2 and np.isfinite(res.rows[-1]["seli_classifiers"])


# ---------------------------------------------------------------- CLI and figure

def test_cli_train_and_fig2(tmp_path, capsys):
    flags = ["--width", "16", "--n-min", "2", "--epochs", "3", "--batch-size", "16",
             "--no-progress", "--metrics-every", "epoch"]
    assert main(["train", "deepnet", "--out", str(tmp_path / "t"), "--R", "10", *flags]) == 0
    out = capsys.readouterr().out
    assert "class counts [20, 20, 20, 20, 20, 2, 2, 2, 2, 2]" in out
    assert main(["reproduce", "fig2", "--out", str(tmp_path / "f"), "--R", "1,10", *flags]) == 0
    for name in ("fig2.png", "fig2.pdf", "fig2.csv"):
        assert (tmp_path / "f" / name).stat().st_size > 0
    assert (tmp_path / "f" / "fig2.png").read_bytes()[:4] == b"\x89PNG"
    lines = (tmp_path / "f" / "fig2.csv").read_text().splitlines()
    assert lines[0] == "R,seed,epoch,quantity,geometry,distance,zero_error_epoch"
    assert len(lines) == 1 + 2 * 4 * 3 * 2  # 2 R x epochs 0..3 x 3 quantities x SELI/ETF
    assert (tmp_path / "f" / "R10" / "metrics.csv").exists()


def test_cli_quiet_off_a_terminal_and_resume_of_a_finished_run(tmp_path, capsys):
    flags = ["--width", "16", "--n-min", "2", "--epochs", "3", "--batch-size", "16"]
    assert main(["train", "deepnet", "--out", str(tmp_path), *flags]) == 0
    first = capsys.readouterr()
    assert first.err == ""  # no progress line when stderr is not a terminal (a pipe, a log)
    # resuming a finished run trains nothing more and reports the same final row
    assert main(["train", "deepnet", "--out", str(tmp_path), "--resume", "--json", *flags]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["final"] == load_run(tmp_path).rows[-1]
    assert again["subset"]["class_counts"] == [20] * 5 + [2] * 5


def test_cli_trains_on_fake_mnist_files(tmp_path, capsys):
    """From idx files on disk through STEP subsampling to a run: the --data-root path."""
    import gzip
    import struct

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    y = np.repeat(np.arange(10), 6).astype(np.uint8)  # 6 images a class
    x = np.random.default_rng(0).integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    for name, arr in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y)):
        head = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
        (raw / (name + ".gz")).write_bytes(gzip.compress(head + arr.tobytes()))
    assert main(["train", "deepnet", "--out", str(tmp_path / "run"), "--dataset", "mnist",
                 "--data-root", str(tmp_path / "data"), "--arch", "mlp", "--width", "16",
                 "--R", "2", "--epochs", "1", "--batch-size", "16", "--no-progress"]) == 0
    # R = 2 on 6 images a class: n_min = 3, majorities 6
    assert "class counts [6, 6, 6, 6, 6, 3, 3, 3, 3, 3]" in capsys.readouterr().out
    # the default batch of 128 would be larger than these 45 images: refused, nothing written
    assert main(["train", "deepnet", "--out", str(tmp_path / "big"), "--dataset", "mnist",
                 "--data-root", str(tmp_path / "data"), "--arch", "mlp", "--width", "16",
                 "--R", "2", "--epochs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: `batch_size` 128 is larger than the training set (45 images); pass "
                   "--batch-size 45 or less.\n")
    assert not (tmp_path / "big").exists()


def test_fig2_checks_every_ratio_before_training(tmp_path, capsys):
    flags = ["--width", "16", "--n-min", "2", "--epochs", "1", "--no-progress"]
    for R, match in (("1,x", "error: `R` must be a number; got the text 'x'"),
                     ("10,10.0", "error: `R` lists 10 twice; got ['10', '10']. List each value once.")):
        assert main(["reproduce", "fig2", "--out", str(tmp_path / "f"), "--R", R, *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith(match) and err.count("\n") == 1
    assert not (tmp_path / "f").exists()  # the good first ratio did not train


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "deepnet", "--out", str(tmp_path), "--dataset", "mnist",
                 "--data-root", str(tmp_path), "--allow-long"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: mnist needs train-images-idx3-ubyte") and err.count("\n") == 1
    assert main(["train", "deepnet", "--out", str(tmp_path), "--R", "0.5"]) == 2
    assert "`R` must be in [1, 1000000]; got R=0.5" in capsys.readouterr().err


@pytest.mark.slow
def test_real_digits_trajectory_passes_and_its_swap_is_refuted():
    """The deepnet_digits judge on the thorough check's run; the same rows with SELI and ETF
    exchanged must be refuted (the planted rows live with the claim)."""
    from proofs_check.claims.deepnet_digits import judge_deepnet
    from seli_exact.verdict import Status

    res = train(DeepNetConfig(dataset="digits", arch="mlp", R=10, seed=0))
    assert judge_deepnet(res.rows, res.zero_error_epoch).status is Status.VERIFIED
    swapped = []
    for r in res.rows:
        s = dict(r)
        for obj in ("classifiers", "embeddings"):
            s[f"seli_{obj}"], s[f"etf_{obj}"] = r[f"etf_{obj}"], r[f"seli_{obj}"]
        swapped.append(s)
    assert judge_deepnet(swapped, res.zero_error_epoch).status is Status.REFUTED


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a CPU-only torch")
def test_cuda_asked_without_a_device():
    with pytest.raises(SeliInputError, match="`device` is 'cuda' but this torch build sees no CUDA"):
        train(DeepNetConfig(**(TINY | {"device": "cuda"})))


# ---------------------------------------------------------------- long tails


def test_profile_subsample_trains_and_is_recorded(tmp_path):
    cfg = DeepNetConfig(**(TINY | {"R": None, "n_min": None,
                                   "profile": "exp:k=10:ratio=10:n_max=20", "epochs": 2}))
    res = train(cfg, out=tmp_path)
    # floor(20 * 10^(-c/9)): 20, 15.5, 11.9, 9.3, 7.2, 5.6, 4.3, 3.3, 2.6, 2
    assert res.counts.counts == (20, 15, 11, 9, 7, 5, 4, 3, 2, 2)
    summary = json.loads((tmp_path / "summary.json").read_text())["subset"]
    assert summary["model"] == "exp" and summary["ratio"] == "10" and summary["n_max"] == "20"
    assert summary["class_counts"] == list(res.counts.counts) and len(summary["indices_sha256"]) == 64
    again = profile_subsample(load_digits(), cfg.profile, seed=cfg.seed)  # seeded: the same images
    assert summary["indices_sha256"] == again.record()["indices_sha256"]


def test_a_profile_the_data_cannot_supply_names_the_largest_n_max(tmp_path, capsys):
    assert main(["train", "deepnet", "--out", str(tmp_path / "r"), "--profile",
                 "exp:k=10:ratio=10:n_max=500", "--width", "16", "--epochs", "1",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    # digits has 174..183 images a class: n_max = 178 (the head class 0 has 178) is the largest
    assert err.startswith("error: `profile` 'exp:k=10:ratio=10:n_max=500' asks for [500, 387, ")
    assert err.endswith("the largest n_max it can supply for ratio=10 is 178.\n")
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()
    assert main(["train", "deepnet", "--out", str(tmp_path / "c"), "--counts", "5,5,5",
                 "--width", "16", "--epochs", "1", "--no-progress"]) == 2
    assert "--counts lists 3 classes, but digits has 10" in capsys.readouterr().err


def test_fig2_with_a_long_tail_profile(tmp_path, capsys):
    flags = ["--width", "16", "--epochs", "2", "--batch-size", "16", "--no-progress",
             "--metrics-every", "epoch"]
    assert main(["reproduce", "fig2", "--out", str(tmp_path), "--profile",
                 "exp:k=10:ratio=1,10:n_max=12", *flags]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ratio ")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["ratio1", "ratio10"]
    table = (tmp_path / "fig2.csv").read_text().splitlines()
    assert len(table) == 1 + 2 * 3 * 3 * 2 and {t.split(",")[0] for t in table[1:]} == {"1", "10"}
    cfg = json.loads((tmp_path / "ratio10" / "config.json").read_text())["config"]
    assert cfg["profile"] == "exp:k=10:ratio=10:n_max=12" and cfg["R"] is None
    # --R with a profile is a conflict; --resume finds the runs and trains nothing more
    assert main(["reproduce", "fig2", "--out", str(tmp_path), "--R", "10", "--profile",
                 "exp:k=10:ratio=1,10:n_max=12", *flags]) == 2
    assert "`profile` replaces the STEP model, but --R was given too" in capsys.readouterr().err
    before = (tmp_path / "ratio10" / "metrics.csv").read_bytes()
    assert main(["reproduce", "fig2", "--out", str(tmp_path), "--profile",
                 "exp:k=10:ratio=1,10:n_max=12", *flags, "--resume"]) == 0
    assert (tmp_path / "ratio10" / "metrics.csv").read_bytes() == before
    capsys.readouterr()
    assert main(["reproduce", "fig2", "--out", str(tmp_path / "none"), "--profile",
                 "exp:k=10:ratio=1,10:n_max=12", *flags, "--resume"]) == 2
    assert capsys.readouterr().err.startswith("error: --resume found no run in ")
    assert not (tmp_path / "none").exists()


def test_fig2_out_help_describes_the_figure_folder(capsys):
    try:
        assert main(["reproduce", "fig2", "--help"]) == 0
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    assert "--out DIR output folder: fig2.png, fig2.pdf and fig2.csv" in text
    assert "--R A,B,... imbalance ratios of (R, rho)-STEP, comma-separated (one run each); " \
           "default 1,10,100" in text


@pytest.mark.parametrize("width, ok", [(8, False), (9, True)])
def test_features_narrower_than_k_minus_1_are_refused(tmp_path, width, ok):
    cfg = DeepNetConfig(**(TINY | {"width": width, "epochs": 1}))
    if ok:
        assert train(cfg, out=tmp_path).rows
        return
    with pytest.raises(SeliInputError, match=r"the mlp's feature dimension d = 8 \(from --width "
                                             r"8\) is below k - 1 = 9"):
        train(cfg, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- measurement consistency


def test_seli_measure_on_final_npz_equals_the_last_logged_row(tmp_path, capsys):
    """The trainer's numbers are `seli measure`'s numbers on the arrays it saved."""
    assert main(["train", "deepnet", "--out", str(tmp_path), "--profile",
                 "exp:k=10:ratio=10:n_max=30", "--width", "24", "--epochs", "4",
                 "--batch-size", "16", "--no-progress"]) == 0
    capsys.readouterr()
    final = np.load(tmp_path / "final.npz")
    assert final["classifier"].shape == (10, 24) and final["classifier"].dtype == np.float32
    assert final["features"].shape == (final["labels"].shape[0], 24)
    src = lambda key: f"{tmp_path / 'final.npz'}:{key}"  # noqa: E731
    assert main(["measure", "--classifier", src("classifier"), "--features", src("features"),
                 "--labels", src("labels"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    last = load_run(tmp_path).rows[-1]
    assert last["epoch"] == 4 and m["center"] == "balanced"
    assert m["class_counts"] == json.loads((tmp_path / "summary.json").read_text())["subset"]["class_counts"]
    f64 = arithmetic("float64")
    for geo in ("seli", "etf"):
        for q in ("classifiers", "embeddings", "logits"):
            assert close(m[f"distance_to_{geo}"][q], last[f"{geo}_{q}"], f64), (geo, q)
    assert close(m["nc1"], last["nc1"], f64)
    # and the saved arrays are the trained network's: its own forward pass gives them again
    assert close(np.linalg.norm(final["classifier"].astype(np.float64)), last["W_norm"], f64)


def test_feature_dim_is_the_built_networks(tmp_path):
    for arch, width in (("mlp", None), ("mlp", 12), ("resnet18", 2), ("vgg13", 3)):
        cfg = DeepNetConfig(arch=arch, width=width)
        assert cfg.feature_dim() == build_model(arch, (1, 8, 8), 10, width=width).d


# ---------------------------------------------------------------- settings declared once


def test_every_deepnet_setting_is_a_flag_with_its_help_and_default(capsys, tmp_path):
    from training.settings import default_text, settings

    try:
        assert main(["train", "deepnet", "--help"]) == 0
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    for f, s in settings(DeepNetConfig):
        words = " ".join(f"{s.help}; default {default_text(f, s)}".split())
        assert f"--{s.flag_name(f.name)} " in text and words in text, f.name
    assert main(["train", "deepnet", "--out", str(tmp_path), "--width", "16", "--n-min", "2",
                 "--epochs", "1", "--batch-size", "16", "--no-progress"]) == 0
    saved = json.loads((tmp_path / "config.json").read_text())["config"]
    assert list(saved) == [f.name for f, _ in settings(DeepNetConfig)]
    assert saved["arch"] == "mlp" and saved["R"] == "10" and saved["milestones"] == [1 / 3, 2 / 3]
    assert saved["threads"] == 1  # chosen for this tiny network, and recorded
    assert DeepNetConfig(**saved) == DeepNetConfig(width=16, n_min=2, epochs=1, batch_size=16)


@pytest.mark.parametrize("value", ["1e400", "nan", "-inf", "", "½"])
def test_hostile_numbers_are_one_sentence_for_every_deepnet_setting(tmp_path, capsys, value):
    from training.settings import settings

    numeric = [(f.name, s) for f, s in settings(DeepNetConfig)
               if s.kind in ("whole", "real", "rational")]
    for name, s in numeric:
        out = tmp_path / name
        assert main(["train", "deepnet", "--out", str(out), "--epochs", "1", "--width", "16",
                     f"--{s.flag_name(name)}={value}", "--no-progress"]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"error: `{s.label(name)}` ") and err.count("\n") == 1, err
        assert not out.exists()


# ---------------------------------------------------------------- CPU threads


def test_default_threads_follow_the_network_and_the_machine(monkeypatch):
    """One thread for a network whose training step is below THREADS_MIN_FLOPS (the digits MLP:
    threads there only wait, and beside another busy process make each epoch ~5x slower,
    benchmarks/bench_threads.py), else every core the process may use, never more."""
    import os

    from training import cost

    mlp = cost.step_flops("mlp", (1, 8, 8), 10, 256, 32)
    assert mlp == 6 * (64 * 256 + 2 * 256 * 256 + 256 * 10) * 32 < cost.THREADS_MIN_FLOPS
    assert DeepNetConfig().threads == 1
    assert DeepNetConfig(threads=2).threads == 2  # asked for: kept
    monkeypatch.setattr(cost, "cores", lambda: 3)
    assert DeepNetConfig(dataset="cifar10").threads == 3  # ResNet-18 on CIFAR: 3.4e11 a step
    assert DeepNetConfig(dataset="cifar10", device="cuda").threads == 3
    monkeypatch.undo()
    if hasattr(os, "sched_getaffinity"):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
        assert cost.cores() == 1 and DeepNetConfig(dataset="cifar10").threads == 1
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
        assert 1 <= cost.cores() <= 64
    edge = cost.THREADS_MIN_FLOPS
    assert cost.default_threads(edge * (1 - 1e-9), 8) == 1 and cost.default_threads(edge, 8) == 8


def test_fig2_over_seeds_gives_mean_and_range(tmp_path, capsys):
    """--seeds: one run per ratio and seed, and the final table over seeds, checked against the
    same runs made one by one."""
    flags = ["--width", "16", "--n-min", "2", "--epochs", "3", "--batch-size", "16",
             "--no-progress", "--metrics-every", "epoch"]
    assert main(["reproduce", "fig2", "--out", str(tmp_path / "f"), "--R", "1,10",
                 "--seeds", "0,3", *flags]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "f").iterdir() if p.is_dir()) == [
        "R10_seed0", "R10_seed3", "R1_seed0", "R1_seed3"]
    finals = {}
    for R in (1, 10):
        for seed in (0, 3):
            res = train(DeepNetConfig(**(TINY | {"R": R, "epochs": 3, "checkpoint_every": 10,
                                                  "seed": seed})))
            finals[R, seed] = res
    for R in (1, 10):
        vals = [finals[R, s].rows[-1]["seli_classifiers"] for s in (0, 3)]
        cell = f"{np.mean(vals):.3f} [{min(vals):.3f}, {max(vals):.3f}]"
        line = next(x for x in text.splitlines() if x.startswith(f"| {R} | 0,3 |"))
        assert cell in line, (cell, line)
    lines = (tmp_path / "f" / "fig2.csv").read_text().splitlines()
    assert lines[0] == "R,seed,epoch,quantity,geometry,distance,zero_error_epoch"
    assert len(lines) == 1 + 2 * 2 * 4 * 3 * 2  # R x seeds x epochs 0..3 x quantities x geometry
    assert {x.split(",")[1] for x in lines[1:]} == {"0", "3"}
    assert main(["reproduce", "fig2", "--out", str(tmp_path / "g"), "--seeds", "1,1",
                 *flags]) == 2
    assert "`seeds` lists 1 twice" in capsys.readouterr().err
