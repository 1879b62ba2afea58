"""`seli train ufm`: batched SGD / GD on the unconstrained-features model (Fig 4's runs).

Every flag but --out, --resume, --allow-long, --progress and --json is generated from a
setting of training.ufm_config.UFMConfig (its help, default and checks live there).
"""

from __future__ import annotations

import sys

from seli_exact.errors import SeliInputError

from .args import out_folder
from .settings import (
    LazyProgress, add_run_management_arguments, add_settings, names_of, settings_from_args,
)

TRAIN_FILES = "config.json, metrics.csv/.jsonl, checkpoint.pt and, at the end, final.npz"
# the settings `seli reproduce fig4` offers: the paper's setup otherwise
FIG4_SETTINGS = ("epochs", "log_per_decade", "checkpoint_every", "R", "counts", "profile",
                 "seeds", "device", "dtype", "engine", "threads", "cuda_graphs")


def _config_cls():
    from training.ufm_config import UFMConfig

    return UFMConfig


def add_run_arguments(p, *, files: str = TRAIN_FILES, resume: str | None = None,
                      names=None) -> None:
    """The run-management flags and the UFM settings `names` (default: all of them)."""
    cls = _config_cls()
    add_run_management_arguments(
        p, files=files,
        resume=resume or "continue the run in --out from its last checkpoint; with a larger "
                         "--epochs, extend a finished run (the learning rate is constant)")
    names = names_of(cls) if names is None else list(names)
    # the run-management settings first, beside --out and --resume
    first = [n for n in ("epochs", "log_per_decade", "checkpoint_every") if n in names]
    add_settings(p, cls, first + [n for n in names if n not in first])


def add_arguments(p, argv=()) -> None:
    add_run_arguments(p)
    p.add_argument("--json", action="store_true", help="print the final metrics rows as JSON")


def config_from_args(args, *, check_device: bool = True, **fixed):
    """The UFMConfig of the flags that were given; `check_device` also asks torch whether cuda
    is there."""
    cls = _config_cls()
    kw = settings_from_args(args, cls, names_of(cls))
    kw.update(fixed)
    cfg = cls(**kw)
    if check_device and cfg.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SeliInputError(
                "`--device` cuda was asked for, but this PyTorch sees no CUDA device. "
                "Use --device cpu or a CUDA build of torch."
            )
    return cfg


def check_args(args, *, check_device: bool = False):
    """(config, --out folder) after every check of the flags, before any work (a sweep's cells
    before any starts; `seli_cli.main`'s check-only mode). The device is probed only when
    `check_device` (a sweep cell may run on another machine than the one checking it); a
    --resume is checked against the folder's run when training starts, before any write. A
    training estimated to take longer than seli_cli.limits.TRAIN_TIME_LIMIT_S is refused
    unless --allow-long."""
    out = out_folder("--out", args.out)
    cfg = config_from_args(args, check_device=check_device)
    _check_time(cfg, args)
    return cfg, out


def _check_time(cfg, args, engine: str | None = None) -> None:
    from .limits import check_train_time

    check_train_time(cfg.seconds_estimate(engine),
                     f"training {cfg.runs()} UFM run{'s' if cfg.runs() > 1 else ''} for "
                     f"{cfg.epochs} epochs", allowed=getattr(args, "allow_long", False))


def train(cfg, out, args):
    """Train with a progress bar; NonFiniteError becomes one line on stderr (returns None)."""
    from training.runio import NonFiniteError
    from training.ufm import kernel_unavailable, train_ufm

    if cfg.engine == "auto" and cfg.device == "cpu":
        why = kernel_unavailable()
        if why is not None:
            _check_time(cfg, args, "torch")  # the slower engine: estimated again, still up front
            print(f"note: the compiled kernel engine is unavailable ({why}); training with the "
                  "slower batched torch engine instead. Install a C compiler (cc) for the fast "
                  "one.", file=sys.stderr)
    with LazyProgress(cfg.epochs, "seli train ufm", args.progress) as bar:
        try:
            return train_ufm(cfg, out, resume=args.resume, progress=bar)
        except NonFiniteError as err:
            bar.close()
            print(f"error: {err}", file=sys.stderr)
            return None


def summary(result) -> list[str]:
    """Final distances per group (its imbalance ratio R), averaged over seeds, as text lines."""
    last = [r for r in result.rows if r["epoch"] == result.epochs_done]
    lines = [f"{result.engine} engine, {len(result.runs)} runs, {result.epochs_done} epochs, "
             f"{result.seconds:.1f} s"]
    cfg = result.config
    if cfg.counts is not None or cfg.profile is not None:
        for R, c in cfg.groups():
            lines.append(f"R={R}: class counts {list(c.counts)} (n={c.n})")
    by_R: dict[str, list[dict]] = {}
    for r in last:
        by_R.setdefault(r["R"], []).append(r)
    lines.append("R       loss       error  SELI W/M/logits       ETF W/M/logits")
    for R, rs in by_R.items():
        def m(key):
            return sum(r[key] for r in rs) / len(rs)
        lines.append(
            f"{R:<7} {m('loss'):<10.3g} {m('error'):<6.3f} "
            f"{m('seli_classifiers'):.3f} {m('seli_embeddings'):.3f} {m('seli_logits'):.3f}     "
            f"{m('etf_classifiers'):.3f} {m('etf_embeddings'):.3f} {m('etf_logits'):.3f}"
        )
    return lines


def run(args) -> int:
    cfg, out = check_args(args, check_device=True)
    result = train(cfg, out, args)
    if result is None:
        return 1
    if args.json:
        import json

        json.dump([r for r in result.rows if r["epoch"] == result.epochs_done], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(summary(result)))
        print(f"metrics: {args.out}/metrics.csv (and .jsonl), config: {args.out}/config.json")
    return 0
