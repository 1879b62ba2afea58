"""Atomic writes: whole files or nothing, ordinary permissions, no temporary files left; a write
that fails (a full disk, real or injected) is SeliOutputError and keeps every old file."""

import errno
import os
import stat

import pytest

from seli_io import atomic
from seli_io.atomic import atomic_write, atomic_write_all
from seli_exact.errors import SeliOutputError


def test_atomic_write_replaces_whole_file_with_ordinary_mode(tmp_path):
    p = tmp_path / "sub" / "x.json"
    atomic_write(p, "first")
    atomic_write(p, b"second")
    assert p.read_text() == "second"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask
    assert sorted(x.name for x in p.parent.iterdir()) == ["x.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "x.txt"
    atomic_write(p, "old")
    with pytest.raises(TypeError):
        atomic_write(p, 12345)  # not text or bytes: nothing is written
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.txt"]


# --------------------------------------------------------------------------- failed writes


def _enospc(*a, **kw):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_seli_output_error_and_the_old_file_stays(tmp_path, monkeypatch):
    """The disk fills mid-file (os.write writes 3 bytes, then ENOSPC): one sentence naming the
    file, the old content whole, the temporary file gone."""
    p = tmp_path / "x.json"
    atomic_write(p, "old")
    real = os.write
    calls = []

    def write(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real(fd, bytes(data)[:3])
        return _enospc()

    monkeypatch.setattr(atomic.os, "write", write)
    with pytest.raises(SeliOutputError, match=rf"^cannot write {p}: No space left on device; "
                       r"free some space or choose a folder on another disk"):
        atomic_write(p, "new content, longer than three bytes")
    monkeypatch.undo()
    assert len(calls) == 2 and p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.json"]


def test_a_full_disk_at_fsync_is_caught_too(tmp_path, monkeypatch):
    """Network file systems and quotas may report ENOSPC only when the data is flushed."""
    p = tmp_path / "x.txt"
    atomic_write(p, "old")
    monkeypatch.setattr(atomic.os, "fsync", _enospc)
    with pytest.raises(SeliOutputError, match=r"No space left on device"):
        atomic_write(p, "new")
    monkeypatch.undo()
    assert p.read_text() == "old" and sorted(x.name for x in tmp_path.iterdir()) == ["x.txt"]


def test_a_group_is_written_all_or_none(tmp_path, monkeypatch):
    """atomic_write_all stages every file before replacing any: the third file failing leaves
    the first two old files as they were (a file-by-file write would have replaced them)."""
    names = ("fig.png", "fig.pdf", "fig.json")
    for name in names:
        atomic_write(tmp_path / name, f"old {name}")
    real = atomic._stage
    staged = []

    def stage(path, raw):
        if len(staged) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        staged.append(path)
        return real(path, raw)

    monkeypatch.setattr(atomic, "_stage", stage)
    with pytest.raises(SeliOutputError, match=r"cannot write .*fig\.json: No space left"):
        atomic_write_all({tmp_path / name: f"new {name}" for name in names})
    monkeypatch.undo()
    assert [(tmp_path / name).read_text() for name in names] == [f"old {n}" for n in names]
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(names)
    paths = atomic_write_all({tmp_path / n: f"new {n}" for n in names})
    assert paths == [tmp_path / n for n in names]
    assert [(tmp_path / name).read_text() for name in names] == [f"new {n}" for n in names]


def test_a_folder_that_cannot_be_made_is_seli_output_error(tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(SeliOutputError, match=r"cannot write .*file/x\.json: "):
        atomic_write(tmp_path / "file" / "x.json", "x")
    assert (tmp_path / "file").read_text() == "a file, not a folder"


def test_a_real_full_disk(tmp_path):
    from tests.test_hostile_io import full_disk

    with full_disk(tmp_path, free=4096, before={"x.bin": "old"}) as disk:
        with pytest.raises(SeliOutputError, match=r"No space left on device"):
            atomic_write(disk / "x.bin", b"\1" * 20_000)
        assert (disk / "x.bin").read_text() == "old"
        assert sorted(x.name for x in disk.iterdir()) == [".filler", "x.bin"]
