"""`seli reproduce fig3 --out DIR`: Fig 3, global minimizers of (1) along the regularization path.

See seli_exact.regpath.fig3 for what is computed; this writes fig3.png, fig3.pdf and fig3.csv.
"""

from __future__ import annotations

from seli_exact.regpath import parse_lambdas
from seli_exact.regpath.fig3 import make_fig3
from seli_exact.validate import whole

DEFAULT_RS = "2,5,10,50,100"
DEFAULT_LAMBDAS = "logspace:-8:0:17"


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, help="output folder for fig3.png, fig3.pdf, fig3.csv")
    p.add_argument("--R", dest="Rs", default=DEFAULT_RS,
                   help=f"imbalance ratios, comma-separated (default {DEFAULT_RS})")
    p.add_argument("--lambdas", default=DEFAULT_LAMBDAS,
                   help='a list "1e-1,1e-2" or "logspace:A:B:N" (default %(default)s)')


def run(args) -> int:
    Rs = [whole("R", r.strip(), minimum=1, fix="Give whole imbalance ratios, e.g. 1,10,100.")
          for r in str(args.Rs).split(",") if r.strip()]
    for path in make_fig3(args.out, Rs, parse_lambdas(args.lambdas)):
        print(path)
    return 0
