"""The unconstrained-features model (Section 2) trained by SGD or GD: Fig 4's confirmations.

W (d x k) classifiers and H (d x n) embeddings, logits W^T H, cross-entropy; the ridge
variant of (1) adds lam ||W||^2/2 + lam ||H||^2/2 (lam = 0, the default, is Fig 4's setting).

The settings, their defaults (the paper's Fig 4 setup) and their checks are `UFMConfig`
(training.ufm_config); the class counts are STEP, an explicit vector or a long-tail profile.

The loss reduction is an explicit choice. "mean" (the default) averages the cross-entropy over
the batch, as torch.nn.functional.cross_entropy does by default and as the paper's lr 0.4 with
batch 4 most plausibly used; "sum" is the batch's part of Eqn (1)'s sum, which makes every
step `batch_size` times longer (lr 0.4 with "sum" is lr 1.6 with "mean"). The ridge term is
applied as PyTorch's weight decay: each step decays all of W and H by lr * lam.

The paper does not state d. The default d = 16 shows the figure's trends within 1e5 epochs;
d = k - 1 or d = k also approach SELI rather than ETF, but from further away (their early,
large-norm iterates fix a direction that the log-rate implicit bias corrects only slowly), and
d = 64 gets closer still at four times the arithmetic. Entries start as N(0, init_scale^2/d).

Many runs (count groups x seeds x learning rates) advance together: see `ufm_engines` for the
three engines and `train_ufm` for the loop, its metrics (at log-spaced epochs, from
`seli_exact.metrics`), checkpoints and resume (through `training.runio`). A run folder also
holds final.npz, each run's final classifier, features and labels in PyTorch's layouts (see
`save_final`), so that `seli measure` can be pointed at them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from seli_exact.counts import ClassCounts
from seli_exact.errors import SeliInputError
from seli_exact.metrics import class_means, distances

from . import runio
from .ufm_config import UFMConfig, ufm_counts  # noqa: F401 - ufm_counts: part of this module's API

METRIC_FIELDS = (
    "seli_classifiers", "seli_embeddings", "seli_logits",
    "etf_classifiers", "etf_embeddings", "etf_logits",
)
FINAL_NAME = "final.npz"


@dataclass(frozen=True)
class Run:
    """One training run of a batch: its index, group label (the imbalance ratio R, see
    UFMConfig), seed, learning rate and counts."""

    index: int
    R: object
    seed: int
    lr: float
    counts: ClassCounts = field(compare=False)

    def label(self) -> dict:
        return {"run": self.index, "R": str(self.R), "seed": self.seed, "lr": self.lr,
                "n": self.counts.n}


def make_runs(cfg: UFMConfig) -> list[Run]:
    """Count groups (R values or profile vectors) x seeds x learning rates, in that nesting order."""
    out = []
    for (R, c), seed, lr in itertools.product(cfg.groups(), cfg.seeds, cfg.lrs):
        out.append(Run(len(out), R, seed, lr, c))
    return out


def torch_dtype(name: str):
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


def init_state(cfg: UFMConfig, runs: list[Run]):
    """Wt (runs, k, d) and Ht (runs, n_max + 1, d): entries N(0, init_scale^2/d), per-run seed.

    Drawn in float64 on the CPU from torch.Generator(seed) (W first, then H), then cast, so a
    run starts from the same point on every device and engine.
    """
    import torch

    n_max = max(r.counts.n for r in runs)
    k, d = cfg.k, cfg.d
    Wt = torch.zeros(len(runs), k, d, dtype=torch.float64)
    Ht = torch.zeros(len(runs), n_max + 1, d, dtype=torch.float64)
    sd = cfg.init_scale / math.sqrt(d)
    for i, run in enumerate(runs):
        g = torch.Generator().manual_seed(run.seed)
        Wt[i] = torch.randn(d, k, generator=g, dtype=torch.float64).T * sd
        Ht[i, :run.counts.n] = torch.randn(d, run.counts.n, generator=g, dtype=torch.float64).T * sd
    dt = torch_dtype(cfg.dtype)
    return Wt.to(dtype=dt, device=cfg.device), Ht.to(dtype=dt, device=cfg.device)


def _engine_batch(cfg: UFMConfig, runs: list[Run], rows: int):
    from .ufm_engines import Batch

    y = np.zeros((len(runs), rows), dtype=np.int64)
    for i, r in enumerate(runs):
        y[i, :r.counts.n] = r.counts.labels()
    return Batch(
        [r.counts.n for r in runs], y, [r.seed for r in runs], [r.lr for r in runs],
        lam=cfg.lam, reduction=cfg.reduction,
        batch_size=None if cfg.optimizer == "gd" else cfg.batch_size, rows=rows,
    )


def kernel_unavailable() -> str | None:
    """Why the compiled kernel engine cannot be used here (no C compiler, ...), or None."""
    from . import _ufm_kernel

    return None if _ufm_kernel.load() is not None else _ufm_kernel.error()


def make_engine(cfg: UFMConfig, runs: list[Run], rows: int):
    """The engine `cfg.engine` names; "auto" is the C kernel on cpu, batched torch on cuda."""
    import torch

    from . import _ufm_kernel
    from .ufm_engines import AutogradEngine, KernelEngine, TorchEngine

    batch = _engine_batch(cfg, runs, rows)
    name = cfg.engine
    if name == "auto":
        name = "kernel" if cfg.device == "cpu" and _ufm_kernel.load() is not None else "torch"
    if name == "kernel":
        if _ufm_kernel.load() is None:
            raise SeliInputError(
                f"`engine` kernel needs a C compiler, but building it failed ({_ufm_kernel.error()}); "
                "use --engine torch or install cc."
            )
        return KernelEngine(batch, threads=cfg.threads or torch.get_num_threads())
    if name == "torch":
        return TorchEngine(batch, cfg.device, torch_dtype(cfg.dtype), cuda_graphs=cfg.cuda_graphs)
    return AutogradEngine(batch, cfg.device, torch_dtype(cfg.dtype))


# --------------------------------------------------------------------------- metrics


def evaluate(Wt, Ht, runs: list[Run], cfg: UFMConfig, epoch: int) -> list[dict]:
    """One metrics row per run: loss, error, norms, distances to SELI and ETF (Sec. 5).

    loss is (1)'s objective divided by n: the mean cross-entropy over the n examples plus
    lam (||W||^2 + ||H||^2) / (2n); error is the fraction misclassified; norms are Frobenius.
    Runs with equal counts are measured in one batched call of `seli_exact.metrics.distances`
    (the one metric implementation).
    """
    import torch

    Wt = Wt.detach().to("cpu", dtype=torch.float64).numpy()
    Ht = Ht.detach().to("cpu", dtype=torch.float64).numpy()
    with np.errstate(all="ignore"):  # a diverged run gives NaN rows; train_ufm stops on them
        return _evaluate(Wt, Ht, runs, cfg, epoch)


def _evaluate(Wt, Ht, runs, cfg, epoch) -> list[dict]:
    rows: list[dict | None] = [None] * len(runs)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(runs):
        groups.setdefault(r.counts.counts, []).append(i)
    for counts, idx in groups.items():
        c = runs[idx[0]].counts
        n, y = c.n, c.labels()
        W = np.swapaxes(Wt[idx], -1, -2)  # (g, d, k)
        H = np.swapaxes(Ht[idx, :n], -1, -2)  # (g, d, n)
        Z = np.swapaxes(W, -1, -2) @ H  # (g, k, n) logits W^T H
        zmax = Z.max(axis=-2, keepdims=True)
        lse = np.log(np.exp(Z - zmax).sum(axis=-2)) + zmax[..., 0, :]  # (g, n)
        ce = (lse - Z[:, y, np.arange(n)]).mean(axis=-1)
        W_norm = np.linalg.norm(W, axis=(-2, -1))
        H_norm = np.linalg.norm(H, axis=(-2, -1))
        loss = ce + cfg.lam * (W_norm**2 + H_norm**2) / (2 * n)
        error = (Z.argmax(axis=-2) != y).mean(axis=-1)
        M = class_means(H, y, c.k)  # (g, d, k)
        dist = distances(W, M, c)
        vals = {
            "seli_classifiers": dist.seli.classifiers, "seli_embeddings": dist.seli.embeddings,
            "seli_logits": dist.seli.logits, "etf_classifiers": dist.etf.classifiers,
            "etf_embeddings": dist.etf.embeddings, "etf_logits": dist.etf.logits,
        }
        M_norm = np.linalg.norm(M, axis=(-2, -1))
        for j, i in enumerate(idx):
            row = {"epoch": int(epoch)} | runs[i].label()
            row |= {"loss": float(loss[j]), "error": float(error[j]), "W_norm": float(W_norm[j]),
                    "H_norm": float(H_norm[j]), "M_norm": float(M_norm[j])}
            row |= {key: float(np.asarray(v)[j]) for key, v in vals.items()}
            rows[i] = row
    return rows  # type: ignore[return-value]


# --------------------------------------------------------------------------- training


@dataclass
class UFMResult:
    """The runs, their final state (CPU float64 views: W (runs, d, k), H_r (d, n_r)) and metrics."""

    config: UFMConfig
    runs: list[Run]
    rows: list[dict]
    Wt: object
    Ht: object
    engine: str
    seconds: float
    epochs_done: int

    def W(self, r: int) -> np.ndarray:
        return self.Wt[r].T.double().cpu().numpy()

    def H(self, r: int) -> np.ndarray:
        return self.Ht[r, :self.runs[r].counts.n].T.double().cpu().numpy()


def final_arrays(Wt, Ht, runs: list[Run]) -> dict[str, np.ndarray]:
    """Each run's final arrays in PyTorch's layouts, as final.npz holds them:
    classifier_<run> (k, d) (nn.Linear.weight), features_<run> (n, d), labels_<run> (n,) int64.
    Floats keep the training dtype, so a measurement of the file sees the trained values."""
    out = {}
    for i, r in enumerate(runs):
        out[f"classifier_{i}"] = Wt[i].detach().cpu().numpy().copy()
        out[f"features_{i}"] = Ht[i, :r.counts.n].detach().cpu().numpy().copy()
        out[f"labels_{i}"] = r.counts.labels().astype(np.int64)
    return out


def save_final(path, Wt, Ht, runs: list[Run]) -> Path:
    """Write final.npz (see final_arrays) atomically; a failed write is SeliOutputError."""
    import io

    from seli_io.atomic import atomic_write

    buf = io.BytesIO()
    np.savez(buf, **final_arrays(Wt, Ht, runs))
    return atomic_write(path, buf.getvalue())


def train_ufm(cfg: UFMConfig, out=None, *, resume: bool = False,
              progress: Callable[..., None] | None = None, stop_after: int | None = None) -> UFMResult:
    """Train every run of `cfg` for cfg.epochs epochs, logging metrics at log-spaced epochs.

    With `out` (a folder) the run is managed by `runio.RunDir`: config.json, metrics.csv /
    .jsonl, a checkpoint every cfg.checkpoint_every epochs, final.npz at the end, and
    `resume=True` continues from the last checkpoint bit-identically on the CPU; a larger
    cfg.epochs extends a finished run (the learning rate is constant). `progress(epoch_done,
    **info)` is called as epochs complete (the CLI passes its progress line). `stop_after` ends
    the call after that many epochs of this call (an interruption, for tests), without finishing.
    A NaN or inf raises `runio.NonFiniteError` and leaves the last good checkpoint in place; a
    write that fails (a full disk) raises SeliOutputError and leaves it in place too. The
    folder's lock (training.runlock) is held from the start to the end of the call.
    """
    runs = make_runs(cfg)
    engine = make_engine(cfg, runs, max(r.counts.n for r in runs) + 1)  # may refuse the engine
    # threads only split runs between CPU threads; results do not depend on them
    rd = (runio.RunDir(out, cfg, device=cfg.device, resume=resume, resumable=("threads",),
                       extend=cfg.extend_epochs, results=(FINAL_NAME,))
          if out is not None else None)
    try:
        return _train(cfg, runs, engine, rd, progress, stop_after)
    finally:
        engine.close()
        if rd is not None:
            rd.close()


def _train(cfg, runs, engine, rd, progress, stop_after) -> UFMResult:
    import torch

    state = rd.start() if rd is not None else None  # the lock, every check, then the writes
    Wt, Ht = init_state(cfg, runs)
    rows: list[dict] = []
    e = 0
    if state is not None:
        Wt = state["Wt"].to(device=cfg.device, dtype=Wt.dtype).contiguous()
        Ht = state["Ht"].to(device=cfg.device, dtype=Ht.dtype).contiguous()
        e = int(state["epoch"])
        rows = rd.rows()
    log_at = runio.log_epochs(cfg.epochs, cfg.log_per_decade)
    ckpt = rd.checkpoint_path if rd is not None else None

    def record(epoch: int) -> None:
        new = evaluate(Wt, Ht, runs, cfg, epoch)
        for row in new:
            runio.check_finite(
                f"the training loss of run {row['run']} (R={row['R']}, seed={row['seed']}, "
                f"lr={row['lr']})", row["loss"], epoch=epoch, checkpoint=ckpt)
        rows.extend(new)
        if rd is not None:
            for row in new:
                rd.log(row)

    def save(epoch: int) -> None:
        if rd is not None:
            rd.checkpoint({"Wt": Wt.cpu(), "Ht": Ht.cpu()}, epoch=epoch)

    t0 = time.perf_counter()
    start = e
    if state is None:  # a fresh run: the starting point is saved, then measured, once
        save(0)  # checkpoint first: a folder with rows always has a checkpoint to resume from
        record(0)
    elif not rows:  # resumed from that first checkpoint, before its rows were logged
        record(e)
    chunk = max(1, min(cfg.checkpoint_every, 1000))
    while e < cfg.epochs:
        nxt = min([x for x in log_at if x > e] + [cfg.epochs])
        nxt = min(nxt, (e // cfg.checkpoint_every + 1) * cfg.checkpoint_every, e + chunk)
        if stop_after is not None:
            nxt = min(nxt, start + stop_after)
        bad = engine.advance(Wt, Ht, e, nxt)
        if bad >= 0:
            with torch.no_grad():
                finite = torch.isfinite(Wt.flatten(1)).all(dim=1)
            r = int((~finite).nonzero()[0, 0]) if (~finite).any() else 0
            runio.check_finite(
                f"the classifiers W of run {r} (R={runs[r].R}, seed={runs[r].seed}, "
                f"lr={runs[r].lr})", Wt[r], epoch=bad + 1, checkpoint=ckpt)
        e = nxt
        if e in log_at:
            record(e)
        if e % cfg.checkpoint_every == 0 or e == cfg.epochs:
            runio.check_finite("the UFM state", Wt, epoch=e, checkpoint=ckpt)
            save(e)
        if progress is not None:
            last = rows[-len(runs):] if rows else []
            info = {"loss": max(r["loss"] for r in last)} if last else {}
            progress(e, **info)
        if stop_after is not None and e - start >= stop_after:
            break
    if rd is not None and e == cfg.epochs and (e > start or not (rd.out / FINAL_NAME).exists()):
        save_final(rd.out / FINAL_NAME, Wt, Ht, runs)
    return UFMResult(cfg, runs, rows, Wt, Ht, engine.name, time.perf_counter() - t0, e)


def config_from(**kw) -> UFMConfig:
    """A UFMConfig from keyword arguments, ignoring None values (the CLI's unset flags)."""
    names = {f.name for f in dataclasses.fields(UFMConfig)}
    unknown = set(kw) - names
    if unknown:
        raise SeliInputError(
            f"unknown UFM settings {sorted(unknown)}; the settings are {sorted(names)}."
        )
    return UFMConfig(**{k: v for k, v in kw.items() if v is not None})
