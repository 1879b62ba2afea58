"""The sweep driver on Ray: one Ray task per unfinished cell, retried from its checkpoint.

Ray does the scheduling: each task asks for the cell's CPUs and GPUs (`num_cpus`, `num_gpus`;
Ray gives a GPU task its own `CUDA_VISIBLE_DEVICES`), a task whose worker dies is retried by
Ray (`max_retries`), and so is one whose command crashed (`retry_exceptions=[CellCrashed]`); a
command that refused its flags is not retried. Without an address Ray starts a private local
instance on this machine's cores and stops it afterwards; with one it joins that cluster, whose
nodes must see the output folder (a shared file system) and have this project installed.

The driver keeps no state of its own: finished cells are found by their completion markers,
so a driver that dies loses nothing finished, and running the sweep again resumes the rest.

An address is tried before Ray is asked to join it: a plain TCP connection, then (for a
HOST:PORT cluster address) one GetClusterId call to its GCS through Ray's own gRPC stubs, each
held to PROBE_TIMEOUT_S; Ray's own attempt is held to JOIN_WAIT_S of retries with its log lines
kept off the terminal. So an address without a Ray cluster behind it is one sentence within
seconds. (A ray:// client address gets the TCP test only; Ray's client gives up after 30 s.)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from seli_io.atomic import atomic_write
from seli_exact.errors import SeliInputError

from .cell import ATTEMPTS_NAME, CellCrashed, cell_dir, finished, run_cell
from .grid import Grid

SWEEP_NAME = "sweep.json"
PROBE_TIMEOUT_S = 3.0
# Seconds Ray retries reaching the cluster's GCS when joining (its default is about 20; Ray
# reads RAY_gcs_server_port_wait_time_s as that budget, and a value the user set wins).
JOIN_WAIT_S = 5
ADDRESS_FIX = ("start Ray there (`ray start --head`), check the address, or drop --address to "
               "run on this machine.")


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


def parse_address(address: str) -> tuple[str, int] | None:
    """(host, port) of HOST:PORT or ray://HOST:PORT; None for "auto" (Ray finds a cluster
    started on this machine). Anything else is refused with one sentence.

    >>> parse_address("ray://head.example:10001"), parse_address("[::1]:6379"), parse_address("auto")
    (('head.example', 10001), ('::1', 6379), None)
    """
    text = str(address).strip()
    if text == "auto":
        return None
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if scheme not in ("", "ray") or not colon or not host or not port.isdigit() \
            or not 0 < int(port) < 65536 or "/" in host:
        raise SeliInputError(f"`--address` must be auto, HOST:PORT or ray://HOST:PORT; got "
                             f"{text[:80]!r}. Try --address auto on a node of the cluster.")
    return host, int(port)


def probe_address(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Refuse, within a few times `timeout` seconds, an address where nothing accepts
    connections or where no Ray GCS answers (see the module docstring)."""
    where = parse_address(address)
    if where is None:
        return
    host, port = where
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror:
        raise SeliInputError(f"`--address` {address} names a host that cannot be resolved; "
                             + ADDRESS_FIX) from None
    except (OSError, TimeoutError) as err:
        why = "timed out" if isinstance(err, TimeoutError) else (err.strerror or "refused")
        raise SeliInputError(f"`--address` {address} cannot be reached ({why.lower()}); "
                             + ADDRESS_FIX) from None
    _probe_gcs(address, timeout)


def _probe_gcs(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Ask the GCS at a HOST:PORT address for its cluster id, as Ray's join does first; refuse
    an address that does not answer as a GCS. A server that answers but wants credentials is
    left for Ray to join."""
    where = parse_address(address)
    if where is None or str(address).strip().startswith("ray://"):
        return
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    host, port = where
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with _quiet_native_stderr(), grpc.insecure_channel(target) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=timeout)
        except grpc.RpcError as err:
            code = err.code() if callable(getattr(err, "code", None)) else None
            if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                return
            why = code.name.lower().replace("_", " ") if code is not None else "no answer"
            raise SeliInputError(f"`--address` {address} does not answer as a Ray cluster "
                                 f"({why}); " + ADDRESS_FIX) from None


@contextmanager
def _join_budget():
    key = "RAY_gcs_server_port_wait_time_s"
    if key in os.environ:
        yield
        return
    os.environ[key] = str(JOIN_WAIT_S)
    try:
        yield
    finally:
        os.environ.pop(key, None)


@contextmanager
def _quiet_native_stderr():
    """Ray's C++ core writes each failed retry straight to file descriptor 2; send those lines
    to a scratch file while joining (the error that follows says what went wrong)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


@contextmanager
def engine(address: str | None = None, cpus: int | None = None):
    """A connected Ray: the caller's if Ray is already initialised, else a local one or `address`."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        probe_address(address)
        try:
            with _join_budget(), _quiet_native_stderr():
                ray.init(address=address, **quiet)
        except (ConnectionError, TimeoutError, RuntimeError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(".")
            raise SeliInputError(f"Ray could not join `--address` {address} ({first}); "
                                 + ADDRESS_FIX) from None
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
