"""`seli reproduce fig4 --out DIR [--epochs E]`: SGD on the UFM, distances to SELI / ETF (Fig 4).

Trains the paper's setup (k = 4, (R, 1/2)-STEP with n about 400, SGD lr 0.4, batch 4, no
weight decay; R = 1, 5, 10, 100; seeds 0, 1, 2) in DIR/run (resumable with --resume; a larger
--epochs extends a finished run), then writes DIR/fig4.png, DIR/fig4.pdf and DIR/fig4.csv.
With --profile exp:k=10:ratio=R1,R2,... (or --counts) the same figure is drawn for long-tailed
counts, each measured against the exact SELI geometry of its own counts.
"""

from __future__ import annotations

from ..train_ufm import FIG4_SETTINGS, add_run_arguments, check_args, summary, train

FILES = ("fig4.png, fig4.pdf and fig4.csv (the distances behind the figure), and the training "
         "run in DIR/run (config.json, metrics.csv/.jsonl, checkpoint.pt, final.npz)")


__all__ = ["add_arguments", "check_args", "run"]  # check_args: the UFM trainer's, the same flags


def add_arguments(p, argv=()) -> None:
    add_run_arguments(
        p, files=FILES, names=FIG4_SETTINGS,
        resume="continue the training run in DIR/run from its last checkpoint (a larger "
               "--epochs extends a finished run) and draw the figure again")


def run(args) -> int:
    from figures.fig4 import plot_fig4

    cfg, out = check_args(args, check_device=True)
    result = train(cfg, out / "run", args)
    if result is None:
        return 1
    label = "R" if cfg.profile is None and cfg.counts is None else "ratio"
    what = "(R, 1/2)-STEP" if label == "R" else (
        f"profile {cfg.profile}" if cfg.profile else f"counts {list(cfg.counts)}")
    paths = plot_fig4(
        result.rows, out, label=label,
        title=f"SGD on the UFM, k={cfg.k}, {what}, lr={cfg.lrs[0]}, batch {cfg.batch_size}: "
              "SELI (solid) / ETF (dashed)",
    )
    print("\n".join(summary(result)))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
