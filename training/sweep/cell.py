"""One sweep cell, as the engine runs it: `seli COMMAND ... --out CELLDIR [--resume]` in a subprocess.

The cell's folder is its whole state, so a retry on another worker (or a later sweep after the
driver died) knows what to do from the folder alone::

    CELLDIR/cell.json       the cell: command, flags, resources, name, key
    CELLDIR/attempts.json   one record per attempt: host, --resume or not, checkpoint seen, status
    CELLDIR/log.txt         the command's output, every attempt appended
    CELLDIR/DONE.json       the completion marker, written atomically after the command succeeded
    CELLDIR/path.json       (path cells) the JSON that `seli path --json` printed
    CELLDIR/config.json, checkpoint.pt, metrics.csv, metrics.jsonl   (train cells) the run itself

A train cell is started with `--resume` whenever its folder already holds a checkpoint or metrics
from an earlier attempt: `seli train` then continues from the last checkpoint (the trainers write
their first checkpoint before their first row), so a retried cell loses at most the epochs since
that checkpoint. The killed attempt's lock (CELLDIR/run.lock, training.runlock) names a process
that is gone, so the retry on the same host takes it over; a retry on another host is refused
(exit status 2, not retried) with the file to delete once the first host is known to be down.

Fault injection (for tests only): `inject={"mode": "command" | "worker", "cells": GLOB,
"after": 2}` (or a list of such rules, the first match applies) kills the first attempt of every
cell whose name matches GLOB as soon as it has written `after` checkpoints (the first is usually
the initial state; path cells: at once).
"command" kills the command's process group, so the attempt fails and the engine retries it;
"worker" ends the engine's worker process itself, as a crashed machine would.
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from seli_io.atomic import atomic_write

DONE_NAME = "DONE.json"
CELL_NAME = "cell.json"
ATTEMPTS_NAME = "attempts.json"
RUNNING_NAME = "running.json"
LOG_NAME = "log.txt"
PATH_NAME = "path.json"
GUARD = Path(__file__).with_name("_guard.py")
EXIT_INPUT = 2  # `seli` exits 2 on bad input: retrying cannot help


class CellCrashed(RuntimeError):
    """The command died (killed, crashed, out of memory): the engine retries the cell."""


class CellRejected(RuntimeError):
    """The command refused its input (exit status 2): retrying cannot help."""


def _names():
    # imported here so that importing the sweep package stays light
    from training.runio import CHECKPOINT_NAME, METRICS_NAME

    return CHECKPOINT_NAME, METRICS_NAME


def cell_dir(out_root, name: str) -> Path:
    return Path(out_root) / "cells" / name


def finished(folder: Path, key: str) -> dict | None:
    """The completion marker of a cell folder, when it is there and belongs to cell `key`."""
    try:
        done = json.loads((Path(folder) / DONE_NAME).read_text())
    except (OSError, ValueError):
        return None
    return done if done.get("key") == key else None


def has_run(folder: Path) -> bool:
    """Whether an earlier attempt left a checkpoint or metrics (so the next one must --resume)."""
    from training.runio import has_run as run_there

    return run_there(folder)


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default


def _stop_leftover(folder: Path) -> None:
    """Kill a command an earlier attempt on this host left running (its worker died hard)."""
    rec = _read_json(folder / RUNNING_NAME, None)
    if not isinstance(rec, dict) or rec.get("host") != socket.gethostname():
        return
    pid = rec.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 1:
        return  # not a record this module wrote: nothing safe to kill
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if GUARD.name.encode() not in cmdline:
            return  # the pid was reused by something else
    except OSError:
        return  # gone already (or no /proc: the guard ends it within half a second anyway)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)


def _checkpoint_fact(folder: Path) -> dict | None:
    ckpt, _ = _names()
    p = Path(folder) / ckpt
    try:
        st = p.stat()
    except OSError:
        return None
    return {"file": ckpt, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def _wanted(inject, name: str, attempt: int) -> dict | None:
    """The first fault-injection rule (a dict, or a list of them) that applies to this attempt."""
    if not inject or attempt != 1:
        return None
    for rule in [inject] if isinstance(inject, dict) else inject:
        if fnmatch.fnmatchcase(name, rule.get("cells", "*")):
            return rule
    return None


def run_cell(spec: dict, out_root: str, inject: dict | None = None) -> dict:
    """Run one cell to completion (or raise CellCrashed / CellRejected); return its marker.

    `spec` is `Cell.to_dict()`. Safe to call again on the same folder: a finished cell returns
    its marker at once, an interrupted one resumes.
    """
    folder = cell_dir(out_root, spec["name"])
    folder.mkdir(parents=True, exist_ok=True)
    done = finished(folder, spec["key"])
    if done is not None:
        return done
    if not (folder / CELL_NAME).exists():
        atomic_write(folder / CELL_NAME, json.dumps(spec, indent=2) + "\n")
    _stop_leftover(folder)

    trains = spec["command"].startswith("train")
    from .grid import COMMANDS, flag_words

    argv = [sys.executable, "-m", "seli_cli.main", *COMMANDS[spec["command"]],
            *flag_words(spec["params"])]
    resume = trains and has_run(folder)
    if trains:
        argv += ["--out", str(folder)] + (["--resume"] if resume else [])
    else:
        argv += ["--json"]

    attempts = _read_json(folder / ATTEMPTS_NAME, [])
    if not isinstance(attempts, list):  # not ours (edited by hand): start the record afresh
        attempts = []
    attempt = len(attempts) + 1
    record = {"attempt": attempt, "host": socket.gethostname(), "pid": os.getpid(),
              "started": time.time(), "resume": resume, "checkpoint": _checkpoint_fact(folder),
              # the engine's GPU assignment (Ray sets it for a task that asked for GPUs)
              "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
              "argv": argv[1:]}
    attempts.append(record)
    atomic_write(folder / ATTEMPTS_NAME, json.dumps(attempts, indent=2) + "\n")

    env = dict(os.environ)
    threads = str(max(1, int(spec.get("cpus", 1))))
    env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, SELI_SWEEP_CELL=spec["name"])
    kill = _wanted(inject, spec["name"], attempt)
    part = folder / f".{PATH_NAME}.part"
    with open(folder / LOG_NAME, "a") as log:
        log.write(f"\n=== attempt {attempt} on {record['host']}: {' '.join(argv[1:])}\n")
        log.flush()
        stdout = log if trains else open(part, "w")
        try:
            proc = subprocess.Popen([sys.executable, str(GUARD), *argv], stdout=stdout,
                                    stderr=log, env=env, start_new_session=True)
            atomic_write(folder / RUNNING_NAME,
                         json.dumps({"pid": proc.pid, "host": record["host"]}) + "\n")
            try:
                if kill is not None:
                    _inject(proc, folder, kill["mode"], trains, int(kill.get("after", 2)))
                rc = proc.wait()
            finally:
                if proc.poll() is None:  # the worker is being cancelled: take the command down
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        finally:
            if stdout is not log:
                stdout.close()
    (folder / RUNNING_NAME).unlink(missing_ok=True)

    record.update(ended=time.time(), status=rc)
    atomic_write(folder / ATTEMPTS_NAME, json.dumps(attempts, indent=2) + "\n")
    log_path = folder / LOG_NAME
    if rc == EXIT_INPUT:
        raise CellRejected(f"cell {spec['name']}: `seli {spec['command']}` refused its flags "
                           f"(exit status 2); see {log_path}.")
    if rc != 0:
        raise CellCrashed(f"cell {spec['name']}: `seli {spec['command']}` ended with status {rc} "
                          f"on attempt {attempt}; see {log_path}.")
    if not trains:
        try:
            points = json.loads(part.read_text())
        except ValueError:
            raise CellCrashed(f"cell {spec['name']}: `seli path --json` printed no JSON; "
                              f"see {log_path}.") from None
        atomic_write(folder / PATH_NAME, json.dumps(points, indent=2) + "\n")
        part.unlink(missing_ok=True)
    done = {"key": spec["key"], "name": spec["name"], "command": spec["command"],
            "attempts": attempt, "resumed": any(a["resume"] for a in attempts),
            "finished": time.time(), "host": record["host"]}
    # the very last write: a folder with this marker holds a complete result
    atomic_write(folder / DONE_NAME, json.dumps(done, indent=2) + "\n")
    return done


def _inject(proc: subprocess.Popen, folder: Path, mode: str, trains: bool, after: int = 2) -> None:
    """Kill the attempt once `after` checkpoints were written (the first is often epoch 0's)."""
    ckpt, _ = _names()
    seen: set[tuple[int, int]] = set()  # each atomic replace makes a new file
    while trains and len(seen) < after:
        try:
            st = (folder / ckpt).stat()
            seen.add((st.st_ino, st.st_mtime_ns))
        except OSError:
            pass
        if proc.poll() is not None:
            return  # finished before that: nothing to kill
        time.sleep(0.005)
    if mode == "worker":
        os._exit(1)  # the whole worker goes, as on a lost machine; the guard ends the command
    os.killpg(proc.pid, signal.SIGKILL)
