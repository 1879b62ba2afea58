"""`seli reproduce fig2 --dataset D --arch A --out DIR`: deep nets vs SELI / ETF (Fig 2).

Trains one run per R (default R = 1, 10, 100) on (R, 1/2)-STEP subsamples of the data set in
DIR/R<R> (each resumable with --resume), then writes DIR/fig2.png, DIR/fig2.pdf and DIR/fig2.csv.
The default (digits, an MLP) needs no files and runs on a CPU in minutes; --dataset
mnist|fashion-mnist|cifar10 with --arch resnet18 (Fig 2) or vgg13 (Fig 11) is the paper's setup.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from seli_exact.errors import SeliInputError

from .train_deepnet import add_data_arguments, config_from_args, summary, train_one


def add_arguments(p, argv=()) -> None:
    add_data_arguments(p)
    p.add_argument("--R", default="1,10,100",
                   help="imbalance ratios, comma-separated (one run each); default 1,10,100")


def _ratios(text: str) -> list[str]:
    items = [x.strip() for x in str(text).split(",") if x.strip()]
    if not items:
        raise SeliInputError(f"`--R` must be a comma-separated list of ratios; got {text!r}. "
                             "Try --R 1,10,100.")
    return items


def run(args) -> int:
    from training.fig2 import plot_fig2

    out = Path(args.out)
    # every R's config is checked before the first run trains, so a bad last ratio (or one
    # given twice, which would share a folder) costs no training time
    configs = [config_from_args(args, R=R) for R in _ratios(args.R)]
    seen = [c.R for c in configs]
    twice = next((R for i, R in enumerate(seen) if R in seen[:i]), None)
    if twice is not None:
        raise SeliInputError(f"`--R` lists the ratio {twice} twice; got {args.R!r}. "
                             "List each ratio once.")
    results = {}
    for config in configs:
        folder = out / f"R{str(config.R).replace('/', '_')}"
        res = train_one(config, folder, args, desc=f"{config.arch} {config.dataset} R={config.R}")
        if res is None:
            return 1
        results[str(config.R)] = res
    ordered = dict(sorted(results.items(), key=lambda kv: Fraction(kv[0])))
    paths = plot_fig2(
        ordered, out,
        title=f"{config.arch} on (R, {config.rho})-STEP {config.dataset}, "
              f"{config.epochs} epochs: SELI (solid) / ETF (dashed)",
    )
    print("\n".join(summary(ordered)))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
