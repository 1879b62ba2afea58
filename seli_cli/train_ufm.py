"""`seli train ufm`: batched SGD / GD on the unconstrained-features model (Fig 4's runs)."""

from __future__ import annotations

import sys

from seli_exact.errors import SeliInputError

from .common import add_run_management_arguments


def _list(text: str) -> tuple[str, ...]:
    items = tuple(x.strip() for x in str(text).split(",") if x.strip())
    if not items:
        raise SeliInputError(f"expected a comma-separated list; got {text!r}. Try 1,10,100.")
    return items


def add_run_arguments(p) -> None:
    """The flags shared by `seli train ufm` and `seli reproduce fig4`."""
    g = add_run_management_arguments(
        p, files="config.json, metrics.csv/.jsonl, checkpoint.pt",
        resume="continue the run in --out from its last checkpoint", checkpoint_default=1000)
    g.add_argument("--epochs", help="epochs (passes over the n examples); default 100000")
    g = p.add_argument_group("runs")
    g.add_argument("--R", help="imbalance ratios, comma-separated; default 1,5,10,100")
    g.add_argument("--seeds", help="seeds, comma-separated (one run each); default 0,1,2")
    g.add_argument("--device", choices=("cpu", "cuda"), help="default cpu")
    g.add_argument("--dtype", choices=("float64", "float32"), help="default float64")
    g.add_argument("--engine", choices=("auto", "kernel", "torch", "autograd"),
                   help="auto (default): the compiled C loop on cpu, batched torch on cuda; "
                        "autograd is the plain PyTorch loop")
    g.add_argument("--threads", help="CPU threads for the kernel engine; default: torch's")
    g.add_argument("--cuda-graphs", dest="cuda_graphs", action="store_true", default=None,
                   help="torch engine on cuda: replay each epoch's steps as one CUDA graph")


def add_arguments(p, argv=()) -> None:
    add_run_arguments(p)
    g = p.add_argument_group("model and optimizer (defaults: the paper's Fig 4 setup)")
    g.add_argument("--k", help="classes; default 4")
    g.add_argument("--rho", help="minority fraction of (R, rho)-STEP; default 1/2")
    g.add_argument("--n-target", dest="n_target", help="n_min is chosen so n is nearest this; default 400")
    g.add_argument("--n-min", dest="n_min", help="fix n_min for every R instead of --n-target")
    g.add_argument("--d", help="feature dimension (>= k-1); default 16")
    g.add_argument("--lr", help="learning rates, comma-separated (one run each); default 0.4")
    g.add_argument("--optimizer", choices=("sgd", "gd"), help="sgd (default) or full-batch gd")
    g.add_argument("--batch-size", dest="batch_size", help="SGD batch size; default 4")
    g.add_argument("--reduction", choices=("mean", "sum"),
                   help="CE over a batch: mean (default, PyTorch's) or sum (Eqn (1))")
    g.add_argument("--lam", help="ridge regularization of (1) as weight decay; default 0")
    g.add_argument("--init-scale", dest="init_scale", help="W, H ~ N(0, s^2/d); default 1")
    g.add_argument("--json", action="store_true", help="print the final metrics rows as JSON")


def config_from_args(args, *, check_device: bool = True, **fixed):
    """The UFMConfig of the flags; `check_device` also asks torch whether cuda is there."""
    from training.ufm import config_from

    kw = {
        "epochs": args.epochs, "checkpoint_every": args.checkpoint_every,
        "log_per_decade": args.log_per_decade, "device": args.device, "dtype": args.dtype,
        "engine": args.engine, "threads": args.threads, "cuda_graphs": args.cuda_graphs,
        "R": _list(args.R) if args.R else None,
        "seeds": _list(args.seeds) if args.seeds else None,
    }
    for name in ("k", "rho", "n_target", "n_min", "d", "optimizer", "batch_size", "reduction",
                 "lam", "init_scale"):
        if hasattr(args, name):
            kw[name] = getattr(args, name)
    if getattr(args, "lr", None):
        kw["lrs"] = _list(args.lr)
    for name in ("lam", "init_scale"):
        if kw.get(name) is not None:
            kw[name] = _float(name, kw[name])
    if kw.get("lrs") is not None:
        kw["lrs"] = tuple(_float("lr", x) for x in kw["lrs"])
    kw.update(fixed)
    if check_device and kw.get("device") == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SeliInputError(
                "`--device` cuda was asked for, but this PyTorch sees no CUDA device. "
                "Use --device cpu or a CUDA build of torch."
            )
    return config_from(**kw)


def check_args(args) -> None:
    """Every value check of `run` without training (a sweep's cells, before any starts); the
    device is not probed, since a cell may run on another machine than the one checking it."""
    config_from_args(args, check_device=False)


def _float(name: str, text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise SeliInputError(f"`--{name.replace('_', '-')}` must be a number; got {text!r}.") from None


def train(cfg, out, args):
    """Train with a progress bar; NonFiniteError becomes one line on stderr (returns None)."""
    from training.runio import NonFiniteError, Progress
    from training.ufm import kernel_unavailable, train_ufm

    if cfg.engine == "auto" and cfg.device == "cpu":
        why = kernel_unavailable()
        if why is not None:
            print(f"note: the compiled kernel engine is unavailable ({why}); training with the "
                  "slower batched torch engine instead. Install a C compiler (cc) for the fast "
                  "one.", file=sys.stderr)
    with Progress(cfg.epochs, desc="UFM", enabled=args.progress) as bar:
        try:
            return train_ufm(cfg, out, resume=args.resume, progress=bar)
        except NonFiniteError as err:
            bar.close()
            print(f"error: {err}", file=sys.stderr)
            return None


def summary(result) -> list[str]:
    """Final distances per R, averaged over seeds, as text lines."""
    last = [r for r in result.rows if r["epoch"] == result.epochs_done]
    lines = [f"{result.engine} engine, {len(result.runs)} runs, {result.epochs_done} epochs, "
             f"{result.seconds:.1f} s"]
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
    cfg = config_from_args(args)
    result = train(cfg, args.out, args)
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
