"""Commands with sub-targets (`seli reproduce fig1`, `seli train ufm`): one module per target.

The chosen target's `run` and (when it has one) `check_args` are recorded in the parsed
arguments as `_run` and `_check`, where seli_cli.main finds them.
"""

from __future__ import annotations

import importlib


def add_targets(p, argv, targets: dict[str, tuple[str, str]], dest: str) -> None:
    """Add a sub-parser per target; only the chosen target's module is imported."""
    sub = p.add_subparsers(dest=dest, metavar=dest.upper(), parser_class=type(p), required=True)
    for name, (mod_name, help_text) in targets.items():
        q = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if argv and argv[0] == name:
            module = importlib.import_module(mod_name)
            module.add_arguments(q, argv[1:])
            q.set_defaults(_run=module.run, _check=getattr(module, "check_args", None))


def run_target(args) -> int:
    return int(args._run(args) or 0)
