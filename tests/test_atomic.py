"""Atomic writes: whole files or nothing, ordinary permissions, no temporary files left."""

import os
import stat

import pytest

from seli_exact.atomic import atomic_write


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
