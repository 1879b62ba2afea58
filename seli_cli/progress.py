"""A progress line on stderr for every long command: work done/total and an ETA.

Grids (path, fig3, sweep, check) count cells or claims, `seli measure` rows read, the trainers
epochs (with the loss and training error after the ETA).

Library functions never print; they take a callback `progress(done, total)` and call it after
each cell. The CLI passes a `Progress`, which draws

    seli path: 5/17 cells, 2.4 s elapsed, about 5.8 s left

on stderr, redrawn in place, and only when it is worth it: nothing during the first `delay`
seconds (2 by default, so quick runs stay silent), and nothing at all when stderr is not a
terminal (pipes, logs, tests), unless `mode="always"` (a line a second) or a `heartbeat` is
set: then a run that goes on longer than `heartbeat` seconds writes one whole line into the
file or pipe every `heartbeat` seconds (the trainers use HEARTBEAT_S, a minute), so a log of an
hours-long training never goes quiet and never floods. `close()` (or leaving the `with` block)
erases the line, so the command's own output is never interleaved with it.

    with Progress.from_args(args, "seli path") as progress:
        rows = compute_path(counts, lambdas, progress=progress)

The API: `Progress(label, mode="auto", stream=None, delay=2.0, unit="cells", heartbeat=None,
since_first=False)`, calling it with (done, total); `since_first` takes the ETA's rate from the
first report on (a resumed training starts its count at the checkpoint's epoch),
`close()`, `Progress.from_args(args, label)`, and `add_progress_argument(parser)` for the
`--progress {auto,always,never}` flag.

>>> import io
>>> buf = io.StringIO()
>>> clock = iter([0.0, 1.0, 3.0, 6.0]).__next__  # the start, then one reading per call
>>> p = Progress("demo", mode="always", stream=buf, clock=clock)
>>> p(1, 4); p(2, 4); p(3, 4); p.close()
>>> print(buf.getvalue(), end="")
demo: 2/4 cells, 3.0 s elapsed, about 3.0 s left
demo: 3/4 cells, 6.0 s elapsed, about 2.0 s left

Off a terminal with a heartbeat of 60 s, only one line a minute, after the first minute:

>>> buf = io.StringIO()
>>> clock = iter([0.0, 30.0, 61.0, 90.0, 125.0]).__next__
>>> p = Progress("train", stream=buf, clock=clock, unit="epochs", heartbeat=60.0)
>>> p(100, 1000); p(200, 1000); p(300, 1000); p(420, 1000)
>>> print(buf.getvalue(), end="")
train: 200/1000 epochs, 1 min 01 s elapsed, about 4 min 04 s left
train: 420/1000 epochs, 2 min 05 s elapsed, about 2 min 52 s left
"""

from __future__ import annotations

import sys
import time

MODES = ("auto", "always", "never")
HEARTBEAT_S = 60.0  # the trainers' line into files and pipes: at most one a minute
HELP = ("progress line on stderr (work done/total and an ETA) for runs longer than ~2 s: auto "
        "shows it only when stderr is a terminal (default; a training also writes one line a "
        "minute into a file or pipe once it has run a minute), always also into files and "
        "pipes, never hides it")


def add_progress_argument(p) -> None:
    """Add `--progress {auto,always,never}` (dest "progress") to an argparse parser."""
    p.add_argument("--progress", choices=MODES, default="auto", help=HELP)


class Progress:
    """A callable progress(done, total) that draws one status line on `stream` (stderr)."""

    def __init__(self, label: str, mode: str = "auto", stream=None, delay: float = 2.0,
                 clock=time.monotonic, unit: str = "cells", heartbeat: float | None = None,
                 since_first: bool = False):
        if mode not in MODES:
            raise ValueError(f"Progress mode must be one of {MODES}; got {mode!r}")
        self.label = label
        self.unit = unit  # what is counted: "cells", "claims", "rows", ...
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.delay = delay
        self.start = clock()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        # off a terminal in auto mode: a heartbeat line now and then, or nothing
        self.beat = heartbeat if mode == "auto" and not self.tty else None
        self.enabled = mode == "always" or (mode == "auto" and (self.tty or self.beat is not None))
        self.since_first = since_first
        self.first: tuple[float, int] | None = None  # (time, done) of the first report
        self.width = 0  # length of the line drawn last (0: nothing on screen)
        self.last = -1.0  # when the line was last drawn
        self.line_at = -1e9  # when the last whole line was written (files and pipes)

    @classmethod
    def from_args(cls, args, label: str, unit: str = "cells") -> "Progress":
        return cls(label, getattr(args, "progress", "auto") or "auto", unit=unit)

    def __call__(self, done: int, total: int, **postfix) -> None:
        """Record `done` of `total`; `postfix` (e.g. loss=0.12) is shown after the ETA."""
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self.start
        if self.first is None:
            self.first = (now, done) if self.since_first else (self.start, 0)
        if self.beat is not None:  # a file or a pipe: one line per heartbeat, after the first
            if elapsed < self.beat or now - self.line_at < self.beat:
                return
        # quick runs stay silent; redraw at most ten times a second (always for the last cell)
        elif elapsed < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        line = f"{self.label}: {done}/{total} {self.unit}, {_secs(elapsed)} elapsed"
        t0, d0 = self.first
        if d0 < done < total and now > t0:
            line += f", about {_secs((now - t0) / (done - d0) * (total - done))} left"
        if postfix:
            line += ", " + ", ".join(f"{key} {_value(v)}" for key, v in postfix.items())
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:  # a file or a pipe: whole lines, at most one a second (or per heartbeat)
            if self.beat is None and now - self.line_at < 1.0 and done < total:
                return
            self.line_at = now
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Erase the line (on a terminal), so what the command prints next starts clean."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
        self.width = 0

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _value(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _secs(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    if s < 86400 * 3:
        return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"
    return f"{s / 86400:.3g} days"
