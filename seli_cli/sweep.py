"""`seli sweep GRID.toml`: run a grid of confirmations on Ray, then gather table and figures.

Locally Ray starts on this machine's cores (no set-up); `--address` joins a running Ray
cluster instead. Every cell's flags are checked by the real command's parser and its own value
checks (`check_args`), and the sweep's own options and folder, before anything starts.

Test-only fault injection: SELI_SWEEP_INJECT_KILL="command:GLOB" (or "worker:GLOB", or several
such rules separated by commas) kills the first attempt of every cell whose folder name matches
GLOB right after its second checkpoint (the first holds the initial state): "command" kills the
cell's command, "worker" the engine worker running the cell; either way the engine retries it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from seli_exact.errors import SeliInputError
from seli_exact.validate import relative_path, whole

from .args import exclusive, out_folder
from .progress import Progress, add_progress_argument

INJECT_ENV = "SELI_SWEEP_INJECT_KILL"
MAX_CPUS = 4096


def add_arguments(p, argv=()) -> None:
    from training.sweep.gather import SUMMARY_HELP

    p.epilog = SUMMARY_HELP
    p.add_argument("grid", metavar="GRID.toml", help="the grid: command, [fixed], [grid], [resources]")
    p.add_argument("--out", metavar="DIR",
                   help="sweep folder (default: the grid's `out`, else runs/GRID-NAME)")
    p.add_argument("--address", help="join this Ray cluster (auto, HOST:PORT or "
                   "ray://HEAD:10001) instead of starting Ray on this machine")
    p.add_argument("--cpus", help=f"CPU cores the local engine may use, 1 to {MAX_CPUS} "
                   "(default: all)")
    p.add_argument("--dry-run", action="store_true", help="check and list the cells; run nothing")
    p.add_argument("--gather-only", action="store_true",
                   help="rebuild the table and figures from the cell folders; run nothing")
    add_progress_argument(p)


def _inject() -> list[dict] | None:
    raw = os.environ.get(INJECT_ENV)
    if not raw:
        return None
    rules = []
    for part in raw.split(","):
        mode, _, cells = part.strip().partition(":")
        if mode not in ("command", "worker") or not cells:
            raise SeliInputError(f"{INJECT_ENV} must be MODE:GLOB[,MODE:GLOB...] with MODE command "
                                 f"or worker; got {raw!r}. Unset it, or write e.g. command:R=10_*.")
        rules.append({"mode": mode, "cells": cells})
    return rules


class _sigterm_interrupts:
    """SIGTERM (a batch scheduler's stop) as Ctrl-C, so the engine shuts down and takes the cells
    with it; their folders keep every checkpoint, and the next sweep resumes them."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


def validate_cells(cells) -> None:
    """Parse every cell's argv with the real command's parser, then, for a command that offers
    `check_args(args)` (the trainers), check its values too; one sentence on the first error."""
    from .main import build_parser, check_function

    parsers = {}
    for c in cells:
        words = list(c.argv_command)
        if c.command not in parsers:
            try:
                parsers[c.command] = build_parser(words)
            except ImportError as err:
                raise SeliInputError(f"`seli {c.command}` is not available here ({err}); "
                                     "install the project in full or choose another command.") from None
        parser, module = parsers[c.command]
        argv = words + c.args() + (["--out", "CELL"] if c.trains else ["--json"])
        try:
            args = parser.parse_args(argv)
            check = check_function(args, module)
            if check is not None:
                check(args)
        except SeliInputError as err:  # argparse errors (UsageError) and value errors
            raise SeliInputError(f"grid cell {c.name}: {err}") from None


def check_args(args):
    """(grid, out, cpus, cells) after every check: the options, the grid file, the sweep
    folder and, unless only gathering, every cell with its command's own checks."""
    from training.sweep import load_grid

    exclusive(args, {"dry_run": "--dry-run", "gather_only": "--gather-only"},
              fix="--dry-run lists the cells to run and --gather-only rebuilds the table from "
                  "finished ones; give one of them.")
    cpus = None
    if args.cpus is not None:
        cpus = whole("--cpus", args.cpus, minimum=1, maximum=MAX_CPUS, fix="Give a core count.")
        if args.address:
            raise SeliInputError("`--cpus` sizes the local engine, but --address joins a "
                                 "cluster; drop --cpus (the cluster's nodes declare their own "
                                 "cores).")
    if args.address is not None:
        from training.sweep.engine import parse_address

        parse_address(args.address)
    if args.gather_only and args.address is not None:
        raise SeliInputError("`--address` joins a cluster to run cells, but --gather-only runs "
                             "nothing; drop --address.")
    relative_path("GRID.toml", args.grid)
    grid = load_grid(args.grid)
    given = args.out if args.out is not None else grid.out  # an empty --out is refused
    out = out_folder("--out", given if given is not None else Path("runs") / Path(args.grid).stem)
    cells = grid.cells()
    if not args.gather_only:
        validate_cells(cells)
    _inject()
    return grid, out, cpus, cells


def run(args) -> int:
    from training.sweep import gather, run_sweep, write_summary, write_table

    grid, out, cpus, cells = check_args(args)
    if args.dry_run:
        for c in cells:
            res = f"{c.cpus:g} CPU" + (f", {c.gpus:g} GPU" if c.gpus else "")
            print(f"{c.name}\t[{res}]\tseli {' '.join(c.argv_command + tuple(c.args()))}")
        print(f"{len(cells)} cells of `seli {grid.command}` into {out / 'cells'}")
        return 0
    if args.address and not args.gather_only:  # an unreachable cluster: one sentence, no folder
        from training.sweep.engine import probe_address

        probe_address(args.address)
    try:  # one sentence now rather than a traceback from the engine or the gatherer
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SeliInputError(f"`--out` {out} cannot be created as the sweep folder "
                             f"({err.strerror}); pass a writable folder path.") from None
    failed = 0
    if not args.gather_only:
        state = {"done": 0, "total": 0}

        with _sigterm_interrupts(), Progress.from_args(args, "seli sweep") as progress:
            def event(kind: str, name: str, detail: str) -> None:
                if kind == "submitted":  # every unfinished cell is submitted before any ends
                    state["total"] += 1
                    return
                progress.close()  # the line is redrawn below, after the event's own line
                print(f"[{kind}] {name}: {detail}", flush=True)
                if kind in ("finished", "failed"):
                    state["done"] += 1
                    progress(state["done"], state["total"])

            report = run_sweep(grid, out, address=args.address, cpus=cpus,
                               inject=_inject(), on_event=event)
        failed = report.count("failed")
        print(f"{len(cells)} cells: {report.count('finished')} finished, "
              f"{report.count('skipped')} skipped (finished earlier), {failed} failed")
    table = gather(grid, out)
    print(f"table: {write_table(table, out)}")
    figures = write_summary(table, grid, out)
    for f in figures:
        print(f"figure: {f}")
    if not figures:
        print("no summary figure: no finished cell has a numeric R and a SELI/ETF distance",
              file=sys.stderr)
    return 1 if failed else 0
