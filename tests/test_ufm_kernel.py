"""The compiled UFM kernel's build: cache key, concurrent builders, and the fallback without cc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from training import _ufm_kernel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler")


@needs_cc
def test_cache_name_follows_source_flags_and_compiler(monkeypatch, tmp_path):
    monkeypatch.setenv("SELI_CACHE", str(tmp_path))
    base = _ufm_kernel.cache_path(CC)
    assert base.parent == tmp_path / "seli" and base.name.startswith("ufm_kernel_")
    assert _ufm_kernel.cache_path(CC) == base  # deterministic
    monkeypatch.setattr(_ufm_kernel, "SOURCE", _ufm_kernel.SOURCE + "\n/* edited */\n")
    edited = _ufm_kernel.cache_path(CC)
    monkeypatch.undo()
    monkeypatch.setenv("SELI_CACHE", str(tmp_path))
    monkeypatch.setattr(_ufm_kernel, "FLAGS", _ufm_kernel.FLAGS + ("-ffast-math",))
    flagged = _ufm_kernel.cache_path(CC)
    assert len({base, edited, flagged}) == 3  # a stale build is never picked up


BUILD = """
import sys
from training import _ufm_kernel
lib = _ufm_kernel.load()
print("ok" if lib is not None else "none:" + str(_ufm_kernel.error()))
"""


@needs_cc
def test_concurrent_builds_leave_one_whole_library(tmp_path):
    """Two processes build into one empty cache at once (sweep cells starting together)."""
    env = dict(os.environ, SELI_CACHE=str(tmp_path), PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", BUILD], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [o.strip() for o, _ in outs] == ["ok"] * 2, outs
    left = sorted(p.name for p in (tmp_path / "seli").iterdir())
    assert len(left) == 1 and left[0].endswith(".so")  # no temporary folders or partial files


def test_no_compiler_falls_back_to_torch_with_a_note(monkeypatch, tmp_path, capsys):
    from seli_cli.main import main

    monkeypatch.setenv("SELI_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setattr(_ufm_kernel, "_LIB", None)  # forget this process's build (restored after)
    monkeypatch.setattr(_ufm_kernel, "_LIB_ERROR", None)
    assert _ufm_kernel.load() is None
    assert _ufm_kernel.error().startswith("the C compiler") and "no-such-cc" in _ufm_kernel.error()
    flags = ["--R", "10", "--seeds", "0", "--n-target", "24", "--epochs", "3", "--no-progress"]
    assert main(["train", "ufm", "--out", str(tmp_path / "run"), *flags]) == 0
    run = capsys.readouterr()
    assert run.err.startswith("note: the compiled kernel engine is unavailable (the C compiler")
    assert "slower batched torch engine" in run.err and run.err.count("\n") == 1
    assert run.out.startswith("torch engine, 1 runs, 3 epochs")
    # asking for the kernel by name is bad input, not a silent substitution
    assert main(["train", "ufm", "--out", str(tmp_path / "k"), "--engine", "kernel", *flags]) == 2
    assert capsys.readouterr().err.startswith("error: `engine` kernel needs a C compiler")
    assert not (tmp_path / "k").exists()
