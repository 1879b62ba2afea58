"""`seli train deepnet`: a deep net on an imbalanced subsample of a data set (Fig 2's runs).

Every flag but --out, --resume, --allow-long, --progress and --json is generated from a
setting of training.deepnet_config.DeepNetConfig (its help, default and checks live there).
"""

from __future__ import annotations

import sys

from .args import out_folder
from .settings import (
    LazyProgress, add_run_management_arguments, add_settings, names_of, settings_from_args,
)

TRAIN_FILES = ("config.json, summary.json (class counts and a hash of the chosen images), "
               "metrics.csv/.jsonl, checkpoint.pt and, at the end, final.npz")
RESUME = ("continue the run in --out from its last checkpoint; a larger --epochs is taken only "
          "where every epoch already trained keeps its learning rate (e.g. --gamma 1)")


def _config_cls():
    from training.deepnet_config import DeepNetConfig

    return DeepNetConfig


def add_data_arguments(p, *, files: str = TRAIN_FILES, resume: str = RESUME,
                       overrides: dict | None = None) -> None:
    """The run-management flags and every deep-net setting (shared with `seli reproduce fig2`,
    which passes `overrides` to take several ratios or profile vectors)."""
    cls = _config_cls()
    add_run_management_arguments(p, files=files, resume=resume)
    names = names_of(cls)
    first = ["per_decade", "checkpoint_every", "metrics_every", "eval_batch"]  # beside --out
    add_settings(p, cls, first + [n for n in names if n not in first], overrides=overrides)


def add_arguments(p, argv=()) -> None:
    add_data_arguments(p)
    p.add_argument("--json", action="store_true", help="print the run's summary as JSON")


def settings_given(args) -> dict:
    """{setting: value as typed} for the deep-net flags that were given."""
    cls = _config_cls()
    return settings_from_args(args, cls, names_of(cls))


def config_from_args(args, **fixed):
    """A DeepNetConfig from the flags that were given (the rest keep their defaults)."""
    kw = settings_given(args)
    kw.update(fixed)
    return _config_cls()(**kw)


def check_args(args):
    """(config, --out folder) after every check of the flags, before any work (a sweep's cells
    before any starts; `seli_cli.main`'s check-only mode). The data files are read, and the
    counts checked against them, when training starts, before anything is written."""
    out = out_folder("--out", args.out)
    config = config_from_args(args)
    check_time([config], args)
    return config, out


def check_time(configs, args) -> None:
    """Refuse trainings estimated (all `configs` together) to run longer than
    seli_cli.limits.TRAIN_TIME_LIMIT_S on the CPU, unless --allow-long."""
    from .limits import check_train_time

    estimates = [c.seconds_estimate() for c in configs]
    known = [e for e in estimates if e is not None]
    first = configs[0]
    what = (f"training the {first.arch} on {first.dataset} for {first.epochs} epochs"
            + (f" ({len(configs)} runs)" if len(configs) > 1 else ""))
    check_train_time(sum(known) if known else None, what,
                     allowed=getattr(args, "allow_long", False))


def train_one(config, out, args, *, desc: str = "deep net", data=None, resume=None):
    """Train with a progress bar; NonFiniteError becomes one line on stderr (returns None)."""
    from training.deepnet import train
    from training.runio import NonFiniteError

    resume = args.resume if resume is None else resume
    with LazyProgress(config.epochs, desc, args.progress) as bar:
        try:
            return train(config, out=out, resume=resume, progress=bar, data=data)
        except NonFiniteError as err:
            bar.close()
            print(f"error: {err}", file=sys.stderr)
            return None


def summary(results: dict, *, label: str = "R") -> list[str]:
    """One line per run (its R or ratio): zero-error epoch, final accuracy, NC1, distances."""
    lines = [f"{label:<7} zero-err  acc     NC1      SELI W/M/logits       ETF W/M"]
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
    config, out = check_args(args)
    res = train_one(config, out, args, desc=f"{config.arch} {config.dataset}")
    if res is None:
        return 1
    if args.json:
        import json

        json.dump(res.summary(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        label = "R" if config.R is not None else "ratio"
        key = str(config.R) if config.R is not None else str(res.counts.imbalance_ratio)
        print(f"{config.arch} on {config.dataset}, {config.describe_counts()}, class counts "
              f"{list(res.counts.counts)}, {config.epochs} epochs, {res.seconds:.1f} s")
        print("\n".join(summary({key: res}, label=label)))
        print(f"metrics: {out}/metrics.csv (and .jsonl), config: {out}/config.json, "
              f"final arrays: {out}/final.npz")
    return 0
