"""Run management shared by every training confirmation (UFM, deep nets): one implementation.

A run lives in one output folder::

    OUT/config.json      the resolved config (every default filled in) + environment + versions
    OUT/checkpoint.pt    the latest good checkpoint, replaced atomically every N epochs
    OUT/metrics.csv      one row per logged point (header from the first row's keys)
    OUT/metrics.jsonl    the same rows, one JSON object a line
    OUT/run.lock         while a process runs there (training.runlock): one process per folder
    OUT/final.npz        written by each trainer at the end: the final classifier(s), features
                         and labels in PyTorch's layouts, for `seli measure` (training.ufm,
                         training.deepnet say which keys)

API
---
``RunDir(out, config, *, resume=False, resumable=(), device=None, extend=None, results=(),
        checkpoint_name="checkpoint.pt", metrics_name="metrics")``
    ``config`` is a dataclass instance (the typed config of the trainer); ``device`` only
    names the device in config.json's environment; ``results`` names the files the trainer
    writes into the folder besides these (final.npz, summary.json).
    ``start() -> dict | None``: takes the folder's lock (training.runlock; another live run
    there is refused), then every check, then the writes. A fresh run refuses a folder that
    already holds a checkpoint, metrics or a result (SeliInputError: pass ``resume=True`` or
    another folder), then writes config.json and returns None. With ``resume=True``: a folder
    with no run (no checkpoint, no metrics) is refused, and so is a folder whose checkpoint is
    missing while it holds work that starting again would replace (rows past epoch 0, a
    result file); config.json must match ``config`` (fields listed in ``resumable``, e.g.
    ``("threads",)``, may differ; a changed ``epochs`` is put to ``extend(saved_config,
    epochs_done)``, which returns None to allow it or the reason it is refused); the checkpoint
    is loaded and the metrics are rebuilt to the rows logged before it (see below); it returns
    the saved ``state`` dict with ``"epoch"`` (the checkpoint's epoch) and ``"rng"`` (for
    ``restore_rng``) added, or None when only rows of epoch 0 were there (a run killed before
    its first checkpoint by an older version, which logged first: it starts afresh). An --out
    that cannot be a folder, and a config.json or checkpoint that cannot be read, are
    SeliInputError sentences; nothing is written then, and the lock is released.
    ``close()`` (or leaving ``with RunDir(...) as run:``) releases the lock; trainers call it
    when the run ends, also on an error or KeyboardInterrupt.
    Trainers write their first checkpoint (epoch 0) before their first row, so a folder with
    rows always has a checkpoint to resume from; a run resumed from a checkpoint that came
    before any row logs the rows of its epoch first.
    Metrics on resume: every checkpoint holds a copy of the rows logged before it, so a damaged
    metrics.jsonl / .csv (a line cut mid-way, a garbage line) is rebuilt from it; a checkpoint
    without that copy (older runs) is served by whichever file holds each row whole, and a row in
    neither refuses the resume with every file untouched. Rows logged after the checkpoint stay
    until the resumed run logs its first row (they are recomputed), so the files never shrink
    without being refilled.
    ``log(row: dict)``: append one row to metrics.csv and metrics.jsonl (written at once; the
    first row fixes the columns). ``rows() -> list[dict]`` the run's rows (JSON floats
    round-trip exactly).
    ``checkpoint(state: dict, *, epoch: int, generators=()) -> Path``: torch.save of ``state``
    (tensors, state_dicts, numbers) plus the RNG states (Python, NumPy, torch CPU/CUDA, and
    each torch.Generator in ``generators``), the epoch, the metric rows, written atomically
    (seli_io.atomic: a temporary file then os.replace, mode 0666 & ~umask like any file),
    so a crash or a full disk leaves the previous checkpoint whole.
    ``write(name, data) -> Path``: a result file of the run, written atomically.
    ``check_finite(name, value, *, epoch)``: the guard below, naming this run's checkpoint.
    Attributes: ``out``, ``config_path``, ``checkpoint_path``, ``metrics`` (a MetricsLog),
    ``last_checkpoint_epoch``, ``lock`` (the RunLock).
Writes that fail (a full disk, a vanished folder) raise ``SeliOutputError`` naming the file
    (``seli_exact.errors.output_error``, as ``seli_io.atomic`` does); the CLI prints it and
    exits 1. What was written before stays whole: files are replaced atomically, and a metrics
    row that cannot be appended whole to both files is cut back out of both.
``has_run(folder) -> bool``: whether a folder holds a checkpoint or metrics.
``restore_rng(state, generators=())``: put back the RNG states saved with a checkpoint
    (pass the dict ``start()`` returned); with it a resumed CPU run is bit-identical to an
    uninterrupted one. ``rng_state(generators=()) -> dict`` captures them.
``MetricsLog(folder, name="metrics")``: the CSV + JSONL pair on its own: ``append(row)``,
    ``rows()`` (the whole JSONL rows), ``scan()`` (both files line by line, damage marked),
    ``rewrite(rows)``, ``truncate(count)``, ``count``, ``csv_path``, ``jsonl_path``.
``config_dict(config) -> dict``: a dataclass as JSON-able values (Fraction -> "a/b",
    torch.dtype -> "float64", Path -> str, tuples -> lists).
``environment(device=None) -> dict``: Python, platform, numpy, torch, seli versions, thread
    count, the device's name. Written into config.json beside the config.
``check_finite(name, value, *, epoch, checkpoint=None)``: when ``value`` (number, array,
    tensor) holds a NaN or inf, raise ``NonFiniteError`` (a RuntimeError; a CLI prints it as
    one line and exits 1) naming the quantity, the epoch and the last good checkpoint, which
    is left untouched. Trainers call it before every checkpoint and every logged row.
``log_epochs(total, per_decade=20) -> list[int]``: epochs 0..total evenly spaced on a log
    axis, for metrics at log-spaced epochs.
Progress: trainers take a ``progress=`` callable and only call it, ``progress(done,
    **postfix)``; the CLI passes its progress line (seli_cli.progress). Trainers never print.

Library code here writes files and raises; it never prints.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import io
import json
import math
import os
import platform
import random
import sys
import weakref
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from seli_io.atomic import atomic_write
from seli_exact.errors import SeliInputError, output_error

from .runlock import RunLock

CONFIG_NAME = "config.json"
CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics"

ProgressFn = Callable[..., None]
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EIO)  # a folder that cannot be made for want of space


class NonFiniteError(RuntimeError):
    """Training produced a NaN or inf; the run stopped and its last good checkpoint is kept."""


# --------------------------------------------------------------------------- config


def _jsonable(v: Any) -> Any:
    if isinstance(v, Fraction):
        return str(v)
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return config_dict(v)
    mod = type(v).__module__
    if mod.startswith("torch"):  # torch.dtype, torch.device
        return str(v).removeprefix("torch.")
    return v


def config_dict(config) -> dict:
    """A dataclass instance as a dict of JSON-able values (resolved, in field order)."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        raise SeliInputError(
            f"`config` must be a dataclass instance; got {type(config).__name__}. "
            "Pass the trainer's typed config."
        )
    return {f.name: _jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}


def environment(device=None) -> dict:
    """Versions and machine facts written beside every result."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
    }
    try:
        from importlib.metadata import version

        env["seli"] = version("seli")
    except Exception:  # not installed as a distribution (e.g. a source checkout)
        env["seli"] = None
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        env["cuda"] = torch.version.cuda
        dev = torch.device(device) if device is not None else None
        if dev is not None and dev.type == "cuda" and torch.cuda.is_available():
            env["device_name"] = torch.cuda.get_device_name(dev)
        elif dev is not None:
            env["device_name"] = platform.processor() or platform.machine()
    except ImportError:
        env["torch"] = None
    return env


# --------------------------------------------------------------------------- RNG


def rng_state(generators: Iterable = ()) -> dict:
    """Every RNG state a run may touch: Python, NumPy, torch CPU, CUDA, and given Generators."""
    import torch

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "generators": [g.get_state() for g in generators],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, generators: Iterable = ()) -> None:
    """Put back the RNG states saved by rng_state (the inverse of it)."""
    import torch

    rng = state["rng"] if "rng" in state else state
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    gens = list(generators)
    if len(gens) != len(rng["generators"]):
        raise SeliInputError(
            f"the checkpoint holds {len(rng['generators'])} generator states but {len(gens)} "
            "generators were given. Resume with the same configuration that wrote it."
        )
    for g, s in zip(gens, rng["generators"]):
        g.set_state(s)


# --------------------------------------------------------------------------- guard


def check_finite(name: str, value, *, epoch: int, checkpoint: Path | str | None = None,
                 hint: str = "Lower the learning rate or use float64.") -> None:
    """Raise NonFiniteError when `value` (number, array or tensor) holds NaN or inf; `hint` is the fix."""
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().double().numpy()
    except ImportError:
        pass
    arr = np.asarray(value, dtype=float)
    if np.all(np.isfinite(arr)):
        return
    bad = np.flatnonzero(~np.isfinite(arr.ravel()))
    where = "" if arr.ndim == 0 else f" (entries {bad[:5].tolist()} of {arr.size})"
    kept = (
        f"the last good checkpoint {checkpoint} is kept"
        if checkpoint is not None and Path(checkpoint).exists()
        else "no checkpoint had been written yet"
    )
    raise NonFiniteError(
        f"{name} became {arr.ravel()[bad[0]]} at epoch {epoch}{where}; training stopped and "
        f"{kept}. {hint}"
    )


# --------------------------------------------------------------------------- progress


# --------------------------------------------------------------------------- metrics


def _cell(v):
    if isinstance(v, float):
        return repr(v)  # round-trips bit for bit
    return v


def _cells(row: dict, fields: list[str]) -> list[str]:
    """A row's CSV cells as text, exactly as csv.writer writes them."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([_cell(row[f]) for f in fields])
    return next(csv.reader([buf.getvalue()]))


@dataclasses.dataclass
class MetricsScan:
    """What the two metric files hold, line by line, with damage marked (None).

    jsonl[i] is the row of line i of NAME.jsonl, or None when that line is not a JSON object
    with the log's columns, or is cut (no newline); csv[i] is data row i of NAME.csv as cell
    text, or None when it is cut or has the wrong number of cells. `fields` are the columns
    (the CSV header, else the first intact JSON row's keys).
    """

    fields: list[str] | None
    jsonl: list[dict | None]
    csv: list[list[str] | None]

    @property
    def damaged(self) -> bool:
        return any(r is None for r in self.jsonl) or any(r is None for r in self.csv)

    def consistent(self, i: int) -> bool:
        """Row i is whole in both files and they agree."""
        j = self.jsonl[i] if i < len(self.jsonl) else None
        c = self.csv[i] if i < len(self.csv) else None
        return j is not None and c is not None and _cells(j, self.fields) == c

    def recover(self, i: int) -> dict | None:
        """Row i from whichever file holds it whole; None if neither does or they disagree."""
        j = self.jsonl[i] if i < len(self.jsonl) else None
        c = self.csv[i] if i < len(self.csv) else None
        if j is not None:
            return j if c is None or _cells(j, self.fields) == c else None
        if c is None:
            return None
        row = self._typed(c)
        return row if row is not None and _cells(row, self.fields) == c else None

    def _typed(self, cells: list[str]) -> dict | None:
        """A CSV row with the types the intact JSON rows give each column."""
        types: dict[str, type] = {}
        for r in self.jsonl:
            for f, v in (r or {}).items():
                if v is not None:
                    types.setdefault(f, type(v))
        row = {}
        for f, text in zip(self.fields, cells):
            t = types.get(f)
            if text == "":
                row[f] = None
            elif t is None:
                return None  # no whole JSON row says what this column holds
            elif t is bool:
                row[f] = text == "True"
            else:
                try:
                    row[f] = t(text)
                except ValueError:
                    return None
        return row


class MetricsLog:
    """Rows to NAME.csv and NAME.jsonl; header fixed by the first row."""

    def __init__(self, folder: Path, name: str = METRICS_NAME):
        self.csv_path = Path(folder) / f"{name}.csv"
        self.jsonl_path = Path(folder) / f"{name}.jsonl"
        self._fields: list[str] | None = None
        self.count = 0
        if self.jsonl_path.exists():
            rows = self.rows()
            self.count = len(rows)
            if rows:
                self._fields = list(rows[0])

    def exists(self) -> bool:
        return self.csv_path.exists() or self.jsonl_path.exists()

    def scan(self) -> MetricsScan:
        """Both files, line by line, damaged lines marked (reads only)."""
        jl = self.jsonl_path.read_text(errors="replace") if self.jsonl_path.exists() else ""
        cs = self.csv_path.read_text(errors="replace") if self.csv_path.exists() else ""
        header = None
        csv_rows: list[list[str] | None] = []
        if cs:
            lines = cs.splitlines(keepends=True)
            try:
                header = next(csv.reader([lines[0]]))
            except (csv.Error, StopIteration):
                header = None
            for line in lines[1:]:
                try:
                    cells = next(csv.reader([line]))
                except (csv.Error, StopIteration):
                    cells = None
                whole = line.endswith("\n") and cells is not None and header is not None \
                    and len(cells) == len(header)
                csv_rows.append(cells if whole else None)
        parsed: list[dict | None] = []
        for line in jl.splitlines(keepends=True):
            row = None
            if line.endswith("\n"):  # a line cut by a crash has no newline
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
            parsed.append(row if isinstance(row, dict) else None)
        fields = header or next((list(r) for r in parsed if r is not None), None)
        parsed = [r if r is not None and list(r) == fields else None for r in parsed]
        return MetricsScan(fields, parsed, csv_rows)

    def rows(self) -> list[dict]:
        """The whole rows of the JSONL file, in order (damaged lines left out)."""
        if not self.jsonl_path.exists():
            return []
        return [r for r in self.scan().jsonl if r is not None]

    def append(self, row: dict) -> None:
        """One row to both files. A row that cannot be written whole to both (a full disk) is
        cut back out of both and SeliOutputError names the file; the rows before stay whole."""
        row = {k: _jsonable(v) for k, v in row.items()}
        fields = list(row) if self._fields is None else self._fields
        if list(row) != fields:
            raise SeliInputError(
                f"every metrics row must have the columns {fields}; got {list(row)}. "
                "Log the same keys in the same order each time."
            )
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if self._fields is None and not self.csv_path.exists():
            w.writerow(fields)
        w.writerow([_cell(row[f]) for f in fields])
        _append_whole([(self.csv_path, buf.getvalue().encode()),
                       (self.jsonl_path, (json.dumps(row) + "\n").encode())])
        self._fields = fields
        self.count += 1

    def rewrite(self, rows: list[dict]) -> None:
        """Make both files hold exactly `rows` (each replaced atomically; none: both removed)."""
        self.count = len(rows)
        if not rows:
            for p in (self.csv_path, self.jsonl_path):
                p.unlink(missing_ok=True)
            self._fields = None
            return
        self._fields = list(rows[0])
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self._fields)
        for r in rows:
            w.writerow([_cell(r[f]) for f in self._fields])
        atomic_write(self.csv_path, buf.getvalue())
        atomic_write(self.jsonl_path, "".join(json.dumps(r) + "\n" for r in rows))

    def truncate(self, count: int) -> None:
        """Keep only the first `count` whole rows (rewritten atomically), dropping any after them."""
        self.rewrite(self.rows()[:count])


def _append_whole(parts: list[tuple[Path, bytes]]) -> None:
    """Append each (path, data) in order, all or nothing: when a write fails, every file is cut
    back to its length before (so no half line stays) and SeliOutputError names the file."""
    opened: list[tuple[Path, int, int, bool]] = []  # (path, fd, length before, new file)
    path = parts[0][0]
    try:
        for path, data in parts:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not path.exists()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            opened.append((path, fd, os.fstat(fd).st_size, new))
        for (path, fd, _, _), (_, data) in zip(opened, parts):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
    except OSError as err:
        for p, fd, size, new in opened:
            try:
                if new:
                    p.unlink()  # made by this append: gone again, as if never started
                else:
                    os.ftruncate(fd, size)  # frees what the failed write took; needs no space
            except OSError:
                pass  # the half line stays; --resume rebuilds the log from the checkpoint
        raise output_error(path, err) from None
    finally:
        for _, fd, _, _ in opened:
            os.close(fd)


# --------------------------------------------------------------------------- the run folder


class RunDir:
    """One run's folder: a lock, config.json, atomic checkpoints, metrics that survive --resume."""

    def __init__(self, out, config, *, resume: bool = False, resumable: Iterable[str] = (),
                 device=None, extend: Callable[[dict, int], str | None] | None = None,
                 results: Iterable[str] = (), checkpoint_name: str = CHECKPOINT_NAME,
                 metrics_name: str = METRICS_NAME):
        self._out_text = str(out)
        self.out = Path(out)
        self.config = config
        self.resume = bool(resume)
        self.resumable = tuple(resumable)
        self.extend = extend
        self.device = device
        self.results = tuple(results)
        self.config_path = self.out / CONFIG_NAME
        self.checkpoint_path = self.out / checkpoint_name
        self.metrics = MetricsLog(self.out, metrics_name)
        self.last_checkpoint_epoch: int | None = None
        self.lock = RunLock(self.out)
        # the lock goes with the object too (a caller that forgets close(), or the interpreter
        # exiting); a killed process leaves it behind, and the next run finds it stale
        self._release = weakref.finalize(self, self.lock.release)
        self._rows: list[dict] | None = None  # the run's rows, once started
        self._pending = False  # the files still hold rows after the checkpoint, to be replaced

    # -- start / resume
    def start(self) -> dict | None:
        """Take the lock, check everything, then (and only then) write; see the module docstring."""
        if not self._out_text.strip():
            raise SeliInputError(
                "`--out` must name a folder; got empty text. Pass a folder path (use . for the "
                "current folder)."
            )
        if self.out.exists() and not self.out.is_dir():
            raise SeliInputError(
                f"`--out` must be a folder; got the file {self.out}. Pass a folder path."
            )
        if self.resume and not self.out.is_dir():
            raise self._no_run()  # refused before anything is created
        self._make_folder()
        self.lock.acquire()  # first: the checks below decide under it, so two runs cannot both pass
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the folder's lock (idempotent); the run's files stay as they are."""
        self._release()

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> dict | None:
        present = self._holding()
        if not self.resume:
            if present:
                raise SeliInputError(
                    f"`--out` {self.out} already holds a run ({', '.join(present)}); pass "
                    "--resume to continue it or choose an empty folder."
                )
            self._write_config()
            self._rows = []
            return None
        if not (self.checkpoint_path.exists() or self.metrics.exists()):
            raise self._no_run()
        if not self.checkpoint_path.exists():
            lost = self._lost_by_restart()
            if lost:
                raise SeliInputError(
                    f"--resume found no {self.checkpoint_path.name} in {self.out}, so the run "
                    f"would start again from epoch 0 and replace {' and '.join(lost)}; restore "
                    f"{self.checkpoint_path.name}, or move those files away (or choose another "
                    "--out) to start afresh."
                )
        ckpt = self._load_checkpoint() if self.checkpoint_path.exists() else None
        done = int(ckpt["epoch"]) if ckpt is not None else 0
        if self.config_path.exists():
            self._check_config(done)
        rows, rewrite_now, pending = self._plan_rows(ckpt)
        # every check has passed: from here on the folder is changed
        self._write_config()
        if rewrite_now is not None:
            self.metrics.rewrite(rewrite_now)
        self._rows = rows
        self._pending = pending
        self.metrics._fields = list(rows[0]) if rows else self.metrics._fields
        if ckpt is None:
            return None
        self.last_checkpoint_epoch = done
        return ckpt["state"] | {"rng": ckpt["rng"], "epoch": done}

    def _no_run(self) -> SeliInputError:
        return SeliInputError(
            f"--resume found no run in {self.out} (no {self.checkpoint_path.name} and no "
            f"metrics); drop --resume to start one there, or point --out at the run's folder."
        )

    def _holding(self) -> list[str]:
        """The files of a run already in the folder (what a fresh start would replace)."""
        names = [self.checkpoint_path.name, self.metrics.csv_path.name,
                 self.metrics.jsonl_path.name, *self.results]
        return [name for name in names if (self.out / name).exists()]

    def _lost_by_restart(self) -> list[str]:
        """What starting again from epoch 0 would replace: rows past epoch 0 (from whichever
        file holds them whole) and result files. Rows of epoch 0 alone are recomputed as they
        were (an older version logged them before its first checkpoint)."""
        scan = self.metrics.scan()
        epochs = [r.get("epoch") for r in scan.jsonl if r is not None]
        if scan.fields is not None and "epoch" in scan.fields:
            at = scan.fields.index("epoch")
            epochs += [c[at] for c in scan.csv if c is not None]
        else:
            epochs += [None for c in scan.csv if c is not None]
        later = []
        for e in epochs:
            try:
                later.append(float(e))
            except (TypeError, ValueError):
                later.append(math.inf)  # a row without a readable epoch: keep it
        lost = []
        if any(e > 0 for e in later):
            top = max(later)
            lost.append(f"its metrics up to epoch {top:g}" if math.isfinite(top)
                        else "its metrics")
        lost += [name for name in self.results if (self.out / name).exists()]
        return lost

    def _make_folder(self) -> None:
        try:  # a clear sentence now rather than a traceback at the first write
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            if err.errno in _NO_ROOM:
                raise output_error(self.out, err) from None
            raise SeliInputError(
                f"`--out` {self.out} cannot be created as a folder ({err.strerror}); pass a "
                "writable folder path."
            ) from None

    def _plan_rows(self, ckpt) -> tuple[list[dict], list[dict] | None, bool]:
        """(rows the run continues from, rows to write now or None, rows after them pending).

        The checkpoint holds a copy of every row logged before it, so a damaged metrics file is
        rebuilt from it. A checkpoint written before rows were kept in checkpoints is served by
        the intact lines of the two files, each row from whichever file holds it whole; when a
        row is in neither (or the files disagree on it), the run is refused and nothing changes.
        Rows logged after the checkpoint are recomputed by the resumed run: they stay in the
        files until the first new row replaces them, so a resume that stops at once loses
        nothing.
        """
        want = int(ckpt["metrics_rows"]) if ckpt is not None else 0
        scan = self.metrics.scan()
        if ckpt is not None and isinstance(ckpt.get("rows"), list) and len(ckpt["rows"]) == want:
            base = [dict(r) for r in ckpt["rows"]]
        else:
            base = []
            for i in range(want):
                row = scan.recover(i) if scan.fields is not None else None
                if row is None:
                    raise SeliInputError(
                        f"--resume cannot rebuild {self.metrics.jsonl_path.name}: row {i + 1} of "
                        f"the {want} the checkpoint counts is damaged or missing in both "
                        f"{self.metrics.jsonl_path.name} and {self.metrics.csv_path.name} (or "
                        "they disagree), and this checkpoint holds no copy; restore the files "
                        "from a backup (nothing was changed)."
                    )
                base.append(row)
        lines = max(len(scan.jsonl), len(scan.csv))
        intact = (not scan.damaged and len(scan.jsonl) == len(scan.csv)
                  and all(scan.consistent(i) and scan.jsonl[i] == base[i] for i in range(want)))
        extra = [r for r in scan.jsonl[want:] if r is not None]
        if intact:
            return base, None, lines > want
        return base, base + extra, bool(extra)

    def _load_checkpoint(self) -> dict:
        """The checkpoint as `checkpoint()` wrote it; a file that cannot be read is bad input."""
        import torch

        try:
            ckpt = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        except Exception as err:  # torch raises RuntimeError, pickle errors, EOFError, ...
            reason = (str(err).split(". ")[0] or type(err).__name__).splitlines()[0]
            raise SeliInputError(
                f"--resume cannot read the checkpoint {self.checkpoint_path} ({reason[:200]}); "
                "restore it from a backup, or delete it to start the run afresh with --resume."
            ) from None
        missing = [k for k in ("state", "epoch", "rng", "metrics_rows")
                   if not isinstance(ckpt, dict) or k not in ckpt]
        if missing:
            raise SeliInputError(
                f"--resume found no {', '.join(missing)} in the checkpoint "
                f"{self.checkpoint_path}, so it was not written by a seli trainer; restore it, "
                "or delete it to start the run afresh with --resume."
            )
        return ckpt

    def _config_record(self) -> dict:
        return {"config": config_dict(self.config), "environment": environment(self.device)}

    def _write_config(self) -> None:
        atomic_write(self.config_path, json.dumps(self._config_record(), indent=2) + "\n")

    def _check_config(self, done: int) -> None:
        try:
            saved = json.loads(self.config_path.read_text())["config"]
            if not isinstance(saved, dict):
                raise TypeError("`config` is not an object")
        except (ValueError, KeyError, TypeError, OSError) as err:
            raise SeliInputError(
                f"--resume cannot compare the configuration: {self.config_path} is not a seli "
                f"config.json ({type(err).__name__}: {err}); restore it, or start a fresh --out."
            ) from None
        now = config_dict(self.config)
        diff = sorted(
            k for k in set(saved) | set(now)
            if k not in self.resumable and saved.get(k) != now.get(k)
        )
        if "epochs" in diff and self.extend is not None:
            reason = self.extend(saved, done)
            if reason is not None:
                raise SeliInputError(
                    f"--resume cannot change --epochs from {saved.get('epochs')} to "
                    f"{now.get('epochs')}: {reason}."
                )
            diff.remove("epochs")
        if diff:
            shown = ", ".join(f"{k}: saved {saved.get(k)!r}, given {now.get(k)!r}" for k in diff[:4])
            raise SeliInputError(
                f"--resume needs the configuration the run was started with; {shown}. "
                "Repeat the original flags (see config.json) or start a fresh --out."
            )

    # -- during the run
    def _settle(self) -> None:
        """Replace the rows logged after the resumed checkpoint, before the first new write."""
        if self._pending:
            self.metrics.rewrite(self._rows)
            self._pending = False

    def log(self, row: dict) -> None:
        self._settle()
        self.metrics.append(row)
        if self._rows is not None:
            self._rows.append({k: _jsonable(v) for k, v in row.items()})

    def rows(self) -> list[dict]:
        return list(self._rows) if self._rows is not None else self.metrics.rows()

    def checkpoint(self, state: dict, *, epoch: int, generators: Iterable = ()) -> Path:
        """Atomically replace the checkpoint with `state` at `epoch` (+ RNG states, row count,
        and a copy of every metrics row so far, from which a damaged log is rebuilt)."""
        import torch

        self._settle()
        payload = {
            "state": state,
            "epoch": int(epoch),
            "rng": rng_state(generators),
            "metrics_rows": len(self._rows) if self._rows is not None else self.metrics.count,
            "rows": list(self._rows) if self._rows is not None else self.metrics.rows(),
            "config": config_dict(self.config),
        }
        # serialized in memory, then written as one atomic file: a full disk is an OSError
        # naming the file (torch's own writer reports it as an opaque RuntimeError)
        buf = io.BytesIO()
        torch.save(payload, buf)
        atomic_write(self.checkpoint_path, buf.getvalue())
        self.last_checkpoint_epoch = int(epoch)
        return self.checkpoint_path

    def write(self, name: str, data: bytes | str) -> Path:
        """A result file of the run (final.npz, summary.json), written atomically."""
        return atomic_write(self.out / name, data)

    def check_finite(self, name: str, value, *, epoch: int, **kw) -> None:
        check_finite(name, value, epoch=epoch, checkpoint=self.checkpoint_path, **kw)


def has_run(folder, *, checkpoint_name: str = CHECKPOINT_NAME,
            metrics_name: str = METRICS_NAME) -> bool:
    """Whether `folder` holds a run that --resume can continue (a checkpoint or metrics)."""
    folder = Path(folder)
    return ((folder / checkpoint_name).exists() or (folder / f"{metrics_name}.csv").exists()
            or (folder / f"{metrics_name}.jsonl").exists())


def log_epochs(total: int, per_decade: int = 20) -> list[int]:
    """Epochs 0, 1, ..., total spaced evenly on a log axis (about `per_decade` per decade).

    >>> log_epochs(100, per_decade=4)
    [0, 1, 2, 3, 6, 10, 18, 32, 56, 100]
    """
    if total < 0:
        raise SeliInputError(f"`total` epochs must be >= 0; got {total}. Pass a count.")
    if total == 0:
        return [0]
    n = max(2, int(math.ceil(math.log10(max(total, 1)) * per_decade)) + 1)
    pts = {0, total}
    for j in range(n):
        pts.add(int(round(10 ** (j * math.log10(total) / (n - 1)))))
    return sorted(p for p in pts if 0 <= p <= total)
