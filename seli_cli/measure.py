"""`seli measure`: the SELI geometry of your own network's classifier and features.

  seli measure --classifier SRC --features SRC --labels SRC [--bias SRC]
               [--center balanced|weighted|none] [--json] [--out DIR]
  seli measure --classifier SRC --means SRC (--counts N1,N2,... | --counts-file F) [...]

SRC is X.npy, X.npz:KEY, X.pt:KEY or X.safetensors:KEY (measurement.sources); layouts are
PyTorch's. The numbers are measurement.measure's (its docstring defines each); `--out DIR` writes
DIR/measure.json and the figure DIR/measure.png, DIR/measure.pdf (figures.measure).
"""

from __future__ import annotations

import json

from seli_exact.errors import SeliInputError
from seli_exact.metrics import CENTERS
from measurement.sources import SRC_HELP

from . import args as args_checks
from .progress import Progress, add_progress_argument

OUTPUTS = ("measure.json", "measure.png", "measure.pdf")
CENTER_HELP = {
    "balanced": "minus the mean of the class means (Sec. G; default)",
    "weighted": "minus the sample mean of all features (Papyan et al.'s global mean)",
    "none": "as they are",
}
CENTER_SHORT = {"balanced": "minus the mean of the class means (Sec. G)",
                "weighted": "minus the sample mean of the features", "none": "not centred"}


def add_arguments(p, argv=()) -> None:
    p.description = (
        "Measure a trained network against the SELI geometry of its own class counts and against "
        "ETF: Sec. 5's distances, NC1-NC4, and per-class norms beside SELI's. SRC is " + SRC_HELP
        + "; layouts are PyTorch's (classifier k x d, features n x d, labels n integers in [0, k))."
    )
    g = p.add_argument_group("inputs")
    g.add_argument("--classifier", required=True, metavar="SRC",
                   help="the last layer's weight, k x d (nn.Linear.weight)")
    g.add_argument("--features", metavar="SRC",
                   help="penultimate features of the training examples, n x d")
    g.add_argument("--labels", metavar="SRC", help="their labels, n integers in [0, k)")
    g.add_argument("--bias", metavar="SRC",
                   help="the last layer's bias, k values (used by NC4's decisions only)")
    g.add_argument("--means", metavar="SRC",
                   help="class means, k x d, instead of features (needs --counts or --counts-file)")
    g.add_argument("--counts", help="class counts n1,n2,... for --means")
    g.add_argument("--counts-file", dest="counts_file", metavar="FILE",
                   help="class counts for --means, one per line or a JSON list")
    p.add_argument("--center", default="balanced", choices=CENTERS,
                   help="how class means are centred before the embedding, logit and NC1-NC3 "
                   "metrics: " + "; ".join(f"{k}: {v}" for k, v in CENTER_HELP.items()))
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", metavar="DIR",
                   help="also write DIR/measure.json and the figure DIR/measure.png, .pdf "
                        "(created if missing; files of those names are replaced, the three "
                        "together and atomically)")
    add_progress_argument(p)


def check_args(args):
    """(mode, out folder or None, counts or None) after every check that needs no reading of the
    arrays: the flags and their conflicts, the --out folder and its files (seli_cli.args), each
    SRC's file, suffix and KEY syntax, and the counts of --means. Shapes, labels and values are
    checked by `measure` as it reads them, before anything is written."""
    out = None if args.out is None else args_checks.out_folder("--out", args.out, files=OUTPUTS)
    mode = _check_flags(args)
    from measurement.sources import parse_source

    for flag in ("classifier", "features", "labels", "bias", "means"):
        if getattr(args, flag) is not None:
            parse_source(getattr(args, flag), f"--{flag}")
    return mode, out, (_counts(args) if mode == "means" else None)


def _counts(args):
    from seli_exact.counts import counts_from_file, from_counts

    if args.counts is not None:
        return from_counts(args_checks.text_list("--counts", args.counts, example="50,50,5,5"))
    args_checks.in_file("--counts-file", args.counts_file, max_bytes=2**24)
    return counts_from_file(args.counts_file)


def run(args) -> int:
    mode, out, counts = check_args(args)
    from measurement.report import measure
    from measurement.sources import load_source

    names = {"classifier": f"--classifier {args.classifier}"}
    W = load_source(args.classifier, "--classifier")
    bias = None
    if args.bias is not None:
        names["bias"] = f"--bias {args.bias}"
        bias = load_source(args.bias, "--bias")
    if mode == "features":
        names |= {"features": f"--features {args.features}", "labels": f"--labels {args.labels}"}
        H = load_source(args.features, "--features")
        y = load_source(args.labels, "--labels")
        # counted in rows read over both passes; drawn once a run lasts (progress.py's delay)
        with Progress.from_args(args, "seli measure", unit="rows read") as bar:
            m = measure(W, H, y, center=args.center, bias=bias, names=names, progress=bar)
    else:
        names |= {"means": f"--means {args.means}",
                  "counts": "--counts" if args.counts is not None else f"--counts-file {args.counts_file}"}
        m = measure(W, load_source(args.means, "--means"), counts=counts, center=args.center,
                    bias=bias, names=names)

    obj = m.as_dict()
    if out is not None:  # the JSON and the figure as one group (seli_io.atomic)
        from seli_io.atomic import atomic_write_all
        from figures.measure import measurement_figure

        files = {out / "measure.json": json.dumps(obj, indent=2) + "\n"}
        atomic_write_all(files | measurement_figure(m, out / "measure"))
    if args.json:
        from .common import emit_json

        emit_json(obj)
    else:
        print(measure_table(m))
        if out is not None:
            print(f"\nwrote {out / 'measure.json'}, {out / 'measure.png'}, {out / 'measure.pdf'}")
    return 0


def _check_flags(args) -> str:
    """'features' or 'means'; conflicting or missing flags are refused before any file is read."""
    if args.means is not None:
        extra = [f for f, v in (("--features", args.features), ("--labels", args.labels)) if v is not None]
        if extra:
            raise SeliInputError(
                f"`--means` replaces features and labels, but {' and '.join(extra)} "
                f"{'was' if len(extra) == 1 else 'were'} given too; use --means with --counts, or "
                "--features with --labels."
            )
        if (args.counts is None) == (args.counts_file is None):
            raise SeliInputError(
                "`--means` needs the class counts from exactly one of --counts or --counts-file; got "
                + ("neither" if args.counts is None else "both") + ". Give one, e.g. --counts 50,50,5,5."
            )
        return "means"
    if args.features is None or args.labels is None:
        missing = "--features" if args.features is None else "--labels"
        raise SeliInputError(
            f"`seli measure` needs {missing}: give --features SRC with --labels SRC, or --means SRC "
            "with --counts."
        )
    if args.counts is not None or args.counts_file is not None:
        flag = "--counts" if args.counts is not None else "--counts-file"
        raise SeliInputError(
            f"`{flag}` goes with --means; with --features the class counts come from --labels, so "
            f"drop {flag}."
        )
    return "features"


# --------------------------------------------------------------------------- table


def _g(x, nd: int = 4) -> str:
    return "-" if x is None else f"{x:.{nd}g}"


def measure_table(m) -> str:
    """The human-readable report of a Measurement."""
    c = m.counts
    ratio = c.imbalance_ratio
    lines = [
        f"seli measure: k = {m.k} classes, n = {m.n} examples, d = {m.d}; class means "
        f"--center {m.center}: {CENTER_SHORT[m.center]}",
        f"class counts: {_counts_text(c.counts)} (imbalance ratio {_ratio(ratio)})",
        "",
        f"{'distance (Sec. 5)':<26}{'to SELI':>12}{'to ETF':>12}",
    ]
    for key, label in (("classifiers", "classifiers  W"), ("embeddings", "embeddings   M"),
                       ("logits", "logits       W^T M")):
        s, e = getattr(m.distance_to_seli, key), getattr(m.distance_to_etf, key)
        lines.append(f"{label:<26}{s:>12.4g}{e:>12.4g}")
    closer = _closer(m)
    if closer:
        lines.append(closer)
    lines += [
        "",
        "neural collapse (Papyan et al.)",
        f"  NC1  (1/k) tr(Sigma_W Sigma_B^+)            {_g(m.nc1):>10}"
        + ("" if m.nc1 is not None else "   (needs --features)"),
        f"  NC2  mean |cos - cos*| over class pairs   {'to SELI':>10}{'to ETF':>10}",
        f"         classifiers                        {m.nc2_classifiers.seli:>10.4g}"
        f"{m.nc2_classifiers.etf:>10.4g}",
        f"         class means                        {m.nc2_embeddings.seli:>10.4g}"
        f"{m.nc2_embeddings.etf:>10.4g}",
        f"  NC3  ||W/||W|| - M/||M|| ||_F              {m.nc3:>10.4g}   (SELI predicts "
        f"{m.nc3_seli:.4g}, ETF 0)",
        "  NC4  classifier = nearest class centre     "
        + (f"{100 * m.nc4:>9.2f}%   of examples (lowest class: {100 * m.nc4_per_class.min():.2f}%)"
           if m.nc4 is not None else f"{'-':>10}   (needs --features)"),
        "",
    ]
    wn, mn = m.classifier_norms, m.embedding_norms
    lines += [
        "per-class norms beside SELI's (Theorem 1), each at its least-squares scale s:",
        f"  classifiers ||w_c||:   s = {wn.scale:.4g}; misfit SELI {100 * wn.error_seli:.1f}%, "
        f"equal norms (ETF) {100 * wn.error_etf:.1f}%",
        f"  class means ||mu_c||:  s = {mn.scale:.4g}; misfit SELI {100 * mn.error_seli:.1f}%, "
        f"equal norms (ETF) {100 * mn.error_etf:.1f}%",
    ]
    if m.k <= 30:
        lines.append(f"  {'class':>5} {'n_c':>7} {'||w_c||':>10} {'SELI':>10} {'||mu_c||':>10} {'SELI':>10}")
        for j in range(m.k):
            lines.append(f"  {j:>5} {c.counts[j]:>7} {wn.measured[j]:>10.4g} {wn.seli[j]:>10.4g} "
                         f"{mn.measured[j]:>10.4g} {mn.seli[j]:>10.4g}")
    else:
        lines.append(f"  (the {m.k} per-class norms are in --json and --out DIR/measure.json)")
    return "\n".join(lines)


def _closer(m) -> str:
    """One line saying which geometry each of W and M is nearer, where they differ."""
    if m.counts.is_balanced or m.k < 3:
        return "(for balanced counts or k = 2, SELI is ETF: the two columns agree)"
    parts = []
    for key, label in (("classifiers", "classifiers"), ("embeddings", "class means")):
        s, e = getattr(m.distance_to_seli, key), getattr(m.distance_to_etf, key)
        parts.append(f"{label} nearer {'SELI' if s < e else 'ETF'}")
    return "(" + ", ".join(parts) + ")"


def _counts_text(counts) -> str:
    if len(counts) <= 12:
        return ", ".join(map(str, counts))
    return ", ".join(map(str, counts[:5])) + ", ..., " + ", ".join(map(str, counts[-3:]))


def _ratio(r) -> str:
    return str(r.numerator) if r.denominator == 1 else f"{float(r):.4g}"

