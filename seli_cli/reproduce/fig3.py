"""`seli reproduce fig3 --out DIR`: Fig 3, global minimizers of (1) along the regularization path.

See seli_exact.regpath.rows for what is computed and figures.fig3 for the drawing; this writes
fig3.png, fig3.pdf and fig3.csv.
"""

from __future__ import annotations

import sys

from seli_exact.errors import SeliInputError
from seli_exact.regpath import GAP_TARGET
from figures.fig3 import OUTPUTS, write_fig3
from seli_exact.regpath.rows import fig3_rows
from seli_exact.validate import whole

from ..args import lambdas as parse_lambdas
from ..args import out_folder, text_list
from ..progress import Progress, add_progress_argument

DEFAULT_RS = "2,5,10,50,100"
DEFAULT_LAMBDAS = "logspace:-8:0:17"
# n = 2 (R + 1) n_min with n_min >= 1: beyond R = 199 n exceeds 400, and the figure's premise
# (n near 400, Sec. 5) is gone; R up to 10^4 is still drawn, with the n it has.
MAX_R = 10_000
MAX_CURVES = 12  # one colour per R; more is unreadable


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder for fig3.png, fig3.pdf, fig3.csv (created if missing; "
                        "files of those names are replaced, the three together and atomically)")
    p.add_argument("--R", dest="Rs", default=DEFAULT_RS,
                   help=f"imbalance ratios, whole numbers in [1, {MAX_R}], comma-separated, at "
                        f"most {MAX_CURVES} (default {DEFAULT_RS}); n_min is chosen so that n "
                        "is near 400 (n_min >= 1, so n = 2(R+1) for R > 199)")
    p.add_argument("--lambdas", default=DEFAULT_LAMBDAS,
                   help='a list "1e-1,1e-2" or "logspace:A:B:N" (default %(default)s)')
    add_progress_argument(p)


def parse_Rs(text) -> list[int]:
    parts = text_list("--R", text, example="2,10,100")
    if len(parts) > MAX_CURVES:
        raise SeliInputError(
            f"`--R` may list at most {MAX_CURVES} ratios (one curve each); got {len(parts)}. "
            "Pick fewer, e.g. 2,5,10,50,100."
        )
    Rs = [whole("R", r, minimum=1, maximum=MAX_R,
                fix="Give whole imbalance ratios, e.g. 1,10,100.") for r in parts]
    if len(set(Rs)) != len(Rs):
        raise SeliInputError(
            f"`--R` lists a ratio twice; got {text!r}. Give each imbalance ratio once."
        )
    return Rs


def check_args(args):
    """(out, Rs, lambdas) after every check of the input, before anything is computed or
    written: the ratios, the lambda grid, and the output folder (creatable and writable, and
    none of fig3.csv/png/pdf in it a folder)."""
    Rs = parse_Rs(args.Rs)
    lambdas = parse_lambdas("--lambdas", args.lambdas)
    return out_folder("--out", args.out, files=OUTPUTS), Rs, lambdas


def run(args) -> int:
    out, Rs, lambdas = check_args(args)
    with Progress.from_args(args, "seli reproduce fig3") as progress:
        rows = fig3_rows(Rs, lambdas, progress=progress)
    for path in write_fig3(out, rows, Rs):
        print(path)
    bad = [r for r in rows if not r["certified"]]
    if bad:
        where = ", ".join(f"R={r['R']} lambda={r['lambda']:.3g}" for r in bad)
        print(f"warning: {len(bad)} points not certified (relative duality gap above "
              f"{GAP_TARGET:.1e}), circled in red in the figure: {where}.", file=sys.stderr)
    return 0
