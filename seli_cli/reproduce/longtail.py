"""`seli reproduce longtail --out DIR`: the SELI geometry of long-tailed class counts (beyond the
paper, whose figures are STEP only): per-class classifier and embedding norms against class rank,
and the cosine matrices of SELI beside ETF, one row per count profile."""

from __future__ import annotations

from ..args import out_folder
from ..limits import check_cost, geometry_cost


def add_arguments(p, argv=()) -> None:
    from seli_exact.counts import PROFILE_HELP
    from figures.longtail import DEFAULT_PROFILES

    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder for longtail.png, longtail.pdf and longtail.json (the "
                   "numbers drawn), created if missing; files of those names are replaced, the "
                   "three together and atomically")
    p.add_argument("--profile", action="append", metavar="SPEC",
                   help=f"{PROFILE_HELP}; repeat for several rows; default "
                   f"{' and '.join(DEFAULT_PROFILES)} (CIFAR-10-LT-like and ImageNet-LT-like)")


def check_args(args):
    """(the profile spec of each row, out) after every check, before any work."""
    from figures.longtail import DEFAULT_PROFILES, profile_rows

    specs = args.profile or list(DEFAULT_PROFILES)
    rows = [counts for _, counts in profile_rows(specs)]
    for spec, counts in zip(specs, rows):
        # the figure computes the float64 geometry of each profile (and prints k^2 cosines)
        check_cost(geometry_cost(counts), f"the long-tail figure of {spec!r} ({counts.k:,} classes)",
                   "give a profile with fewer classes.")
    return specs, out_folder("--out", args.out,
                             files=("longtail.png", "longtail.pdf", "longtail.json"))


def run(args) -> int:
    from figures.longtail import make_longtail

    specs, out = check_args(args)
    for path in make_longtail(out, specs):
        print(path)
    return 0
