"""`seli latex --out DIR`: the derived closed forms as formulas.tex, formulas.md, formulas.json.

Two families (derivations/export.py): the (R, rho)-STEP closed forms of Sec. B, and Theorem 1 for
any class counts (L, the resolvent, the integral formulas of G_M and G_W, p*, the slack bounds).
"""

from __future__ import annotations

from seli_exact.atomic import atomic_write

from .args import out_folder


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, help="folder to write formulas.tex, formulas.md and formulas.json")


def check_args(args):
    """The --out folder, checked (writable, not a file, not a system folder) before any work."""
    return out_folder("--out", args.out)


def run(args) -> int:
    out = check_args(args)
    from derivations.export import formula_records, to_json, to_latex, to_markdown

    records = formula_records()
    for name, text in (("formulas.tex", to_latex(records)), ("formulas.md", to_markdown(records)),
                       ("formulas.json", to_json(records))):
        atomic_write(out / name, text)
    print(f"wrote {len(records)} formulas to {out}/formulas.tex, formulas.md, formulas.json")
    return 0
