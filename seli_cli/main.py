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

A command started in a folder that no longer exists is refused (exit status 2) before its
module is imported: relative paths there name nothing, and torch cannot load there.

Outputs. A file or standard output that cannot be written (a full disk, a closed standard
output: SeliOutputError) is one sentence on stderr and exit status 1; files are written
atomically (seli_io.atomic), so what was on disk before stays whole. A reader that closes the
pipe early (`seli geometry --json | head -c1`) ends the command quietly with status 0, as Unix
tools do. Standard output is written through `_Stdout`, which tells these apart from every other
error.

Warnings. Warnings that libraries raise while a command runs (numpy, torch, matplotlib) are held
back: after a command that succeeded each is printed once, as one line `warning: ...` after the
output; after an error they are dropped, so the user reads the one sentence that says what went
wrong. Warnings that say something true about the results are the commands' own lines (for
example `seli path`'s uncertified points), not library warnings. Filters set by the caller still
apply (under pytest's `filterwarnings = error` a warning still raises).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import warnings

from seli_exact.errors import SeliInputError, SeliOutputError, output_error

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
    """Run `seli ARGV`; the exit status: 0, 1 (the command's own failure, or an output that
    could not be written) or 2 (bad input).

    check_only=True stops after the command's `check_args` (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    held: list[tuple[type, str]] = []

    def hold(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip().splitlines()
        item = (category, text[0] if text else category.__name__)
        if item not in held:
            held.append(item)

    with warnings.catch_warnings():  # filters and the display are restored afterwards
        warnings.showwarning = hold
        code, line = _run(argv, check_only)
    if line is not None:
        _say(line)
    else:
        for category, text in held:
            _say(f"warning: {text} ({category.__name__})")
    return code


def _run(argv: list[str], check_only: bool) -> tuple[int, str | None]:
    """(exit status, the one line for stderr or None)."""
    stdout = sys.stdout
    try:
        _occupy_closed_descriptors()
        if stdout is None:  # started with standard output closed (`seli ... >&-`)
            raise output_error("standard output", OSError(errno.EBADF, "it is closed"))
        sys.stdout = _Stdout(stdout)
        try:
            try:
                code = _command(argv, check_only)
            except SystemExit as done:  # --help and --version print, then argparse exits
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        finally:
            if isinstance(sys.stdout, _Stdout):
                sys.stdout = stdout
        return code, None
    except SeliInputError as err:
        return 2, f"error: {err}"
    except SeliOutputError as err:
        _quiet(stdout)
        return 1, f"error: {err}"
    except _ReaderGone:
        _quiet(stdout)
        return 0, None
    except MemoryError:
        return 1, ("error: out of memory; the input asks for more than this machine holds. Try "
                   "a smaller case.")
    except KeyboardInterrupt:
        return 130, "interrupted"


def _command(argv: list[str], check_only: bool) -> int:
    if argv and argv[0] in COMMANDS:
        _current_folder_exists()
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


class _ReaderGone(Exception):
    """The reader of standard output closed the pipe (EPIPE)."""


class _Stdout:
    """sys.stdout while a command runs: a write that fails becomes SeliOutputError naming
    standard output, a closed pipe becomes _ReaderGone; everything else is the stream's."""

    def __init__(self, stream):
        self._stream = stream

    def _guard(self, call, *a):
        try:
            return call(*a)
        except BrokenPipeError:
            raise _ReaderGone from None
        except OSError as err:
            raise output_error("standard output", err) from None

    def write(self, text):
        return self._guard(self._stream.write, text)

    def writelines(self, lines):
        return self._guard(self._stream.writelines, lines)

    def flush(self):
        return self._guard(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _quiet(stream) -> None:
    """After standard output failed: point its descriptor at /dev/null, so that the output
    still buffered is discarded at exit instead of failing again ("Exception ignored ...
    BrokenPipeError", exit status 120), as Python's documentation advises for EPIPE. Only the
    process's own standard output is touched, never a stream a caller put in its place."""
    if stream is None or stream is not sys.__stdout__:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _current_folder_exists() -> None:
    """Refuse to start in a folder that was removed (`cd d; rm -r ../d; seli ...`): relative
    paths there name nothing, and some libraries cannot even load (torch's MKL ends the process
    with "oneMKL FATAL ERROR: Cannot load libtorch_cpu.so")."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise SeliInputError("the current folder no longer exists (it was removed while the "
                             "shell stood in it); cd to an existing folder and run the command "
                             "again.") from None


def _occupy_closed_descriptors() -> None:
    """Open /dev/null on each of the descriptors 0, 1, 2 that the command was started without:
    the next file opened would otherwise take that number, and a library writing to standard
    output or error at the C level would write into it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _say(line: str) -> None:
    """One line on stderr; nothing when stderr itself is closed or full (no one could read it)."""
    try:
        if sys.stderr is not None:
            print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
