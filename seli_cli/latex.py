"""`seli latex --out DIR`: the derived closed forms as formulas.tex, formulas.md, formulas.json.

Two families (derivations/export.py): the (R, rho)-STEP closed forms of Sec. B, and Theorem 1 for
any class counts (L, the resolvent, the integral formulas of G_M and G_W, p*, the slack bounds).
"""

from __future__ import annotations

from seli_io.atomic import atomic_write_all

from .args import out_folder

OUTPUTS = ("formulas.tex", "formulas.md", "formulas.json")


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder to write formulas.tex, formulas.md and formulas.json into "
                        "(created if missing; files of those names are replaced, the three "
                        "together and atomically)")


def check_args(args):
    """The --out folder, checked (writable, not a file, not a system folder, a disk with room,
    no folder where an output file goes) before any work."""
    return out_folder("--out", args.out, files=OUTPUTS)


def run(args) -> int:
    out = check_args(args)
    from derivations.export import formula_records, to_json, to_latex, to_markdown

    records = formula_records()
    texts = (to_latex(records), to_markdown(records), to_json(records))
    atomic_write_all({out / name: text for name, text in zip(OUTPUTS, texts)})
    print(f"wrote {len(records)} formulas to {out}/formulas.tex, formulas.md, formulas.json")
    return 0
