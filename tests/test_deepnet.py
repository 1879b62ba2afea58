"""training.deepnet: config, schedule, the measuring pass, resume, NaN guard, CLI, Fig 2, check."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from proofs_check.checks.training_deepnet import judge_deepnet  # noqa: E402
from seli_exact.verdict import Status  # noqa: E402
from seli_cli.main import main  # noqa: E402
from seli_exact.errors import SeliInputError  # noqa: E402
from training.data import load_digits, step_subsample  # noqa: E402
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
    assert [c.lr_at(e) for e in (1, 117, 118, 233, 234, 350)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rel=1e-12)
    assert c.batch_size == 32 and DeepNetConfig(dataset="cifar10").batch_size == 128


@pytest.mark.parametrize("kw,match", [
    ({"dataset": "svhn"}, "`dataset` must be one of digits, mnist"),
    ({"arch": "vit"}, "`arch` must be one of mlp, resnet18, vgg13"),
    ({"lr": "fast"}, "`lr` must be a finite positive number; got 'fast'"),
    ({"weight_decay": -1}, "`weight_decay` must be a finite non-negative number"),
    ({"milestones": (0.7, 0.3)}, "`milestones` must be increasing fractions"),
    ({"epochs": 0}, "`epochs` must be at least 1"),
    ({"metrics_every": "step"}, "`metrics_every` must be 'log' or 'epoch'"),
    ({"device": "tpu"}, "`device` must be cpu or cuda"),
    ({"device": "cuda:x"}, r"`device` must be cpu or cuda \(cuda:N for GPU N\); got 'cuda:x'"),
    ({"milestones": ()}, r"`milestones` must be increasing .* got \[\]\. Try 1/3,2/3 \(or --gamma 1"),
    ({"epochs": -2}, r"`epochs` must be at least 1; got epochs=-2\. Try 350\."),
    ({"R": "1/2"}, r"`R` must be at least 1 .* got R=1/2\. Use R=1"),
    ({"rho": 1}, r"`rho` must lie strictly between 0 and 1; got rho=1\. Try rho=1/2\."),
])
def test_config_rejects_bad_values(kw, match):
    with pytest.raises(SeliInputError, match=match):
        DeepNetConfig(**kw)


# ---------------------------------------------------------------- the measuring pass

def test_measure_against_a_dense_svd_reference():
    """Distances recomputed by hand: class means by loops, centring, SELI from numpy's SVD."""
    sub = step_subsample(load_digits(), 10, n_min=2, seed=0)
    x, y = to_device(sub, "cpu")
    model = build_model("mlp", (1, 8, 8), 10, width=12, seed=1).eval()
    got = measure(model, x, y, sub.counts, eval_batch=7)  # batches of 7: the pass is batched

    with torch.no_grad():
        H = model.features(x).double().numpy()  # (n, d)
    W = model.classifier.weight.detach().double().numpy().T  # (d, k)
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

    rtol = 1e-6  # float32 features
    assert got["seli_classifiers"] == pytest.approx(dist(W.T @ W, G_W_seli), rel=rtol)
    assert got["etf_classifiers"] == pytest.approx(dist(W.T @ W, G_star), rel=rtol)
    assert got["seli_embeddings"] == pytest.approx(dist(M.T @ M, G_M_seli), rel=rtol)
    assert got["etf_embeddings"] == pytest.approx(dist(M.T @ M, G_star), rel=rtol)
    assert got["seli_logits"] == pytest.approx(dist(W.T @ M, G_star), rel=rtol)
    pred = (H @ W).argmax(axis=1)
    assert got["train_acc"] == pytest.approx(np.mean(pred == labels))


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


def test_resume_refuses_another_epoch_count(tmp_path):
    # the milestones are fractions of the epochs: more epochs would change the schedule
    train(DeepNetConfig(**(TINY | {"epochs": 2})), out=tmp_path)
    before = (tmp_path / "metrics.jsonl").read_bytes()
    with pytest.raises(SeliInputError, match="--resume needs the configuration .* epochs: saved 2"):
        train(DeepNetConfig(**(TINY | {"epochs": 4})), out=tmp_path, resume=True)
    assert (tmp_path / "metrics.jsonl").read_bytes() == before


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
    # lr 0.1 for epochs 1-2, then 0.1 * 1e30: the loss blows up in epoch 3 or 4
    config = DeepNetConfig(**(TINY | {"gamma": 1e30, "milestones": (0.5,), "epochs": 4,
                                      "checkpoint_every": 1}))
    with pytest.raises(NonFiniteError, match=r"training loss became (nan|inf) at epoch [34]; "
                                             r"training stopped and the last good checkpoint"):
        train(config, out=tmp_path)
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ckpt["epoch"] in (2, 3)
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
    flags = ["--width", "8", "--n-min", "2", "--epochs", "3", "--batch-size", "16",
             "--no-progress", "--metrics-every", "epoch"]
    assert main(["train", "deepnet", "--out", str(tmp_path / "t"), "--R", "10", *flags]) == 0
    out = capsys.readouterr().out
    assert "class counts [20, 20, 20, 20, 20, 2, 2, 2, 2, 2]" in out
    assert main(["reproduce", "fig2", "--out", str(tmp_path / "f"), "--R", "1,10", *flags]) == 0
    for name in ("fig2.png", "fig2.pdf", "fig2.csv"):
        assert (tmp_path / "f" / name).stat().st_size > 0
    assert (tmp_path / "f" / "fig2.png").read_bytes()[:4] == b"\x89PNG"
    lines = (tmp_path / "f" / "fig2.csv").read_text().splitlines()
    assert lines[0] == "R,epoch,quantity,geometry,distance,zero_error_epoch"
    assert len(lines) == 1 + 2 * 4 * 3 * 2  # 2 R x epochs 0..3 x 3 quantities x SELI/ETF
    assert (tmp_path / "f" / "R10" / "metrics.csv").exists()


def test_cli_progress_bar_and_resume_of_a_finished_run(tmp_path, capsys):
    flags = ["--width", "8", "--n-min", "2", "--epochs", "3", "--batch-size", "16"]
    assert main(["train", "deepnet", "--out", str(tmp_path), *flags]) == 0
    first = capsys.readouterr()
    assert "3/3" in first.err and "epoch" in first.err  # tqdm's bar with its count
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
                 "--data-root", str(tmp_path / "data"), "--arch", "mlp", "--width", "8",
                 "--R", "2", "--epochs", "1", "--no-progress"]) == 0
    # R = 2 on 6 images a class: n_min = 3, majorities 6
    assert "class counts [6, 6, 6, 6, 6, 3, 3, 3, 3, 3]" in capsys.readouterr().out


def test_fig2_checks_every_ratio_before_training(tmp_path, capsys):
    flags = ["--width", "8", "--n-min", "2", "--epochs", "1", "--no-progress"]
    for R, match in (("1,x", "error: `R` must be a number; got the text 'x'"),
                     ("10,10.0", "error: `--R` lists the ratio 10 twice; got '10,10.0'")):
        assert main(["reproduce", "fig2", "--out", str(tmp_path / "f"), "--R", R, *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith(match) and err.count("\n") == 1
    assert not (tmp_path / "f").exists()  # the good first ratio did not train


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "deepnet", "--out", str(tmp_path), "--dataset", "mnist",
                 "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: mnist needs train-images-idx3-ubyte") and err.count("\n") == 1
    assert main(["train", "deepnet", "--out", str(tmp_path), "--R", "0.5"]) == 2
    assert "`R` must be at least 1" in capsys.readouterr().err


# ---------------------------------------------------------------- the check's judge

def planted_rows(seli_end, etf_end, seli_zero=(0.4, 0.8, 0.5)):
    """Rows at epochs 0, 10 (zero error) and 100 with the given distances."""
    def row(epoch, seli, etf):
        return {"epoch": epoch, "seli_classifiers": seli[0], "seli_embeddings": seli[1],
                "seli_logits": seli[2], "etf_classifiers": etf[0], "etf_embeddings": etf[1],
                "etf_logits": seli[2]}
    return [row(0, (0.9, 1.0, 1.4), (0.9, 1.0)), row(10, seli_zero, (0.45, 0.5)),
            row(100, seli_end, etf_end)]


def test_judge_verifies_a_trajectory_with_the_claimed_shape():
    v = judge_deepnet(planted_rows((0.1, 0.3, 0.2), (0.4, 0.45)), 10)
    assert v.status is Status.VERIFIED
    assert v.worst == pytest.approx(min((0.4 - 0.1) / 0.4, (0.8 - 0.3) / 0.8, (0.5 - 0.2) / 0.5,
                                        (0.4 - 0.1) / 0.4, (0.45 - 0.3) / 0.45))


@pytest.mark.parametrize("seli_end,etf_end,failing", [
    ((0.4, 0.3, 0.2), (0.1, 0.45), "seli_below_etf_classifiers"),   # SELI and ETF swapped (W)
    ((0.1, 0.5, 0.2), (0.4, 0.45), "seli_below_etf_embeddings"),    # class means nearer ETF
    ((0.1, 0.9, 0.2), (0.4, 0.95), "seli_embeddings_decreases"),    # distance grew
    ((0.1, 0.3, 0.6), (0.4, 0.45), "seli_logits_decreases"),        # logits moved away
])
def test_judge_refutes_planted_wrong_trajectories(seli_end, etf_end, failing):
    v = judge_deepnet(planted_rows(seli_end, etf_end), 10)
    assert v.status is Status.REFUTED
    assert v.evidence["worst"] == failing and v.worst < 0


@pytest.mark.parametrize("where", ["seli_end", "etf_end", "seli_zero"])
def test_judge_refutes_a_nan_distance_wherever_it_is(where):
    # NaN compares false with everything: it must not slip past the worst margin
    good = {"seli_end": (0.1, 0.3, 0.2), "etf_end": (0.4, 0.45), "seli_zero": (0.4, 0.8, 0.5)}
    good[where] = (good[where][0], float("nan")) + good[where][2:]
    v = judge_deepnet(planted_rows(**good), 10)
    assert v.status is Status.REFUTED, v.evidence["margins"]
    assert "embeddings" in v.evidence["worst"]


def test_judge_refutes_a_zero_distance_at_zero_error():
    v = judge_deepnet(planted_rows((0.1, 0.3, 0.2), (0.4, 0.45), seli_zero=(0.0, 0.8, 0.5)), 10)
    assert v.status is Status.REFUTED and v.evidence["worst"] == "seli_classifiers_decreases"


def test_judge_undecided_without_zero_training_error():
    assert judge_deepnet(planted_rows((0.1, 0.3, 0.2), (0.4, 0.45)), None).status \
        is Status.UNDECIDED
    assert judge_deepnet(planted_rows((0.1, 0.3, 0.2), (0.4, 0.45)), 100).status \
        is Status.UNDECIDED


@pytest.mark.slow
def test_real_digits_trajectory_passes_and_its_swap_is_refuted():
    """The thorough check's run (one thread, as there); the same rows with SELI and ETF
    exchanged must be refuted."""
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
