"""`seli latex --out DIR`: the derived closed forms as formulas.tex, formulas.md, formulas.json."""

from __future__ import annotations

from pathlib import Path

from seli_exact.atomic import atomic_write
from seli_exact.errors import SeliInputError


def add_arguments(p, argv=()) -> None:
    p.add_argument("--out", required=True, help="folder to write formulas.tex, formulas.md and formulas.json")


def run(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SeliInputError(f"`--out` must be a folder; got {str(out)!r}, which is a file. "
                             "Give a folder path, e.g. --out formulas.")
    from derivations.export import formula_records, to_json, to_latex, to_markdown

    records = formula_records()
    for name, text in (("formulas.tex", to_latex(records)), ("formulas.md", to_markdown(records)),
                       ("formulas.json", to_json(records))):
        atomic_write(out / name, text)
    print(f"wrote {len(records)} formulas to {out}/formulas.tex, formulas.md, formulas.json")
    return 0
