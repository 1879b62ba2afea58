"""Gather a sweep from its cell folders: one CSV table, one summary figure per metric.

Everything is rebuilt from OUT/cells/*, never from the driver's memory, so the table of a sweep
whose driver died is as complete as the folders are. A row is one run at its end: for a train
cell, each metrics row at the last logged epoch (a batched UFM cell may log several runs, told
apart by their own columns such as R and seed); for a path cell, the point with the smallest
lambda (the end of the regularization path).

A metric is a pair of columns that differ only by `seli` <-> `etf` (for example
`dist_seli_classifiers` and `dist_etf_classifiers`); its figure shows both distances at the end
of training against R: SELI solid, ETF dashed, one colour per setting of the other varied flags,
each point the mean over the runs that share R (the seeds) and its error bar their range, from
the smallest to the largest (with a handful of seeds a range says more than a standard
deviation would); the figure's title says so.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from seli_io.atomic import atomic_savefig, atomic_write
from seli_io.tables import csv_text

from .cell import PATH_NAME, cell_dir, finished
from .grid import Grid

TABLE_NAME = "results.csv"
# What the summary figures show, as `seli sweep --help` says it (summary_series computes it).
SUMMARY_HELP = (
    "Outputs: OUT/results.csv (one row per run at its end) and OUT/summary_METRIC.png/.pdf, one "
    "figure per distance: the distance to SELI (solid) and to ETF (dashed) at the end of "
    "training against R. Each point is the mean over the runs that share R and the other varied "
    "flags (the seeds, as a rule); its error bar spans the smallest to the largest of those runs "
    "(their range, not a standard deviation; no bar when there is one run).")
SEED_KEYS = ("seed", "seeds")
# columns a metrics row may carry that tell runs of one cell apart (besides R and seed)
RUN_KEYS = ("lr", "lam", "arch", "dataset", "d")
_SELI = re.compile(r"(?i)(?<![a-z])seli(?![a-z])")


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict]

    def to_csv(self) -> str:
        return csv_text([{k: r.get(k) for k in self.columns} for r in self.rows], self.columns)

    def metrics(self) -> list[tuple[str, str, str]]:
        """(metric name, SELI column, ETF column) for every seli/etf pair of columns."""
        out = []
        for col in self.columns:
            if _SELI.search(col):
                etf = _SELI.sub(lambda m: "ETF" if m.group().isupper() else "etf", col)
                if etf in self.columns:
                    name = re.sub(r"__+", "_", _SELI.sub("", col)).strip("_.- ")
                    name = re.sub(r"^dist_?", "", name) or col
                    out.append((name, col, etf))
        return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}_"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _final_rows(folder: Path, trains: bool) -> list[dict]:
    if not trains:
        doc = json.loads((folder / PATH_NAME).read_text())
        points = doc.get("points", [])
        if not points:
            return []
        last = min(points, key=lambda p: float(p["lambda"]))
        extra = {k: v for k, v in doc.items() if k != "points" and not isinstance(v, dict)}
        return [extra | _flatten(last)]
    from training.runio import MetricsLog

    rows = MetricsLog(folder).rows()
    if not rows:
        return []
    if "epoch" not in rows[-1]:
        return [rows[-1]]
    end = max(r["epoch"] for r in rows)
    return [r for r in rows if r["epoch"] == end]


def gather(grid: Grid, out) -> Table:
    """The table of `grid`'s cells as their folders under `out` hold them now."""
    out = Path(out)
    rows: list[dict] = []
    columns = ["cell", "status"] + [k for k, _ in grid.varied]
    for c in grid.cells():
        folder = cell_dir(out, c.name)
        base = {"cell": c.name} | dict(c.varied)
        if finished(folder, c.key) is None:
            status = "unfinished" if (folder / "attempts.json").exists() else "pending"
            rows.append(base | {"status": status})
            continue
        finals = _final_rows(folder, c.trains)
        for r in finals or [{}]:
            # a metrics column named like a varied flag but holding something else (a deep
            # net's current lr against the grid's initial lr) keeps the flag's name free
            r = {(f"end_{k}" if k in base and str(r[k]) != str(base[k]) else k): v
                 for k, v in r.items()}
            for k in r:
                if k not in columns:
                    columns.append(k)
            rows.append(base | {"status": "finished"} | r)
    return Table(columns, rows)


def write_table(table: Table, out) -> Path:
    return atomic_write(Path(out) / TABLE_NAME, table.to_csv())


def _number(v) -> float | None:
    if v is None or v == "" or isinstance(v, bool):
        return None
    try:
        return float(Fraction(str(v)))
    except (ValueError, ZeroDivisionError):
        return None


@dataclass(frozen=True)
class Series:
    """One line of a summary figure: a distance at the end of training against R."""

    metric: str
    target: str            # "seli" | "etf"
    group: str             # the other varied flags, "" when none
    R: list[float]
    mean: list[float]      # over seeds (and over runs sharing R and group)
    low: list[float]       # the smallest of them
    high: list[float]      # the largest of them
    runs: tuple[int, ...] = ()  # how many runs each point averages


def _runs_per_point(s: Series) -> list[list[int]]:
    return [[0] * n for n in s.runs] or [[0, 0]]


def summary_series(table: Table, grid: Grid) -> list[Series]:
    """The data of the summary figures: per metric, target and group, the mean over seeds vs R."""
    rows = [r for r in table.rows if r.get("status") == "finished" and _number(r.get("R")) is not None]
    group_keys = [k for k, _ in grid.varied if k not in ("R",) + SEED_KEYS]
    group_keys += [k for k in RUN_KEYS if k not in group_keys
                   and len({repr(r.get(k)) for r in rows if k in r}) > 1]
    series: list[Series] = []
    for name, seli_col, etf_col in table.metrics():
        for target, col in (("seli", seli_col), ("etf", etf_col)):
            groups: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
            for r in rows:
                v = _number(r.get(col))
                if v is None or not math.isfinite(v):
                    continue
                label = ", ".join(f"{k}={r.get(k)}" for k in group_keys)
                groups[label][_number(r["R"])].append(v)
            for label in sorted(groups):
                by_R = groups[label]
                Rs = sorted(by_R)
                series.append(Series(name, target, label, Rs,
                                     [sum(by_R[R]) / len(by_R[R]) for R in Rs],
                                     [min(by_R[R]) for R in Rs], [max(by_R[R]) for R in Rs],
                                     tuple(len(by_R[R]) for R in Rs)))
    return series


def write_summary(table: Table, grid: Grid, out) -> list[Path]:
    """One figure per metric (PNG and PDF): distances to SELI and ETF at the end against R.

    Returns the files written; none when no finished row has a numeric R and a metric pair.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = summary_series(table, grid)
    written: list[Path] = []
    for name in dict.fromkeys(s.metric for s in series):
        mine = [s for s in series if s.metric == name]
        groups = list(dict.fromkeys(s.group for s in mine))
        fig, ax = plt.subplots(figsize=(5.2, 3.8), constrained_layout=True)
        for s in mine:
            colour = f"C{groups.index(s.group) % 10}"
            style, marker = ("-", "o") if s.target == "seli" else ("--", "s")
            err = [[m - lo for m, lo in zip(s.mean, s.low)], [hi - m for m, hi in zip(s.mean, s.high)]]
            label = s.target.upper() + (f" ({s.group})" if s.group else "")
            ax.errorbar(s.R, s.mean, yerr=err, color=colour, linestyle=style, marker=marker,
                        markersize=4, capsize=2, label=label)
        xs = sorted({R for s in mine for R in s.R})
        if xs[0] > 0 and xs[-1] / xs[0] >= 10:
            ax.set_xscale("log")
        if min(lo for s in mine for lo in s.low) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("imbalance ratio R")
        ax.set_ylabel(f"distance of {name} at the end")
        counts = sorted({len(v) for s in mine for v in _runs_per_point(s)})
        how = ("one run per point" if counts == [1] else
               "points: mean over the runs sharing R (seeds); bars: their min to max")
        ax.set_title(f"{name}: distance to SELI (solid) and to ETF (dashed)\n{how}", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        written += atomic_savefig(fig, Path(out) / f"summary_{safe}")
        plt.close(fig)
    return written


__all__ = ["SUMMARY_HELP", "Series", "TABLE_NAME", "Table", "gather", "summary_series",
           "write_summary", "write_table"]
