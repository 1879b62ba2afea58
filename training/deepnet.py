"""Deep nets trained far beyond zero training error on STEP-imbalanced data (Sec. 5, Fig 2).

The recipe (defaults; every one configurable): SGD with momentum 0.9 and weight decay 5e-4,
lr 0.1 divided by 10 at 1/3 and 2/3 of 350 epochs, batch 128 (32 on the small digits set),
cross-entropy, no augmentation.
Images are standardized per channel with the statistics of the STEP training set.

At measured epochs one full pass over the training set in eval mode (float32, whatever the
training precision) gives the penultimate features H (d, n), the classifiers W (d, k) and
  * the distances to SELI and to ETF of G_W, of G_M for the class means centred by their
    balanced mean (Sec. G), and of the logits W^T M (seli_exact.metrics.distances, centred=True);
  * NC1 (seli_exact.metrics.nc1), the training loss and the training accuracy.
Epochs are measured on a log scale (or every epoch), and every epoch until the first with zero
training error, so that epoch is found exactly: the vertical line of Fig 2.

Data stay on the device for the whole run (no DataLoader): each epoch draws a permutation from
a seeded CPU generator and slices the resident tensors. On CUDA, channels_last is on for conv
nets and bf16 autocast is an explicit option (`bf16=True`); TF32 stays off unless `tf32=True`.
On CPU a run resumed from its checkpoint is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seli_exact.atomic import atomic_write
from seli_exact.counts import ClassCounts
from seli_exact.errors import SeliInputError
from seli_exact.metrics import class_means, distances, nc1
from seli_exact.validate import rational, whole

from .data import DATASETS, LabelledData, StepSubset, channel_stats, load_dataset, step_subsample
from .models import ARCHS, FeatureNet, build_model
from .runio import MetricsLog, RunDir, check_finite, log_epochs, restore_rng

SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class DeepNetConfig:
    """Everything that defines a deep-net run; saved resolved in config.json beside the results."""

    dataset: str = "digits"           # digits (built in) | mnist | fashion-mnist | cifar10
    data_root: str | None = None      # torchvision's data root; unused for digits
    arch: str = "mlp"                 # mlp | resnet18 | vgg13
    width: int | None = None          # None: the architecture's own (mlp 256, resnet/vgg 64)
    R: Fraction = Fraction(10)        # imbalance ratio of the (R, rho)-STEP subsample
    rho: Fraction = Fraction(1, 2)    # minority fraction
    n_min: int | None = None          # minority class size; None: the largest the data allow
    epochs: int = 350
    batch_size: int | None = None     # None: 128; 32 for digits, whose ~935-image STEP set
                                      # would otherwise give only ~8 SGD steps an epoch
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[float, ...] = (1 / 3, 2 / 3)  # lr *= gamma at these fractions of epochs
    gamma: float = 0.1
    seed: int = 0                     # subsample, initialization and shuffling
    device: str = "cpu"
    bf16: bool = False                # bfloat16 autocast for the training steps (explicit only)
    channels_last: bool | None = None  # None: on for conv nets on CUDA
    tf32: bool = False                # TF32 matmuls/convolutions on CUDA (explicit only)
    metrics_every: str = "log"        # "log": log-spaced epochs; "epoch": every epoch
    per_decade: int = 20              # log-spaced points per decade of epochs
    eval_batch: int = 1024            # batch of the measuring pass
    checkpoint_every: int = 10        # epochs between checkpoints (and at the end)

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise SeliInputError(
                f"`dataset` must be one of {', '.join(DATASETS)}; got {self.dataset!r}. "
                "Use digits for the built-in set that needs no files."
            )
        if self.arch not in ARCHS:
            raise SeliInputError(
                f"`arch` must be one of {', '.join(ARCHS)}; got {self.arch!r}. "
                "Use mlp for the digits default."
            )
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        set_("R", rational("R", self.R, fix="R is the imbalance ratio, e.g. 10."))
        set_("rho", rational("rho", self.rho, fix="rho is the minority fraction, e.g. 1/2."))
        # Definition 1's bounds, checked here so that a bad value fails before data are read
        # (rho k whole and the class sizes are checked against the data in step_subsample)
        if self.R < 1:
            raise SeliInputError(
                f"`R` must be at least 1 (majorities have R times the minority size); got "
                f"R={self.R}. Use R=1 for balanced data."
            )
        if not 0 < self.rho < 1:
            raise SeliInputError(
                f"`rho` must lie strictly between 0 and 1; got rho={self.rho}. Try rho=1/2."
            )
        if self.batch_size is None:
            set_("batch_size", 32 if self.dataset == "digits" else 128)
        for name, minimum, fix in (("epochs", 1, "Try 350."), ("batch_size", 1, "Try 128."),
                                   ("eval_batch", 1, "Try 1024."), ("checkpoint_every", 1, "Try 10."),
                                   ("per_decade", 1, "Try 20."), ("seed", 0, "Try 0.")):
            set_(name, whole(name, getattr(self, name), minimum=minimum, fix=fix))
        for name, fix in (("n_min", "Leave it out for the largest the data allow."),
                          ("width", "Leave it out for the architecture's own.")):
            if getattr(self, name) is not None:
                set_(name, whole(name, getattr(self, name), minimum=1, fix=fix))
        for name in ("lr", "momentum", "weight_decay", "gamma"):
            try:
                v = float(getattr(self, name))
            except (TypeError, ValueError):
                v = math.nan
            if not (math.isfinite(v) and v >= 0) or (name == "lr" and v == 0):
                raise SeliInputError(
                    f"`{name}` must be a finite {'positive' if name == 'lr' else 'non-negative'} "
                    f"number; got {getattr(self, name)!r}. See --help for the defaults."
                )
            set_(name, v)
        ms = tuple(float(rational("milestones", m, fix="Try 1/3,2/3.")) for m in self.milestones)
        if not ms or any(not 0 < m < 1 for m in ms) or list(ms) != sorted(ms):
            raise SeliInputError(
                f"`milestones` must be increasing fractions of the epochs in (0, 1); got "
                f"{list(self.milestones)}. Try 1/3,2/3 (or --gamma 1 for a constant rate)."
            )
        set_("milestones", ms)
        if self.metrics_every not in ("log", "epoch"):
            raise SeliInputError(
                f"`metrics_every` must be 'log' or 'epoch'; got {self.metrics_every!r}."
            )
        try:
            kind = torch.device(self.device).type
        except (RuntimeError, TypeError, ValueError):  # e.g. "cuda:x"
            kind = None
        if kind not in ("cpu", "cuda"):
            raise SeliInputError(
                f"`device` must be cpu or cuda (cuda:N for GPU N); got {self.device!r}. Try --device cpu."
            )

    def milestone_epochs(self) -> tuple[int, ...]:
        """The epochs after which the learning rate is multiplied by gamma."""
        return tuple(max(1, round(m * self.epochs)) for m in self.milestones)

    def lr_at(self, epoch: int) -> float:
        """Learning rate during epoch `epoch` (1-based): the step schedule."""
        drops = sum(1 for m in self.milestone_epochs() if epoch > m)
        return self.lr * self.gamma**drops


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


def make_subset(config: DeepNetConfig, data: LabelledData | None = None) -> StepSubset:
    """The (R, rho)-STEP training set of the config (from `data` when given, else from disk)."""
    if data is None:
        data = load_dataset(config.dataset, config.data_root, train=True)
    return step_subsample(data, config.R, config.rho, config.n_min, seed=config.seed)


def to_device(subset: StepSubset, device, *, channels_last: bool = False):
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
def measure(model: FeatureNet, x, y, counts: ClassCounts, *, eval_batch: int = 1024) -> dict:
    """Distances to SELI / ETF (class means centred, Sec. G), NC1, loss and accuracy in eval mode."""
    model.eval()
    feats, loss, correct = [], 0.0, 0
    for xb, yb in zip(x.split(eval_batch), y.split(eval_batch)):
        h = model.features(xb).float()  # (b, d)
        logits = model.classifier(h)
        loss += F.cross_entropy(logits, yb, reduction="sum").item()
        correct += int((logits.argmax(1) == yb).sum())
        feats.append(h.cpu())
    H = torch.cat(feats).double().numpy().T  # (d, n)
    W = model.W.detach().double().cpu().numpy()  # (d, k)
    labels = y.cpu().numpy()
    M = class_means(H, labels, counts.k)  # (d, k)
    dist = distances(W, M, counts, centred=True)  # Sec. G: centred by the balanced mean
    n = labels.shape[0]
    return {
        "loss": loss / n,
        "train_acc": correct / n,
        "seli_classifiers": float(dist.seli.classifiers),
        "seli_embeddings": float(dist.seli.embeddings),
        "seli_logits": float(dist.seli.logits),
        "etf_classifiers": float(dist.etf.classifiers),
        "etf_embeddings": float(dist.etf.embeddings),
        "etf_logits": float(dist.etf.logits),
        "nc1": float(nc1(H, labels, counts.k)),
        "W_norm": float(np.linalg.norm(W)),
        "M_norm": float(np.linalg.norm(M - M.mean(axis=1, keepdims=True))),
    }


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

    `progress(epoch, **postfix)` is called after every epoch (e.g. a runio.Progress). `data`
    replaces the data set read from disk (tests, benchmarks). Without `out` the rows are kept
    in memory only and no checkpoint is written.
    """
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SeliInputError(
            f"`device` is {config.device!r} but this torch build sees no CUDA device; "
            "use --device cpu."
        )
    subset = make_subset(config, data)
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

    run = None
    rows: list[dict] = []
    state = None
    if out is not None and resume:
        _check_same_subset(Path(out) / SUMMARY_NAME, subset)
    if out is not None:
        # `epochs` is not resumable: the milestones are fractions of it, so a changed count
        # would silently change the learning rate of the epochs already planned
        run = RunDir(out, config, resume=resume, resumable=("checkpoint_every",), device=device)
        state = run.start()
    first_epoch, zero_error_epoch, elapsed = 1, None, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        zero_error_epoch = state["zero_error_epoch"]
        elapsed = state["seconds"]
        first_epoch = state["epoch"] + 1
        restore_rng(state, generators=[shuffle])
        rows = run.rows()
    if run is not None and state is None:
        # the subset is known before the first epoch: record it at once (a resumed run keeps
        # the summary it has until it finishes, rather than trading it for a partial one)
        atomic_write(Path(out) / SUMMARY_NAME, json.dumps(
            {"zero_error_epoch": zero_error_epoch, "subset": subset.record(),
             "seconds": elapsed, "final": None}, indent=2) + "\n")
    schedule = set(range(config.epochs + 1)) if config.metrics_every == "epoch" \
        else set(log_epochs(config.epochs, config.per_decade))

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
        if first_epoch == 1:
            m = measure(model, x, y, counts, eval_batch=config.eval_batch)
            log({"epoch": 0, "lr": config.lr_at(1), "train_loss_sgd": None, **m,
                 "seconds": 0.0})
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
                m = measure(model, x, y, counts, eval_batch=config.eval_batch)
                if zero_error_epoch is None and m["train_acc"] == 1.0:
                    zero_error_epoch = epoch
                log({"epoch": epoch, "lr": lr, "train_loss_sgd": sgd_loss, **m,
                     "seconds": elapsed + time.perf_counter() - t_start})
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                save(epoch)
            if progress is not None:
                progress(epoch, loss=f"{sgd_loss:.3g}",
                         zero_err=zero_error_epoch if zero_error_epoch is not None else "-")
    result = DeepNetResult(config, counts, rows, zero_error_epoch, subset.record(),
                           elapsed + time.perf_counter() - t_start)
    if run is not None:
        atomic_write(Path(out) / SUMMARY_NAME, json.dumps(result.summary(), indent=2) + "\n")
    return result


def _check_same_subset(summary_path: Path, subset: StepSubset) -> None:
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
    saved["milestones"] = tuple(saved["milestones"])
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

