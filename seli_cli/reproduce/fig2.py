"""`seli reproduce fig2 --dataset D --arch A --out DIR`: deep nets vs SELI / ETF (Fig 2).

Trains one run per R (default R = 1, 10, 100) on (R, 1/2)-STEP subsamples of the data set in
DIR/R<R> (each resumable with --resume), then writes DIR/fig2.png, DIR/fig2.pdf and DIR/fig2.csv.
With --profile exp:k=10:ratio=R1,R2,...:n_max=N one run per ratio trains on that long-tailed
subsample (in DIR/ratio<R>), measured against the exact SELI geometry of its own counts.
With --seeds 0,1,2 every ratio trains once per seed (in DIR/R<R>_seed<S>), the figure shows the
mean over seeds with their range, and the table printed at the end gives each number as its
mean [min, max] over the seeds: CPU training is not bit-reproducible across machines (torch
picks its float32 kernels by CPU), so a figure quoted from one seed would promise digits that
another machine does not give.
The default (digits, an MLP) needs no files and runs on a CPU in minutes; --dataset
mnist|fashion-mnist|cifar10 with --arch resnet18 (Fig 2) or vgg13 (Fig 11) is the paper's setup.
"""

from __future__ import annotations

from fractions import Fraction

from seli_exact.errors import SeliInputError

from ..args import out_folder
from ..train_deepnet import add_data_arguments, check_time, settings_given, summary, train_one

FILES = ("fig2.png, fig2.pdf and fig2.csv (the distances behind the figure), and one training "
         "run per ratio in DIR/R<R> (or DIR/ratio<R> for a profile; DIR/R<R>_seed<S> with "
         "several --seeds), each with config.json, summary.json, metrics.csv/.jsonl, "
         "checkpoint.pt and final.npz")
RESUME = ("continue the runs in DIR from their last checkpoints (ratios without a run yet start "
          "afresh) and draw the figure again")
DEFAULT_R = "1,10,100"


def add_arguments(p, argv=()) -> None:
    add_data_arguments(p, files=FILES, resume=RESUME, overrides={
        "R": {"many": True, "distinct": True, "unset": DEFAULT_R,
              "help": "imbalance ratios of (R, rho)-STEP, comma-separated (one run each)"},
        "profile": {"help": "a count profile instead of STEP, one run per listed value: "
                            "exp:k=10:ratio=R1,R2,...[:n_max=N] (CIFAR-10-LT's rule; N must fit "
                            "the data set) or step:k=10:R=R:rho=RHO:n_min=N"},
        "seed": {"many": True, "distinct": True, "flag": "seeds",
                 "help": "seeds of the subsample, initialization and shuffling, comma-separated: "
                         "one run per ratio and seed, and the final table as mean [min, max] "
                         "over them",
                 "fix": "Seeds are whole numbers >= 0, e.g. 0,1,2."},
    })


def _runs(args):
    """[(label, folder name, config)] for every run, all checked before any trains."""
    import dataclasses

    from seli_exact.counts import ClassCounts, parse_profile
    from training.deepnet_config import DeepNetConfig, single_profiles
    from training.settings import parse, spec

    kw = settings_given(args)
    R_text = kw.pop("R", None)
    profile = kw.pop("profile", None)
    field = DeepNetConfig.__dataclass_fields__["seed"]
    seeds = parse(dataclasses.replace(spec(field), many=True, distinct=True), "seeds",
                  kw.pop("seed", "0"))
    if R_text is not None and (profile is not None or "counts" in kw):
        raise SeliInputError(
            f"`{'profile' if profile is not None else 'counts'}` replaces the STEP model, but "
            "--R was given too; drop --R or the counts."
        )
    runs = []
    if profile is not None:
        for single in single_profiles(profile):
            c = DeepNetConfig(**kw, profile=single, seed=seeds[0])
            params = parse_profile(single).params
            q = Fraction(params.get("ratio", params.get("R")))
            runs.append((q, f"ratio{_name(q)}", c))
    elif "counts" in kw:
        c = DeepNetConfig(**kw, seed=seeds[0])
        q = ClassCounts(tuple(c.counts)).imbalance_ratio
        runs.append((q, "counts", c))
    else:
        field = DeepNetConfig.__dataclass_fields__["R"]
        many = dataclasses.replace(spec(field), many=True, distinct=True)
        for R in parse(many, "R", DEFAULT_R if R_text is None else R_text):
            c = DeepNetConfig(**kw, R=R, seed=seeds[0])
            runs.append((c.R, f"R{_name(c.R)}", c))
    labels = [str(q) for q, _, _ in runs]
    twice = next((x for i, x in enumerate(labels) if x in labels[:i]), None)
    if twice is not None:
        raise SeliInputError(
            f"two runs would share the ratio {twice} (and its folder); list each ratio once."
        )
    if len(seeds) == 1:
        return runs
    return [(q, f"{name}_seed{s}", dataclasses.replace(c, seed=s))
            for q, name, c in runs for s in seeds]


def check_args(args):
    """(the runs, --out folder) after every check of the flags, before any work. The data set
    is read, and every run's counts checked against it, in `run` before the first trains."""
    out = out_folder("--out", args.out)
    runs = _runs(args)
    check_time([c for _, _, c in runs], args)
    return runs, out


def _name(q) -> str:
    return str(q).replace("/", "_")


def seeds_table(results: dict, *, label: str = "R") -> list[str]:
    """The end of training over seeds as a Markdown table: each cell mean [min, max]."""
    from figures.fig2 import final_table

    def cell(v, fmt):
        if v is None:
            return "-"
        mean, lo, hi = v
        return f"{mean:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"

    lines = [f"| {label} | seeds | zero-error epoch | classifiers SELI / ETF | centred means "
             "SELI / ETF | logits | NC1 |", "|---|---|---|---|---|---|---|"]
    for row in final_table(results):
        lines.append(
            f"| {row['R']} | {','.join(map(str, row['seeds']))} | "
            f"{cell(row['zero_error_epoch'], '.1f')} | "
            f"{cell(row['seli_classifiers'], '.3f')} / {cell(row['etf_classifiers'], '.3f')} | "
            f"{cell(row['seli_embeddings'], '.3f')} / {cell(row['etf_embeddings'], '.3f')} | "
            f"{cell(row['seli_logits'], '.3f')} | {cell(row['nc1'], '.3f')} |")
    return lines


def run(args) -> int:
    from training.data import load_dataset
    from training.deepnet import make_subset
    from figures.fig2 import plot_fig2
    from training.runio import has_run

    runs, out = check_args(args)
    first = runs[0][2]
    data = load_dataset(first.dataset, first.data_root, train=True)
    for _, _, config in runs:  # a ratio the data cannot supply costs no training time
        make_subset(config, data)
    if args.resume and not any(has_run(out / name) for _, name, _ in runs):
        raise SeliInputError(
            f"--resume found no run in {out} (no {', '.join(name for _, name, _ in runs)} "
            "folder with a checkpoint); drop --resume to start the figure's runs there."
        )
    label = "R" if first.R is not None else "ratio"
    several = len({c.seed for _, _, c in runs}) > 1
    results: dict[str, list] = {}
    for q, name, config in runs:
        folder = out / name
        seed = f" seed {config.seed}" if several else ""
        res = train_one(config, folder, args,
                        desc=f"{config.arch} {config.dataset} {label}={q}{seed}",
                        data=data, resume=args.resume and has_run(folder))
        if res is None:
            return 1
        results.setdefault(str(q), []).append(res)
    ordered = dict(sorted(results.items(), key=lambda kv: Fraction(kv[0])))
    if label == "R":
        what = f"(R, {first.rho})-STEP"
    elif first.profile is not None:
        what = f"profile {args.profile}"
    else:
        what = f"counts {list(first.counts)}"
    paths = plot_fig2(
        ordered, out, label=label,
        title=f"{first.arch} on {first.dataset}, {what}, {first.epochs} epochs: "
              "SELI (solid) / ETF (dashed)",
    )
    if several:
        print("\n".join(seeds_table(ordered, label=label)))
    else:
        print("\n".join(summary({q: res[0] for q, res in ordered.items()}, label=label)))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
