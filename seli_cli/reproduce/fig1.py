"""`seli reproduce fig1 --out DIR`: Fig 1 for any (k = 4, R, rho) STEP case or 4 counts."""

from __future__ import annotations

from ..args import out_folder
from ..common import add_counts_arguments, counts_from_args


def add_arguments(p, argv=()) -> None:
    add_counts_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder for fig1.png, fig1.pdf, fig1.json (created if missing; "
                        "files of those names are replaced, the three together and atomically)")


def check_args(args):
    """(counts, out) after every check: k = 4 classes, a writable --out folder."""
    from figures.fig1 import fig1_coordinates

    counts = counts_from_args(args)
    fig1_coordinates(counts)  # refuses k != 4 with one sentence; a k = 4 SVD costs nothing
    return counts, out_folder("--out", args.out, files=("fig1.png", "fig1.pdf", "fig1.json"))


def run(args) -> int:
    from figures.fig1 import make_fig1

    counts, out = check_args(args)
    for path in make_fig1(counts, out):
        print(path)
    return 0
