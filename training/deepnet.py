"""Deep nets trained far beyond zero training error on imbalanced data (Sec. 5, Fig 2).

The settings and their defaults (the paper's recipe) are `DeepNetConfig`
(training.deepnet_config). The training set is a seeded subsample of the data set to (R, rho)-STEP
counts (Definition 1), to explicit counts or to a long-tail profile; images are standardized per
channel with the statistics of that training set.

At measured epochs one full pass over the training set in eval mode (float32, whatever the
training precision) gives the penultimate features H (n, d), the classifier W (k, d) (PyTorch's
layouts) and, through `metrics_of` (the one metric library, seli_exact):
  * the distances to SELI and to ETF of G_W, of G_M for the class means centred by their
    balanced mean (Sec. G), and of the logits W M^T; the SELI target is the exact geometry of
    the training set's own counts, whatever they are;
  * NC1, the training loss and the training accuracy.
Epochs are measured on a log scale (or every epoch), and every epoch until the first with zero
training error, so that epoch is found exactly: the vertical line of Fig 2. At the end the
measured arrays are saved as final.npz (classifier (k, d), features (n, d), labels (n,), as
float32 and int64), so `seli measure` on that file reproduces the last row.

Data stay on the device for the whole run (no DataLoader): each epoch draws a permutation from
a seeded CPU generator and slices the resident tensors. On CUDA, channels_last is on for conv
nets and bf16 autocast is an explicit option (`bf16=True`); TF32 stays off unless `tf32=True`.
On CPU a run resumed from its checkpoint is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seli_io.atomic import atomic_write
from seli_exact.counts import ClassCounts
from seli_exact.errors import SeliInputError
from measurement.report import measure as seli_measure

from .data import LabelledData, Subset, channel_stats, load_dataset, profile_subsample, \
    step_subsample, subsample
from .deepnet_config import DeepNetConfig
from .models import FeatureNet, build_model
from .runio import MetricsLog, RunDir, check_finite, log_epochs, restore_rng

SUMMARY_NAME = "summary.json"
FINAL_NAME = "final.npz"


@dataclass
class DeepNetResult:
    """Rows of metrics (one dict per measured epoch), the zero-training-error epoch, the data."""

    config: DeepNetConfig
    counts: ClassCounts
    rows: list[dict]
    zero_error_epoch: int | None
    subset: dict = field(default_factory=dict)
    seconds: float = 0.0

    def series(self, key: str) -> np.ndarray:
        return np.array([np.nan if r[key] is None else r[key] for r in self.rows], dtype=float)

    def summary(self) -> dict:
        return {
            "zero_error_epoch": self.zero_error_epoch,
            "subset": self.subset,
            "seconds": self.seconds,
            "final": self.rows[-1] if self.rows else None,
        }


# ---------------------------------------------------------------- pieces


_NONFINITE_HINT = "Lower the learning rate (--lr) or the weight decay, or turn off --bf16."


def make_subset(config: DeepNetConfig, data: LabelledData | None = None) -> Subset:
    """The training set of the config (from `data` when given, else from disk): STEP, explicit
    counts or a profile; one sentence when the data set cannot supply it, or when the batch
    would be larger than the training set."""
    if data is None:
        data = load_dataset(config.dataset, config.data_root, train=True)
    if config.profile is not None:
        sub = profile_subsample(data, config.profile, seed=config.seed)
    elif config.counts is not None:
        sub = subsample(data, config.class_counts(data.k), seed=config.seed)
    else:
        sub = step_subsample(data, config.R, config.rho, config.n_min, seed=config.seed)
    if config.batch_size > sub.counts.n:
        raise SeliInputError(
            f"`batch_size` {config.batch_size} is larger than the training set ({sub.counts.n} "
            f"images); pass --batch-size {sub.counts.n} or less."
        )
    return sub


def to_device(subset: Subset, device, *, channels_last: bool = False):
    """Standardized images (n, C, H, W) float32 and labels (n,) int64, resident on `device`."""
    mean, std = channel_stats(subset.data.x)
    x = (subset.data.x - mean[None, :, None, None]) / std[None, :, None, None]
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(subset.data.y).to(device)
    return x, y


def train_epoch(model: FeatureNet, optimizer, x, y, *, batch_size: int,
                generator: torch.Generator, bf16: bool = False) -> torch.Tensor:
    """One pass of minibatch SGD over resident data in a seeded random order; the summed loss.

    The loss stays on the device (no synchronization per step); the caller reads it once.
    """
    model.train()
    n = y.shape[0]
    perm = torch.randperm(n, generator=generator).to(x.device, non_blocking=True)
    total = torch.zeros((), device=x.device)
    for idx in perm.split(batch_size):
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach().float() * idx.shape[0]
    return total


@torch.no_grad()
def collect(model: FeatureNet, x, y, *, eval_batch: int = 1024):
    """One pass in eval mode: W (k, d) and H (n, d) float32 numpy arrays (PyTorch's layouts),
    the summed loss and the number of correct predictions."""
    model.eval()
    feats, loss, correct = [], 0.0, 0
    for xb, yb in zip(x.split(eval_batch), y.split(eval_batch)):
        h = model.features(xb).float()  # (b, d)
        logits = model.classifier(h)
        loss += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += int((logits.argmax(1) == yb).sum())
        feats.append(h.cpu())
    H = torch.cat(feats).numpy()  # (n, d)
    W = model.classifier.weight.detach().float().cpu().numpy()  # (k, d)
    return W, H, loss, correct


def metrics_of(W, H, labels, counts: ClassCounts) -> dict:
    """Sec. 5's distances to SELI / ETF (class means centred by their balanced mean, Sec. G), NC1
    and the norms of a classifier W (k, d) and features H (n, d), through `measurement.measure`:
    the numbers `seli measure --center balanced` reports for the same arrays."""
    m = seli_measure(W, H, labels, center="balanced")
    if m.class_counts != counts.counts:  # the labels are the subset's, class by class
        raise SeliInputError(
            f"the measured labels count {list(m.class_counts)} examples per class but the "
            f"training set has {list(counts.counts)}; pass the training set's labels."
        )
    seli, etf = m.distance_to_seli, m.distance_to_etf
    return {
        "seli_classifiers": seli.classifiers,
        "seli_embeddings": seli.embeddings,
        "seli_logits": seli.logits,
        "etf_classifiers": etf.classifiers,
        "etf_embeddings": etf.embeddings,
        "etf_logits": etf.logits,
        "nc1": m.nc1,
        "W_norm": float(np.linalg.norm(m.classifier_norms.measured)),  # ||W||_F
        "M_norm": float(np.linalg.norm(m.embedding_norms.measured)),  # ||M - m 1^T||_F
    }


def measure(model: FeatureNet, x, y, counts: ClassCounts, *, eval_batch: int = 1024,
            keep: dict | None = None, epoch: int = 0, checkpoint=None) -> dict:
    """Loss and accuracy of one pass in eval mode, with `metrics_of` its arrays; `keep`, when
    given, receives the arrays (classifier, features, labels) for final.npz."""
    W, H, loss, correct = collect(model, x, y, eval_batch=eval_batch)
    labels = y.cpu().numpy()
    n = labels.shape[0]
    # a diverged network is stopped by the trainer's guard (exit 1), not refused as bad input
    check_finite("the penultimate features", H, epoch=epoch, checkpoint=checkpoint,
                 hint=_NONFINITE_HINT)
    if keep is not None:
        keep.update(classifier=W, features=H, labels=labels.astype(np.int64))
    return {"loss": loss / n, "train_acc": correct / n, **metrics_of(W, H, labels, counts)}


def save_final(path, arrays: dict) -> Path:
    """final.npz: classifier (k, d) float32, features (n, d) float32, labels (n,) int64."""
    buf = io.BytesIO()
    np.savez(buf, classifier=arrays["classifier"], features=arrays["features"],
             labels=arrays["labels"])
    return atomic_write(path, buf.getvalue())


class _Threads:
    """Sets torch's CPU thread count for the duration of a run (None: leave it) and restores it."""

    def __init__(self, threads: int | None):
        self.threads = threads

    def __enter__(self):
        self.saved = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)


class _PrecisionFlags:
    """Sets TF32 on CUDA for the duration of a run and restores the previous flags."""

    def __init__(self, tf32: bool):
        self.tf32 = tf32

    def __enter__(self):
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = self.tf32
        torch.backends.cudnn.allow_tf32 = self.tf32

    def __exit__(self, *exc):
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


# ---------------------------------------------------------------- the run


def train(config: DeepNetConfig, *, out=None, resume: bool = False, progress=None,
          data: LabelledData | None = None) -> DeepNetResult:
    """Train `config`'s network; with `out`, as a resumable run folder (training.runio).

    `progress(epoch, **postfix)` is called after every epoch (the CLI's progress line). `data`
    replaces the data set read from disk (tests, benchmarks). Without `out` the rows are kept
    in memory only and no checkpoint is written. With `out`, final.npz holds the last measured
    classifier, features and labels, and a resumed run may go on to a larger `config.epochs`
    only where every epoch already trained keeps its learning rate (`extend_epochs`).
    """
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SeliInputError(
            f"`device` is {config.device!r} but this torch build sees no CUDA device; "
            "use --device cpu."
        )
    subset = make_subset(config, data)
    d = config.feature_dim()
    if d < subset.counts.k - 1:
        raise SeliInputError(
            f"the {config.arch}'s feature dimension d = {d} (from --width {config.width}) is below "
            f"k - 1 = {subset.counts.k - 1}, and neither SELI nor ETF exists in fewer than k - 1 "
            f"dimensions (Section 2); pass a --width that gives d >= {subset.counts.k - 1}."
        )
    run = None
    state = None
    if out is not None and resume:
        _check_same_subset(Path(out) / SUMMARY_NAME, subset)
    if out is not None:
        run = RunDir(out, config, resume=resume, resumable=("checkpoint_every", "threads"),
                     device=device, extend=config.extend_epochs,
                     results=(FINAL_NAME, SUMMARY_NAME))
    try:
        if run is not None:
            state = run.start()  # the lock, every check, then the writes; before the model
        with _Threads(config.threads):
            return _train(config, subset, device, run, state, out, progress)
    finally:
        if run is not None:
            run.close()


def _train(config, subset, device, run, state, out, progress) -> DeepNetResult:
    counts = subset.counts
    conv = config.arch != "mlp"
    channels_last = (device.type == "cuda" and conv) if config.channels_last is None \
        else config.channels_last
    x, y = to_device(subset, device, channels_last=channels_last)
    model = build_model(config.arch, subset.data.shape, counts.k, width=config.width,
                        seed=config.seed).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    shuffle = torch.Generator().manual_seed(config.seed)

    rows: list[dict] = []
    first_epoch, zero_error_epoch, elapsed = 1, None, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        zero_error_epoch = state["zero_error_epoch"]
        elapsed = state["seconds"]
        first_epoch = state["epoch"] + 1
        restore_rng(state, generators=[shuffle])
        rows = run.rows()
    schedule = set(range(config.epochs + 1)) if config.metrics_every == "epoch" \
        else set(log_epochs(config.epochs, config.per_decade))
    last: dict = {}  # the arrays of the latest measurement, for final.npz

    def log(row):
        if run is not None:
            run.check_finite(f"metrics at epoch {row['epoch']}",
                             [v for v in row.values() if isinstance(v, float)], epoch=row["epoch"],
                             hint=_NONFINITE_HINT)
            run.log(row)
        rows.append(row)

    def save(epoch):
        if run is not None:
            run.checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "zero_error_epoch": zero_error_epoch,
                            "seconds": elapsed + time.perf_counter() - t_start},
                           epoch=epoch, generators=[shuffle])

    t_start = time.perf_counter()
    with _PrecisionFlags(config.tf32):
        if state is None:
            save(0)  # checkpoint first: a folder with rows always has a checkpoint to resume from
        if not rows:  # the starting point, measured once (also when resumed from that checkpoint)
            m = measure(model, x, y, counts, eval_batch=config.eval_batch, keep=last, epoch=0)
            log({"epoch": 0, "lr": config.lr_at(1), "train_loss_sgd": None, **m,
                 "seconds": 0.0})
        if run is not None and not (Path(out) / SUMMARY_NAME).exists():
            # the subset is known before the first epoch: record it at once (a resumed run keeps
            # the summary it has until it finishes, rather than trading it for a partial one)
            run.write(SUMMARY_NAME, json.dumps(
                {"zero_error_epoch": zero_error_epoch, "subset": subset.record(),
                 "seconds": elapsed, "final": None}, indent=2) + "\n")
        for epoch in range(first_epoch, config.epochs + 1):
            lr = config.lr_at(epoch)
            for g in optimizer.param_groups:
                g["lr"] = lr
            total = train_epoch(model, optimizer, x, y, batch_size=config.batch_size,
                                generator=shuffle, bf16=config.bf16)
            sgd_loss = total.item() / y.shape[0]
            ckpt = run.checkpoint_path if run is not None else None
            check_finite("training loss", sgd_loss, epoch=epoch, checkpoint=ckpt, hint=_NONFINITE_HINT)
            if epoch in schedule or zero_error_epoch is None:
                m = measure(model, x, y, counts, eval_batch=config.eval_batch, keep=last,
                            epoch=epoch, checkpoint=ckpt)
                if zero_error_epoch is None and m["train_acc"] == 1.0:
                    zero_error_epoch = epoch
                log({"epoch": epoch, "lr": lr, "train_loss_sgd": sgd_loss, **m,
                     "seconds": elapsed + time.perf_counter() - t_start})
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                save(epoch)
            if progress is not None:
                progress(epoch, loss=sgd_loss,
                         zero_error_epoch=zero_error_epoch if zero_error_epoch is not None else "-")
    result = DeepNetResult(config, counts, rows, zero_error_epoch, subset.record(),
                           elapsed + time.perf_counter() - t_start)
    if run is not None:
        if last:  # trained (or started) in this call: the final arrays are the last measured
            save_final(Path(out) / FINAL_NAME, last)
        run.write(SUMMARY_NAME, json.dumps(result.summary(), indent=2) + "\n")
    return result


def _check_same_subset(summary_path: Path, subset: Subset) -> None:
    """--resume must train on the images the run started with (the data files may have changed)."""
    try:
        saved = json.loads(summary_path.read_text())["subset"]["indices_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no record to compare with (a run from before summaries were written)
    now = subset.record()["indices_sha256"]
    if saved != now:
        raise SeliInputError(
            f"--resume found other training images than the run started with (chosen-index hash "
            f"{now[:12]}, saved {saved[:12]} in {summary_path}); point --data-root at the data "
            "the run used, or start a fresh --out."
        )


def load_run(out) -> DeepNetResult:
    """A finished (or interrupted) run read back from its folder: config, rows, summary."""
    out = Path(out)
    cfg_path = out / "config.json"
    if not cfg_path.is_file():
        raise SeliInputError(
            f"{out} holds no config.json, so it is not a deep-net run folder; pass the --out "
            "folder of `seli train deepnet`."
        )
    saved = json.loads(cfg_path.read_text())["config"]
    config = DeepNetConfig(**saved)
    rows = MetricsLog(out).rows()
    summary_path = out / SUMMARY_NAME
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    zero = summary.get("zero_error_epoch")
    if zero is None:
        zero = next((int(r["epoch"]) for r in rows if r["epoch"] > 0 and r["train_acc"] == 1.0),
                    None)
    subset = summary.get("subset", {})
    counts = ClassCounts(tuple(subset["class_counts"])) if subset else None
    return DeepNetResult(config, counts, rows, zero, subset, summary.get("seconds", 0.0))
