"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each file is written to a temporary file in its own folder, flushed to the disk, and renamed
over the old one (os.replace). `atomic_write_all` writes the files of one result as a group:
every file is staged first and only then are the old ones replaced, so a write that fails (a
full disk, a read-only or vanished folder) leaves every old file of the group as it was. The
renames themselves need no space; one that fails after others succeeded is the only way a group
can end half old, half new (each file still whole).

A failed write raises SeliOutputError (seli_exact.errors.output_error) naming the file, after
the temporary files are removed; the CLI prints it and exits 1. An existing file of the same
name is replaced without notice, as `-o FILE` does in Unix tools: the user named it.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> [p.name for p in atomic_write_all({os.path.join(folder, "a.txt"): "A",
...                                    os.path.join(folder, "b.txt"): b"B"})]
['a.txt', 'b.txt']
>>> sorted(os.listdir(folder))
['a.txt', 'b.txt']
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from seli_exact.errors import output_error


def atomic_write(path, data: bytes | str) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and os.replace."""
    return atomic_write_all({path: data})[0]


def atomic_write_all(files: dict) -> list[Path]:
    """Write every {path: text or bytes} of `files` atomically and as a group (see the module
    docstring); their paths, in order."""
    items = [(Path(path), _bytes(data)) for path, data in files.items()]
    staged: list[tuple[str, Path]] = []  # (temporary file, final path)
    current = None
    try:
        for path, raw in items:
            current = path
            staged.append((_stage(path, raw), path))
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
    except OSError as err:
        raise output_error(current, err) from None
    finally:
        for tmp, _ in staged:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    return [path for path, _ in items]


def figure_files(fig, stem, formats=("png", "pdf"), *, dpi: int = 200, **kw) -> dict[Path, bytes]:
    """{stem.png: bytes, stem.pdf: bytes, ...}: a matplotlib figure rendered in memory, ready for
    atomic_write_all beside the data files of the same result."""
    out = {}
    for ext in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi if ext == "png" else None, **kw)
        out[Path(f"{stem}.{ext}")] = buf.getvalue()
    return out


def atomic_savefig(fig, stem, formats=("png", "pdf"), *, dpi: int = 200, **kw) -> list[Path]:
    """Save a matplotlib figure as stem.png, stem.pdf, ... written atomically as a group."""
    return atomic_write_all(figure_files(fig, stem, formats, dpi=dpi, **kw))


def _bytes(data) -> bytes:
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"atomic_write takes text or bytes; got {type(data).__name__}")


def _stage(path: Path, raw: bytes) -> str:
    """A temporary file beside `path` holding `raw`, on the disk (fsync), with the mode an
    ordinary open() would give (0666 & ~umask); removed again when any step fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        view = memoryview(raw)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view):]
        os.fsync(fd)  # a disk that is full only at the flush says so here (NFS, quotas)
        fd, last = -1, fd
        os.close(last)
    except BaseException:
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass  # the first error is the one to report
        os.unlink(tmp)
        raise
    return tmp
