"""`seli reproduce fig1 --out DIR`: Fig 1 for any (k = 4, R, rho) STEP case or 4 counts."""

from __future__ import annotations

from .common import add_counts_arguments, counts_from_args


def add_arguments(p, argv=()) -> None:
    add_counts_arguments(p)
    p.add_argument("--out", required=True, help="output folder for fig1.png, fig1.pdf, fig1.json")


def run(args) -> int:
    from seli_exact.fig1 import make_fig1

    for path in make_fig1(counts_from_args(args), args.out):
        print(path)
    return 0
