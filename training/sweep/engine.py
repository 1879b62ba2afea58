"""The sweep driver on Ray: one Ray task per unfinished cell, retried from its checkpoint.

Ray does the scheduling: each task asks for the cell's CPUs and GPUs (`num_cpus`, `num_gpus`;
Ray gives a GPU task its own `CUDA_VISIBLE_DEVICES`), a task whose worker dies is retried by
Ray (`max_retries`), and so is one whose command crashed (`retry_exceptions=[CellCrashed]`); a
command that refused its flags is not retried. Without an address Ray starts a private local
instance on this machine's cores and stops it afterwards; with one it joins that cluster, whose
nodes must see the output folder (a shared file system) and have this project installed.

The driver keeps no state of its own: finished cells are found by their completion markers,
so a driver that dies loses nothing finished, and running the sweep again resumes the rest.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from seli_exact.atomic import atomic_write
from seli_exact.errors import SeliInputError

from .cell import ATTEMPTS_NAME, CellCrashed, cell_dir, finished, run_cell
from .grid import Grid

SWEEP_NAME = "sweep.json"


@dataclass(frozen=True)
class CellOutcome:
    name: str
    status: str            # "finished" | "skipped" | "failed"
    attempts: int = 0
    resumed: bool = False
    error: str | None = None

    def __post_init__(self):
        if self.status not in ("finished", "skipped", "failed"):
            raise ValueError(f"unknown cell status {self.status!r}")


@dataclass
class SweepReport:
    out: Path
    outcomes: list[CellOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


@contextmanager
def engine(address: str | None = None, cpus: int | None = None):
    """A connected Ray: the caller's if Ray is already initialised, else a local one or `address`."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False, **quiet)
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_feasible(ray, cells, local: bool) -> None:
    have = ray.cluster_resources()
    for c in cells:
        for res, need in (("CPU", c.cpus), ("GPU", c.gpus)):
            if need > 0 and need > have.get(res, 0) and local:
                raise SeliInputError(
                    f"cell {c.name} asks for {need:g} {res} but this machine's engine has "
                    f"{have.get(res, 0):g}; lower [resources] {res.lower()}s in the grid or "
                    "run on a cluster with --address."
                )


def _read_attempts(folder: Path) -> list:
    try:
        return json.loads((folder / ATTEMPTS_NAME).read_text())
    except (OSError, ValueError):
        return []


def run_sweep(grid: Grid, out, *, address: str | None = None, cpus: int | None = None,
              inject: dict | list[dict] | None = None,
              on_event: Callable[[str, str, str], None] | None = None) -> SweepReport:
    """Run every unfinished cell of `grid` as a Ray task writing into OUT/cells/NAME.

    `on_event(kind, cell_name, detail)` hears "skipped", "submitted", "finished" and "failed";
    `inject` is the test-only fault injection of `cell.run_cell`.
    """
    out = Path(out).resolve()
    cells = grid.cells()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / SWEEP_NAME, json.dumps({
        "grid": grid.source, "command": grid.command, "retries": grid.retries,
        "cells": [c.to_dict() for c in cells]}, indent=2) + "\n")
    report = SweepReport(out)
    say = on_event or (lambda *a: None)
    todo = []
    for c in cells:
        done = finished(cell_dir(out, c.name), c.key)
        if done is not None:
            report.outcomes.append(CellOutcome(c.name, "skipped", done.get("attempts", 0),
                                               done.get("resumed", False)))
            say("skipped", c.name, "finished earlier")
        else:
            todo.append(c)
    if not todo:
        return report
    with engine(address, cpus) as ray:
        _check_feasible(ray, todo, local=not address)
        task = ray.remote(run_cell)
        pending = {}
        for c in todo:
            ref = task.options(num_cpus=c.cpus, num_gpus=c.gpus, max_retries=grid.retries,
                               retry_exceptions=[CellCrashed], name=f"seli-sweep:{c.name}"
                               ).remote(c.to_dict(), str(out), inject)
            pending[ref] = c
            say("submitted", c.name, f"{c.cpus:g} CPU" + (f", {c.gpus:g} GPU" if c.gpus else ""))
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                c = pending.pop(ref)
                try:
                    done = ray.get(ref)
                except ray.exceptions.RayError as err:
                    cause = getattr(err, "cause", None)
                    msg = str(cause) if cause is not None else str(err).splitlines()[0]
                    tries = _read_attempts(cell_dir(out, c.name))
                    report.outcomes.append(CellOutcome(c.name, "failed", len(tries), error=msg))
                    say("failed", c.name, msg)
                    continue
                report.outcomes.append(CellOutcome(c.name, "finished", done["attempts"],
                                                   done["resumed"]))
                say("finished", c.name, f"attempts {done['attempts']}"
                    + (", resumed from checkpoint" if done["resumed"] else ""))
    order = {c.name: i for i, c in enumerate(cells)}
    report.outcomes.sort(key=lambda o: order[o.name])
    return report
