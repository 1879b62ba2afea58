"""Sweeps: grids of `seli train ufm`, `seli train deepnet` or `seli path` runs on Ray.

A grid (TOML) names a command, flags fixed for every cell and lists of values whose cartesian
product gives the cells. Each cell is one Ray task running the real command in a subprocess
into its own folder OUT/cells/NAME (NAME is readable from the varied flags plus a hash of every
flag, so it is the same on every run of the sweep). A crashed or killed cell is retried with
`--resume` from its last checkpoint; a completion marker written last makes a rerun skip it;
the table and figures are rebuilt from the folders.

Public names::

    load_grid(path) / parse_grid(text) -> Grid      Grid.cells() -> [Cell]
    run_sweep(grid, out, address=None, cpus=None) -> SweepReport
    gather(grid, out) -> Table     write_table(table, out)     write_summary(table, grid, out)

Importing this package imports neither torch nor ray; Ray is imported when a sweep starts.
"""

from .engine import CellOutcome, SweepReport, run_sweep
from .gather import TABLE_NAME, Series, Table, gather, summary_series, write_summary, write_table
from .grid import COMMANDS, Cell, Grid, load_grid, parse_grid

__all__ = [
    "COMMANDS", "Cell", "CellOutcome", "Grid", "Series", "SweepReport", "TABLE_NAME", "Table",
    "gather", "load_grid", "parse_grid", "run_sweep", "summary_series", "write_summary",
    "write_table",
]
