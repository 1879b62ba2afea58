"""`seli reproduce fig4 --out DIR [--epochs E]`: SGD on the UFM, distances to SELI / ETF (Fig 4).

Trains the paper's setup (k = 4, (R, 1/2)-STEP with n about 400, SGD lr 0.4, batch 4, no
weight decay; R = 1, 5, 10, 100; seeds 0, 1, 2) in DIR/run (resumable with --resume), then
writes DIR/fig4.png, DIR/fig4.pdf and DIR/fig4.csv.
"""

from __future__ import annotations

from pathlib import Path

from .train_ufm import add_run_arguments, config_from_args, summary, train


def add_arguments(p, argv=()) -> None:
    add_run_arguments(p)


def run(args) -> int:
    from training.fig4 import plot_fig4

    out = Path(args.out)
    cfg = config_from_args(args)
    result = train(cfg, out / "run", args)
    if result is None:
        return 1
    paths = plot_fig4(
        result.rows, out,
        title=f"SGD on the UFM, k={cfg.k}, lr={cfg.lrs[0]}, batch {cfg.batch_size}: "
              "SELI (solid) / ETF (dashed)",
    )
    print("\n".join(summary(result)))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
