"""Hostile conditions around the CLI: full disks, closed or broken standard output, a removed
working folder, tensors with no plain values, finite inputs near float64's limits, library
warnings, and comma lists with empty items.

Each ends in one sentence on stderr and its documented exit status (2 bad input, 1 an output
that cannot be written, 0 for a reader that closed the pipe early), with every file that
existed before left as it was. Full disks are real where this machine lets the tests mount a
small tmpfs (as root on CI), and injected everywhere (the low-level os.write raising ENOSPC);
standard output is a real descriptor in a real child process: closed, a pipe whose reader has
gone, and /dev/full.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from seli_cli.main import main
from seli_exact import SeliInputError
from seli_io import atomic as atomic_module
from seli_exact.counts import from_counts
from seli_exact.errors import SeliOutputError
from measurement.report import measure
from seli_exact.metrics import centred_means, distances

ROOT = Path(__file__).resolve().parent.parent
SELI = [sys.executable, "-m", "seli_cli.main"]
ONE_CLAIM = "def1.counts"  # the quickest claim: `seli check` with it runs in about a second

# A user's environment: standard output block-buffered, as Python makes it for a pipe or a
# file (PYTHONUNBUFFERED, which some CI sets, would hide the failures that show only when the
# buffer is flushed at exit: "Exception ignored ... BrokenPipeError" and exit status 120).
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


# --------------------------------------------------------------------------- helpers


def mount_full_disk(disk: Path, *, free: int = 0, before: dict | None = None) -> str | None:
    """Mount a 256 KiB tmpfs at `disk` (created), write the files `before` ({relative path:
    text}) into it, then fill it until `free` bytes (whole pages) are left. None when done, else
    why it could not be (mounting needs root, and a system that permits it)."""
    disk.mkdir()
    mount = shutil.which("mount")
    if mount is None:
        return "`mount` is not installed"
    done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return done.stderr.strip() or "mount failed"
    for rel, text in (before or {}).items():
        (disk / rel).parent.mkdir(parents=True, exist_ok=True)
        (disk / rel).write_text(text)
    filler = disk / ".filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as err:
        assert err.errno == errno.ENOSPC, err
    finally:
        os.close(fd)
    if free:
        os.truncate(filler, filler.stat().st_size - free)
    st = os.statvfs(disk)
    assert st.f_bfree * st.f_frsize == free, (st.f_bfree, free)
    return None


def unmount(disk: Path) -> None:
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@contextlib.contextmanager
def full_disk(root: Path, *, free: int = 0, before: dict | None = None):
    """mount_full_disk at root/disk for the duration of a test; skips the test where mounting
    is not permitted (the fault-injection tests cover the same code there)."""
    disk = root / "disk"
    why = mount_full_disk(disk, free=free, before=before)
    if why is not None:
        pytest.skip(f"a real full disk needs a tmpfs mount, which this machine does not permit "
                    f"({why}); the fault-injection tests cover the same code")
    try:
        yield disk
    finally:
        unmount(disk)


def tree(root: Path) -> dict[str, str]:
    """{relative path: content hash} of every file under `root`."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_main(argv, cwd=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = None if cwd is None else os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        if old is not None:
            os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def one_sentence(err: str, start: str = "error: ") -> None:
    assert err.startswith(start) and err.count("\n") == 1 and err.endswith(".\n"), err
    assert "Traceback" not in err and "Warning" not in err, err


@pytest.fixture
def arrays(tmp_path):
    """W.npy, H.npy, y.npy of a small network (k = 4, d = 5), as `seli measure` reads them."""
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(4), [20, 20, 3, 3])
    M = rng.standard_normal((4, 5))
    np.save(tmp_path / "W.npy", rng.standard_normal((4, 5)))
    np.save(tmp_path / "H.npy", M[y] + 0.2 * rng.standard_normal((len(y), 5)))
    np.save(tmp_path / "y.npy", y)
    return {name: str(tmp_path / f"{name}.npy") for name in ("W", "H", "y")}


def measure_argv(arrays) -> list[str]:
    return ["measure", "--classifier", arrays["W"], "--features", arrays["H"],
            "--labels", arrays["y"]]


# Every command that writes files, with the files it writes into OUT.
WRITERS = {
    "latex": (lambda a, out: ["latex", "--out", out],
              ("formulas.tex", "formulas.md", "formulas.json")),
    "fig1": (lambda a, out: ["reproduce", "fig1", "--out", out],
             ("fig1.png", "fig1.pdf", "fig1.json")),
    "measure": (lambda a, out: measure_argv(a) + ["--out", out],
                ("measure.json", "measure.png", "measure.pdf")),
    "check": (lambda a, out: ["check", "--claims", ONE_CLAIM, "--json", f"{out}/verdicts.json"],
              ("verdicts.json",)),
}


# --------------------------------------------------------------------------- 1. full disks


@pytest.mark.parametrize("name", WRITERS)
def test_a_full_disk_is_refused_before_any_work(name, tmp_path, arrays):
    argv, files = WRITERS[name]
    before = {f"out/{f}": f"old {f}\n" for f in files}
    with full_disk(tmp_path, free=0, before=before) as disk:
        kept = tree(disk)
        code, out, err = run_main(argv(arrays, str(disk / "out")))
        assert code == 2 and out == ""
        one_sentence(err)
        assert "is on a full disk (0 bytes free" in err and "free some space" in err
        assert tree(disk) == kept


@pytest.mark.parametrize("name", ["latex", "fig1", "measure"])
def test_a_disk_that_fills_while_writing_keeps_the_old_files(name, tmp_path, arrays):
    """One page left: the up-front check passes, the write fails. Every output is several pages
    (fig1.png alone is tens of KiB), so the group fails while staging and no old file changes."""
    argv, files = WRITERS[name]
    before = {f"out/{f}": f"old {f}\n" for f in files}
    with full_disk(tmp_path, free=4096, before=before) as disk:
        kept = tree(disk)
        code, out, err = run_main(argv(arrays, str(disk / "out")))
        assert code == 1
        one_sentence(err)
        assert f"error: cannot write {disk / 'out'}/" in err and "No space left on device" in err
        assert tree(disk) == kept  # old files whole, no temporary file left


def test_full_disk_end_to_end_in_a_fresh_process(tmp_path):
    with full_disk(tmp_path, free=4096, before={"out/formulas.tex": "old\n"}) as disk:
        p = subprocess.run(SELI + ["latex", "--out", str(disk / "out")], capture_output=True,
                           text=True, timeout=300, env=USER_ENV)
        assert p.returncode == 1 and p.stdout == ""
        one_sentence(p.stderr)
        assert (disk / "out" / "formulas.tex").read_text() == "old\n"
        assert sorted(x.name for x in (disk / "out").iterdir()) == ["formulas.tex"]


class InjectedFullDisk:
    """os.write on the temporary files of seli_io.atomic writes `allow` bytes, then fails
    with ENOSPC (the disk fills mid-file); every other descriptor writes as usual."""

    def __init__(self, monkeypatch, allow: int = 100):
        self.fds: set[int] = set()
        self.allow = allow
        self.failures = 0
        real_mkstemp, real_write = atomic_module.tempfile.mkstemp, os.write

        def mkstemp(*a, **kw):
            fd, name = real_mkstemp(*a, **kw)
            self.fds.add(fd)
            return fd, name

        def write(fd, data):
            if fd not in self.fds:
                return real_write(fd, data)
            if self.allow <= 0:
                self.failures += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            n = real_write(fd, bytes(data)[: self.allow])
            self.allow -= n
            return n

        monkeypatch.setattr(atomic_module.tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(atomic_module.os, "write", write)


@pytest.mark.parametrize("name", WRITERS)
def test_injected_full_disk_is_one_sentence_and_exit_1(name, tmp_path, arrays, monkeypatch):
    argv, files = WRITERS[name]
    out = tmp_path / "out"
    out.mkdir()
    for f in files:
        (out / f).write_text(f"old {f}\n")
    kept = tree(tmp_path)
    disk = InjectedFullDisk(monkeypatch)
    code, stdout, err = run_main(argv(arrays, str(out)))
    assert disk.failures == 1 and code == 1
    one_sentence(err)
    assert f"error: cannot write {out}/" in err and "No space left on device" in err
    assert tree(tmp_path) == kept


def test_path_json_on_a_full_stdout_in_process(monkeypatch):
    """`seli path --json` writes only standard output: a failed write is exit 1, one sentence."""

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    err = io.StringIO()
    with contextlib.redirect_stdout(Full()), contextlib.redirect_stderr(err):
        code = main(["path", "--lambdas", "1e-1", "--json"])
    assert code == 1
    one_sentence(err.getvalue())
    assert err.getvalue().startswith("error: cannot write standard output: No space left")


# --------------------------------------------------------------------------- 2. standard output


def child(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(SELI + argv, stderr=subprocess.PIPE, text=True, timeout=300,
                          env=USER_ENV, **kw)


def test_closed_stdout_is_one_sentence_and_exit_1():
    p = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', *SELI, "geometry", "--json"],
                       stderr=subprocess.PIPE, text=True, timeout=300, env=USER_ENV)
    assert p.returncode == 1
    one_sentence(p.stderr)
    assert p.stderr.startswith("error: cannot write standard output: it is closed")


@pytest.mark.parametrize("argv", [["geometry", "--json"],
                                  ["geometry", "--counts", ",".join(["7"] * 150), "--json"],
                                  ["geometry", "--help"]],
                         ids=["small", "beyond-the-pipe-buffer", "help"])
def test_a_pipe_closed_by_its_reader_ends_quietly(argv):
    """Small output fails at the final flush, large output mid-write (a pipe holds 64 KiB)."""
    r, w = os.pipe()
    os.close(r)  # the reader is gone before the first byte
    try:
        p = child(argv, stdout=w)
    finally:
        os.close(w)
    assert p.returncode == 0 and p.stderr == ""  # no "Exception ignored ... BrokenPipeError"


def test_a_pipe_closed_by_head():
    big = ",".join(["7"] * 150)  # about 200 KiB of JSON
    cmd = " ".join(SELI) + f" geometry --counts {big} --json | head -c1; echo \" $?\""
    p = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], capture_output=True, text=True,
                       timeout=300, env=USER_ENV)
    assert p.stdout == "{ 0\n" and p.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["geometry", "--json"], ["geometry", "--help"], ["--version"]])
def test_stdout_on_a_full_device(argv):
    with open("/dev/full", "w") as full:
        p = child(argv, stdout=full)
    assert p.returncode == 1
    one_sentence(p.stderr)
    assert p.stderr.startswith("error: cannot write standard output: No space left on device")


def test_stdout_failures_in_process():
    class Broken(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    err = io.StringIO()
    with contextlib.redirect_stdout(Broken()), contextlib.redirect_stderr(err):
        assert main(["geometry", "--json"]) == 0
    assert err.getvalue() == ""
    saved = sys.stdout
    sys.stdout = None  # as Python starts with descriptor 1 closed
    try:
        with contextlib.redirect_stderr(err):
            assert main(["geometry"]) == 1
    finally:
        sys.stdout = saved
    one_sentence(err.getvalue())


# --------------------------------------------------------------------------- 3. removed cwd


@pytest.fixture
def gone(tmp_path):
    """A working folder removed while standing in it (`cd d; rm -r ../d`)."""
    old = os.getcwd()
    d = tmp_path / "d"
    d.mkdir()
    os.chdir(d)
    os.rmdir(d)
    yield d
    os.chdir(old)


REMOVED_CWD = [
    ["latex", "--out", "rel"],
    ["reproduce", "fig1", "--out", "rel"],
    ["check", "--json", "rel.json", "--claims", ONE_CLAIM],
    ["geometry", "--counts-file", "counts.txt"],
    ["measure", "--classifier", "W.npy", "--features", "H.npy", "--labels", "y.npy"],
    ["sweep", "grid.toml", "--dry-run"],
    ["reproduce", "fig3", "--out", "rel"],
    ["path", "--lambdas", "1e-1"],  # no path at all: refused too (torch cannot even load there)
]


@pytest.mark.parametrize("argv", REMOVED_CWD, ids=lambda a: " ".join(a)[:40])
def test_a_removed_working_folder_is_one_sentence(argv, gone):
    code, out, err = run_main(argv)
    assert code == 2 and out == ""
    one_sentence(err)
    assert "the current folder no longer exists" in err and "cd to an existing folder" in err


def test_a_removed_working_folder_in_a_fresh_process(tmp_path, arrays):
    """In a real process too, including a command that loads torch (which, unchecked, dies in
    MKL with "oneMKL FATAL ERROR" in a removed folder)."""
    d = tmp_path / "d"
    d.mkdir()
    for argv in (["latex", "--out", "rel"], measure_argv(arrays)):
        shell = f'cd "{d}" && rmdir "{d}" && exec "$0" "$@"'
        p = subprocess.run(["sh", "-c", shell, *SELI, *argv], capture_output=True, text=True,
                           timeout=300, env=USER_ENV)
        d.mkdir()
        assert p.returncode == 2 and p.stdout == ""
        one_sentence(p.stderr)


def test_library_readers_refuse_relative_paths_in_a_removed_folder(gone):
    from seli_exact.counts import counts_from_file
    from measurement.sources import load_source

    with pytest.raises(SeliInputError, match=r"`--features` 'H\.npy' is relative to the current "
                       r"folder, which no longer exists"):
        load_source("H.npy", "--features")
    with pytest.raises(SeliInputError, match=r"`counts-file` 'c\.txt' is relative"):
        counts_from_file("c.txt")
    with pytest.raises(SeliOutputError,
                       match=r"cannot write out\.json: .*; the folder was removed"):
        atomic_module.atomic_write("out.json", "x")


# --------------------------------------------------------------------------- 4. tensors


def test_measure_names_the_file_key_and_fix_of_an_unreadable_tensor(tmp_path, arrays):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():  # building the hostile tensors warns (beta, deprecated)
        warnings.simplefilter("ignore")
        bad = {"sparse": torch.randn(4, 5).to_sparse(),
               "meta": torch.empty(4, 5, device="meta"),
               "quantized": torch.quantize_per_tensor(torch.randn(4, 5), 0.1, 0, torch.qint8)}
    torch.save(bad, tmp_path / "bad.pt")
    fixes = {"sparse": r"has layout sparse_coo, not a dense tensor; save it dense, "
                       r"torch\.save\(t\.to_dense\(\), path\)\.",
             "meta": r"is on the meta device: it has a shape but no values",
             "quantized": r"is quantized \(qint8\); save its real values, "
                          r"torch\.save\(t\.dequantize\(\), path\)\."}
    for key, fix in fixes.items():
        argv = measure_argv(arrays)
        argv[2] = f"{tmp_path}/bad.pt:{key}"
        code, out, err = run_main(argv)
        assert code == 2 and out == ""
        one_sentence(err)
        assert err.startswith(f"error: `--classifier` tensor '{key}' in {tmp_path}/bad.pt ")
        assert re.search(fix, err), err


def test_one_sentence_in_a_fresh_process_with_default_warnings(tmp_path, arrays):
    """Loading a quantized tensor makes torch warn (TypedStorage is deprecated); the user still
    reads one sentence."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save({"w": torch.quantize_per_tensor(torch.randn(4, 5), 0.1, 0, torch.qint8)},
                   tmp_path / "q.pt")
    argv = measure_argv(arrays)
    argv[2] = f"{tmp_path}/q.pt:w"
    p = subprocess.run(SELI + argv, capture_output=True, text=True, timeout=300,
                       env={**USER_ENV, "PYTHONWARNINGS": "default"})
    assert p.returncode == 2 and p.stdout == ""
    one_sentence(p.stderr)


# --------------------------------------------------------------------------- 5. scale


def network(seed=0):
    rng = np.random.default_rng(seed)
    counts = [40, 30, 10, 5, 3]
    k, d = len(counts), 7
    y = np.repeat(np.arange(k), counts)
    rng.shuffle(y)
    W = rng.standard_normal((k, d))
    M = rng.standard_normal((k, d)) + 1.5 * rng.standard_normal(d)
    H = M[y] + 0.3 * rng.standard_normal((len(y), d))
    return W, H, y, rng.standard_normal(k), counts


# Scale-free outputs of measure (all but the norms and their fitted scales).
INVARIANT = ("distance_to_seli", "distance_to_etf", "nc1", "nc2", "nc3", "nc4", "nc4_per_class")


@pytest.mark.parametrize("s", [600, -600, 1000, -1000, 300, -300])
def test_measure_is_exactly_scale_invariant(s):
    """Multiplying W and H by 2^s is exact in binary floating point (no entry leaves the normal
    range here), and measure divides every input by a power of two before squaring: the
    scale-free outputs must be equal bit for bit (tolerance 0), the norms and fitted scales
    exactly 2^s times the unscaled ones. Before, 2^600 overflowed W^T W to inf (a traceback,
    "AngleErrors.etf must lie in [0, 2]; got nan") and 2^-600 underflowed it to 0 ("class
    means ... are zero"). The bias, which adds to logits that scale by 2^(2s), is scaled by
    2^(2s) where that is representable."""
    W, H, y, b, _ = network()
    bias = b if abs(2 * s) < 1000 else None
    ref = measure(W, H, y, bias=bias).as_dict()
    got = measure(np.ldexp(W, s), np.ldexp(H, s), y,
                  bias=None if bias is None else np.ldexp(b, 2 * s)).as_dict()
    for key in INVARIANT:
        assert got[key] == ref[key], key
    for kind in ("classifiers", "embeddings"):
        g, r = got["norms"][kind], ref["norms"][kind]
        assert g["error_seli"] == r["error_seli"] and g["error_etf"] == r["error_etf"]
        for key in ("measured", "seli", "scale"):
            assert np.array_equal(g[key], np.ldexp(r[key], s)), (kind, key)


def test_measure_equals_the_unscaled_formulas_in_the_normal_range():
    """The scaling changes nothing where the direct formulas work: Sec. 5's distances of
    seli_exact.metrics on the unscaled class means (the route measure took before) agree bit
    for bit, since every intermediate is the direct one times a power of two."""
    W, _, _, _, counts = network()
    M = np.random.default_rng(5).standard_normal((len(counts), W.shape[1])) * 3.0
    m = measure(W, M, counts=counts)
    direct = distances(W.T, centred_means(M.T, "balanced", counts), counts)
    for kind in ("classifiers", "embeddings", "logits"):
        assert getattr(m.distance_to_seli, kind) == float(getattr(direct.seli, kind))
        assert getattr(m.distance_to_etf, kind) == float(getattr(direct.etf, kind))


def test_class_vectors_of_very_different_sizes_keep_their_angles():
    """A classifier row 2^-1000 times the others: its cosines are those of the unscaled row
    (each vector is scaled by its own power of two for NC2), and its norm is reported."""
    W, H, y, _, _ = network()
    W2 = W.copy()
    W2[0] = np.ldexp(W[0], -1000)
    m, ref = measure(W2, H, y), measure(W, H, y)
    assert m.nc2_classifiers == ref.nc2_classifiers
    assert m.classifier_norms.measured[0] == np.ldexp(ref.classifier_norms.measured[0], -1000)


def test_class_means_near_the_underflow_are_measured():
    """Means of size 2^-1000: their squares (2^-2000) underflow to 0, the means themselves are
    normal floats (every entry is above 2^-20 here, so above 2^-1020 after scaling, and the
    smallest normal float64 is 2^-1022), so the results are bit for bit the unscaled ones."""
    W, _, _, _, counts = network()
    M = np.random.default_rng(5).standard_normal((len(counts), W.shape[1]))
    assert np.abs(M).min() > 2.0**-20
    tiny, ref = measure(W, np.ldexp(M, -1000), counts=counts), measure(W, M, counts=counts)
    assert tiny.distance_to_seli == ref.distance_to_seli and tiny.nc3 == ref.nc3


def test_norms_beyond_float64_are_one_sentence():
    """Every entry 1.5e308 is finite, but the row norms (1.5e308 sqrt(7)) are not: the
    scale-free numbers could be computed, the norms cannot be reported; one sentence says so."""
    W, H, y, _, _ = network()
    with pytest.raises(SeliInputError, match=r"the row norms of `W` \(classifier\) exceed "
                       r"float64's range \(about 1\.8e308\), so they cannot be reported; divide "
                       r"the input by a power of two"):
        measure(np.full_like(W, 1.5e308) * np.sign(W), H, y)


def test_huge_inputs_through_the_cli_print_no_warning(tmp_path, arrays):
    W = np.load(arrays["W"])
    np.save(tmp_path / "W_huge.npy", np.ldexp(W, 900))
    argv = measure_argv(arrays)
    argv[2] = str(tmp_path / "W_huge.npy")
    p = subprocess.run(SELI + argv + ["--json"], capture_output=True, text=True, timeout=300,
                       env={**USER_ENV, "PYTHONWARNINGS": "default"})
    assert p.returncode == 0 and p.stderr == ""
    ref = run_main(measure_argv(arrays) + ["--json"])[1]
    got, ref = json.loads(p.stdout), json.loads(ref)
    assert got["distance_to_seli"] == ref["distance_to_seli"] and got["nc1"] == ref["nc1"]


# --------------------------------------------------------------------------- 6. warnings


def test_library_warnings_are_held_back_until_the_command_succeeds(monkeypatch):
    import seli_cli.geometry as geometry

    table = geometry.geometry_table

    def warned(*a, **kw):
        warnings.warn("overflow encountered in something", RuntimeWarning)
        return table(*a, **kw)

    monkeypatch.setattr(geometry, "geometry_table", warned)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as outside pytest
        code, out, err = run_main(["geometry"])
    assert code == 0 and out.startswith("SELI geometry")
    assert err == "warning: overflow encountered in something (RuntimeWarning)\n"


def test_library_warnings_before_an_error_are_dropped(monkeypatch):
    import seli_cli.geometry as geometry

    def warned_then_refused(args):
        warnings.warn("weights_only is deprecated", FutureWarning)
        raise SeliInputError("`--k` must be at least 2; got k=1.")

    monkeypatch.setattr(geometry, "check_args", warned_then_refused)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code, out, err = run_main(["geometry"])
    assert code == 2 and err == "error: `--k` must be at least 2; got k=1.\n"


# --------------------------------------------------------------------------- 7. comma lists


@pytest.mark.parametrize("argv", [
    ["geometry", "--counts", "5,,2"],
    ["geometry", "--counts", ",5,2"],
    ["geometry", "--counts", "5,2,"],
    ["geometry", "--counts", "5, ,2"],
    ["geometry", "--counts", "5 5,2"],
    ["path", "--lambdas", "1e-1,,1e-2"],
    ["path", "--lambdas", "1e-1,1e-2,"],
    ["path", "--lambdas", "1 0,1e-2"],
    ["check", "--claims", f"{ONE_CLAIM},,{ONE_CLAIM}"],
    ["reproduce", "fig3", "--R", "2,,5", "--out", "figs"],
    ["reproduce", "longtail", "--profile", "exp:k=10:ratio=1,,100", "--out", "figs"],
    ["geometry", "--profile", "exp:k=10:ratio=100:"],
], ids=lambda a: " ".join(a)[:50])
def test_an_empty_list_item_is_refused(argv, tmp_path):
    code, out, err = run_main(argv, cwd=tmp_path)
    assert code == 2 and out == ""
    one_sentence(err)
    assert not (tmp_path / "figs").exists()


def test_from_counts_reads_what_it_was_given():
    assert from_counts(" 5, 5 ,2 ").counts == (5, 5, 2)
    for text in ("5,,2", ",5,2", "5,2,", "5,\t,2", "5 5,2"):
        with pytest.raises(SeliInputError, match=r"^`counts` (has an empty item|item '5 5' has "
                           r"a space inside)"):
            from_counts(text)


# --------------------------------------------------------------------------- 8. overwriting


def test_outputs_named_by_the_user_are_replaced_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "formulas.tex").write_text("old\n")
    (out / "verdicts.json").write_text("old\n")
    assert run_main(["latex", "--out", str(out)])[0] == 0
    assert run_main(["check", "--claims", ONE_CLAIM, "--json", str(out / "verdicts.json")])[0] == 0
    assert (out / "formulas.tex").read_text().startswith("\\documentclass")
    assert json.loads((out / "verdicts.json").read_text())["claims"][0]["id"] == ONE_CLAIM
    assert sorted(p.name for p in out.iterdir()) == ["formulas.json", "formulas.md",
                                                     "formulas.tex", "verdicts.json"]
    for argv in (["latex", "--help"], ["check", "--help"], ["reproduce", "fig1", "--help"],
                 ["measure", "--help"]):
        code, text, _ = run_main(argv)
        assert code == 0 and "replaced" in " ".join(text.split()), argv


def test_closed_descriptors_are_held_by_devnull(tmp_path):
    """Started with stdin and stderr closed, the next files opened would take descriptors 0 and
    2, and anything written to "standard error" at the C level would land in an output file;
    main opens /dev/null on them first."""
    code = ("import os\n"
            "os.close(0); os.close(2)\n"
            "from seli_cli.main import _occupy_closed_descriptors\n"
            "_occupy_closed_descriptors()\n"
            "null = os.stat(os.devnull)\n"
            "print(all(os.fstat(fd).st_rdev == null.st_rdev for fd in (0, 2)))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.stdout == "True\n", p.stderr
    out = tmp_path / "out"
    p = subprocess.run(["sh", "-c", 'exec "$0" "$@" <&- 2>&-', *SELI, "latex", "--out", str(out)],
                       capture_output=True, text=True, timeout=300, env=USER_ENV)
    assert p.returncode == 0
    assert json.loads((out / "formulas.json").read_text())
