"""`seli train deepnet`: a deep net on an (R, 1/2)-STEP imbalanced data set (Fig 2's runs)."""

from __future__ import annotations

import sys

from seli_exact.errors import SeliInputError

from .common import add_run_management_arguments


def add_data_arguments(p) -> None:
    """Data set, network and optimizer flags shared with `seli reproduce fig2`."""
    g = p.add_argument_group("data and network")
    g.add_argument("--dataset", default="digits",
                   choices=("digits", "mnist", "fashion-mnist", "cifar10"),
                   help="digits (default) is scikit-learn's bundled 8x8 set and needs no files; "
                        "the others are read from torchvision's folders under --data-root")
    g.add_argument("--data-root", dest="data_root",
                   help="folder holding MNIST/raw, FashionMNIST/raw or cifar-10-batches-py "
                        "(nothing is downloaded)")
    g.add_argument("--arch", choices=("mlp", "resnet18", "vgg13"),
                   help="network; default mlp on digits, resnet18 otherwise")
    g.add_argument("--width", help="MLP width (default 256) or base channels of ResNet/VGG "
                                   "(default 64)")
    g.add_argument("--rho", help="minority fraction of (R, rho)-STEP; default 1/2")
    g.add_argument("--n-min", dest="n_min", help="images per minority class; default: the "
                                                 "largest the data set allows")
    g.add_argument("--seed", help="seed of the subsample, initialization and shuffling; default 0")
    g = p.add_argument_group("optimizer (defaults: SGD, lr 0.1, momentum 0.9, wd 5e-4, 350 "
                             "epochs, lr / 10 at 1/3 and 2/3)")
    g.add_argument("--epochs", help="epochs; default 350")
    g.add_argument("--batch-size", dest="batch_size", help="default 128 (32 on digits)")
    g.add_argument("--lr", help="initial learning rate; default 0.1")
    g.add_argument("--momentum", help="default 0.9")
    g.add_argument("--weight-decay", dest="weight_decay", help="default 5e-4")
    g.add_argument("--milestones", help="fractions of the epochs where lr is multiplied by "
                                        "--gamma, comma-separated; default 1/3,2/3")
    g.add_argument("--gamma", help="learning-rate factor at each milestone; default 0.1")
    g = p.add_argument_group("device and precision")
    g.add_argument("--device", help="cpu (default), cuda or cuda:N")
    g.add_argument("--bf16", action="store_true", help="bfloat16 autocast for training steps")
    g.add_argument("--channels-last", dest="channels_last", action="store_true", default=None,
                   help="channels_last memory format (default: on for conv nets on cuda)")
    g.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    g.add_argument("--tf32", action="store_true", help="allow TF32 on cuda (off by default)")
    g.add_argument("--threads", type=int, help="CPU threads for torch; default: torch's")
    g = add_run_management_arguments(
        p, files="config.json, summary.json, metrics.csv/.jsonl, checkpoint.pt",
        resume="continue the run(s) in --out from their last checkpoint", checkpoint_default=10)
    g.add_argument("--metrics-every", dest="metrics_every", choices=("log", "epoch"),
                   help="measure at log-spaced epochs (default) or every epoch")


def add_arguments(p, argv=()) -> None:
    add_data_arguments(p)
    p.add_argument("--R", help="imbalance ratio of (R, 1/2)-STEP; default 10")
    p.add_argument("--json", action="store_true", help="print the run's summary as JSON")


FIELDS = ("dataset", "data_root", "arch", "width", "rho", "n_min", "seed", "epochs",
          "batch_size", "lr", "momentum", "weight_decay", "gamma", "device", "bf16",
          "channels_last", "tf32", "metrics_every", "checkpoint_every")


def config_from_args(args, *, apply_threads: bool = True, **fixed):
    """A DeepNetConfig from the flags that were given (the rest keep their defaults);
    `apply_threads` sets torch's thread count from --threads."""
    from training.deepnet import DeepNetConfig

    kw = {f: getattr(args, f) for f in FIELDS if getattr(args, f, None) is not None}
    if getattr(args, "log_per_decade", None) is not None:  # the shared flag's name for per_decade
        kw["per_decade"] = args.log_per_decade
    if not kw.get("bf16"):
        kw.pop("bf16", None)
    if not kw.get("tf32"):
        kw.pop("tf32", None)
    if args.milestones is not None:
        kw["milestones"] = tuple(m.strip() for m in args.milestones.split(",") if m.strip())
    if kw.get("arch") is None:
        kw["arch"] = "mlp" if kw.get("dataset", "digits") == "digits" else "resnet18"
    if args.threads is not None:
        if args.threads < 1:
            raise SeliInputError(f"`--threads` must be at least 1; got {args.threads}. "
                                 "Try --threads 1.")
        if apply_threads:
            import torch

            torch.set_num_threads(args.threads)
    kw.update(fixed)
    return DeepNetConfig(**kw)


def check_args(args) -> None:
    """The config checks of `run` without training or touching torch's threads (a sweep's
    cells, before any starts). The data files are not read here."""
    kw = {} if args.R is None else {"R": args.R}
    config_from_args(args, apply_threads=False, **kw)


class _LazyProgress:
    """A runio.Progress bar opened at the first finished epoch, after the data have loaded, so
    that a missing-file error is not preceded by an empty bar."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.total, self.desc, self.enabled, self.bar = total, desc, enabled, None

    def __call__(self, done: int, **postfix) -> None:
        if self.bar is None:
            from training.runio import Progress

            self.bar = Progress(self.total, initial=done - 1, desc=self.desc,
                                enabled=self.enabled)
        self.bar(done, **postfix)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_one(config, out, args, *, desc: str = "deep net"):
    """Train with a progress bar; NonFiniteError becomes one line on stderr (returns None)."""
    from training.deepnet import train
    from training.runio import NonFiniteError

    bar = _LazyProgress(config.epochs, desc, args.progress)
    try:
        return train(config, out=out, resume=args.resume, progress=bar)
    except NonFiniteError as err:
        bar.close()
        print(f"error: {err}", file=sys.stderr)
        return None
    finally:
        bar.close()


def summary(results: dict) -> list[str]:
    """One line per R: zero-error epoch, final train accuracy, NC1 and the distances."""
    lines = ["R       zero-err  acc     NC1      SELI W/M/logits       ETF W/M"]
    for R, res in results.items():
        f = res.rows[-1]
        z = "-" if res.zero_error_epoch is None else str(res.zero_error_epoch)
        lines.append(
            f"{R!s:<7} {z:<9} {f['train_acc']:<7.4f} {f['nc1']:<8.3g} "
            f"{f['seli_classifiers']:.3f} {f['seli_embeddings']:.3f} {f['seli_logits']:.3f}     "
            f"{f['etf_classifiers']:.3f} {f['etf_embeddings']:.3f}"
        )
    return lines


def run(args) -> int:
    kw = {} if args.R is None else {"R": args.R}
    config = config_from_args(args, **kw)
    res = train_one(config, args.out, args, desc=f"{config.arch} {config.dataset} R={config.R}")
    if res is None:
        return 1
    if args.json:
        import json

        json.dump(res.summary(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{config.arch} on ({config.R}, {config.rho})-STEP {config.dataset}, class counts "
              f"{list(res.counts.counts)}, {config.epochs} epochs, {res.seconds:.1f} s")
        print("\n".join(summary({str(config.R): res})))
        print(f"metrics: {args.out}/metrics.csv (and .jsonl), config: {args.out}/config.json")
    return 0
