"""`seli`: the one place that parses arguments and prints.

Commands live in their own modules, each with `add_arguments(parser, rest_of_argv)` and
`run(args) -> int`; a command's module is imported only when that command runs, so `seli
geometry` never imports torch. Bad input (SeliInputError, or an argument argparse rejects)
becomes one sentence on stderr and exit status 2.

A command may also offer `check_args(args)`: every check of its input (numbers and their
ranges, resource estimates, output paths, conflicting flags) and none of its work, the part of
`run` that comes first. It is the hook behind `main(argv, check_only=True)`, which parses and
checks and then returns 0 without doing the work: `seli sweep` checks its cells this way before
any starts, and the test suite fuzzes every command through it (tests/test_cli_fuzz.py). A
command without `check_args` is checked only as far as its parser goes in that mode.
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
    "reproduce": ("seli_cli.reproduce",
                  "reproduce a figure of the paper (fig1, fig2, fig3, fig4) or the long-tail one"),
    "sweep": ("seli_cli.sweep", "run a grid of confirmations on a distributed engine"),
    "measure": ("seli_cli.measure", "measure your network's classifier and features against SELI and ETF"),
}


class UsageError(SeliInputError):
    """An argument argparse could not take."""


class Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors instead of usage dumps."""

    def error(self, message):  # noqa: D102 - argparse hook
        raise UsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")


class _Version(argparse.Action):
    """--version: the installed distribution's version (looked up only when asked for)."""

    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the installed version of seli and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"seli {version()}")
        parser.exit()


def version() -> str:
    """The version of the installed `seli` distribution (its metadata, as pip installed it)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("seli")
    except PackageNotFoundError:
        return "(not installed: no distribution metadata; install with pip install -e .)"


def build_parser(argv: list[str]) -> tuple[Parser, object | None]:
    top = Parser(prog="seli", allow_abbrev=False, description="Verification suite for 'Imbalance Trouble' (NeurIPS 2022).")
    top.add_argument("--version", action=_Version)
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    module = None
    for name, (mod_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if argv and argv[0] == name:
            module = importlib.import_module(mod_name)
            module.add_arguments(p, argv[1:])
    return top, module


def check_function(args, module):
    """The `check_args` of the command that `args` selects (for `seli reproduce X` and `seli
    train X`, the target's, which seli_cli.dispatch records), or None."""
    return getattr(args, "_check", None) or getattr(module, "check_args", None)


def main(argv: list[str] | None = None, *, check_only: bool = False) -> int:
    """Run `seli ARGV`; the exit status: 0, 1 (the command's own failure) or 2 (bad input).

    check_only=True stops after the command's `check_args` (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser, module = build_parser(argv)
        args = parser.parse_args(argv)
        if module is None:
            parser.print_help()
            return 0 if not argv or argv[0] in ("-h", "--help") else 2
        if check_only:
            check = check_function(args, module)
            if check is not None:
                check(args)
            return 0
        return int(module.run(args) or 0)
    except SeliInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version print, then argparse exits
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    except BrokenPipeError:  # e.g. `seli geometry --json | head`
        sys.stderr.close()
        return 0
    except MemoryError:
        print("error: out of memory; the input asks for more than this machine holds. Try a "
              "smaller case.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
