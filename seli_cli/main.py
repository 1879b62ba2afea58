"""`seli`: the one place that parses arguments and prints.

Commands live in their own modules, each with `add_arguments(parser, rest_of_argv)` and
`run(args) -> int`;
a command's module is imported only when that command runs, so `seli geometry` never imports
torch. Bad input (SeliInputError, or an argument argparse rejects) becomes one sentence on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from seli_exact.errors import SeliInputError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("seli_cli.check", "run the theorem checker: every claim of the paper, with verdicts"),
    "geometry": ("seli_cli.geometry", "the SELI geometry of a class-count model (Theorem 1)"),
    "latex": ("seli_cli.latex", "export the derived closed forms as .tex, .md and .json"),
    "path": ("seli_cli.path", "the regularization path of (7): distances, margins, duality gaps"),
    "train": ("seli_cli.train", "train the UFM (Fig 4) or a deep net (Fig 2)"),
    "reproduce": ("seli_cli.reproduce", "reproduce a figure of the paper: fig1, fig2, fig3, fig4"),
    "sweep": ("seli_cli.sweep", "run a grid of confirmations on a distributed engine"),
}


class UsageError(SeliInputError):
    """An argument argparse could not take."""


class Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors instead of usage dumps."""

    def error(self, message):  # noqa: D102 - argparse hook
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")


def build_parser(argv: list[str]) -> tuple[Parser, object | None]:
    top = Parser(prog="seli", allow_abbrev=False, description="Verification suite for 'Imbalance Trouble' (NeurIPS 2022).")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    module = None
    for name, (mod_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if argv and argv[0] == name:
            module = importlib.import_module(mod_name)
            module.add_arguments(p, argv[1:])
    return top, module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser, module = build_parser(argv)
        args = parser.parse_args(argv)
        if module is None:
            parser.print_help()
            return 0 if not argv or argv[0] in ("-h", "--help") else 2
        return int(module.run(args) or 0)
    except SeliInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `seli geometry --json | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
