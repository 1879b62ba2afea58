"""Self-fuzzing of the CLI: every subcommand, built from its own parser, fed hostile values.

For each command (discovered from the real parser, targets of `seli reproduce` and `seli train`
included), Hypothesis builds argument vectors from the command's own flags and choices, with
values that are huge, tiny, negative, NaN, infinite, empty, unicode, very long, special or
read-only paths, existing files and folders, a folder on a full disk (where this machine lets
the suite mount a small tmpfs), comma lists with empty items; some calls run in a working folder
that was removed. Every call must

  * exit with status 0 or 2, or 1 with the one sentence of an output that cannot be written
    ("error: cannot write ..."), with no exception escaping `main` and no traceback printed;
  * print at most two lines on stderr;
  * leave every file that existed before the call as it was (a sandbox tree of files, folders,
    a read-only folder, links, a named pipe and a full disk is snapshotted around each call);
  * for a command that checks its input (`check_args`, see seli_cli.main), refuse an empty
    value, a non-finite or overflowing numeral given to a flag that is not a path, and a comma
    list with an empty item ("5,,2") or a space inside an item ("5 5,2").

How heavy work is kept out: the calls go through `main(argv, check_only=True)`, the documented
hook that parses, runs the command's `check_args` (every check of its input, the real code
that `run` calls first) and stops before any work. So a few hundred cases take seconds, and the
checks that run are the ones users meet. A command without `check_args` is fuzzed as far as its
parser goes (`CHECKED` lists which commands have the hook); a small subprocess sample runs the
real console entry on cheap cases, end to end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seli_cli.main import build_parser, main

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# the commands, from the real parser


@dataclass(frozen=True)
class Flag:
    options: tuple[str, ...]     # ("--out",); () for a positional
    dest: str
    takes_value: bool
    choices: tuple[str, ...]
    required: bool
    path: bool                   # the value names a file or a folder


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]       # ("reproduce", "fig1")
    flags: tuple[Flag, ...]
    checked: bool                # has a check_args hook

    @property
    def name(self) -> str:
        return " ".join(self.words)


PATH_DESTS = {"out", "json", "counts_file", "data_root", "grid", "classifier", "features",
              "labels", "bias", "means", "file", "path"}
PATH_METAVARS = {"DIR", "FILE", "SRC", "GRID.toml", "PATH", "F"}


def _subparsers(parser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _flags(parser) -> tuple[Flag, ...]:
    out = []
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) or a.dest in (
                "help", "version") or a.dest.startswith("_"):
            continue
        takes = a.nargs != 0
        meta = a.metavar if isinstance(a.metavar, str) else ""
        path = a.dest in PATH_DESTS or meta in PATH_METAVARS or meta.endswith(".toml")
        out.append(Flag(tuple(a.option_strings), a.dest, takes,
                        tuple(map(str, a.choices or ())), bool(a.required) or not a.option_strings,
                        path))
    return tuple(out)


def discover() -> list[Command]:
    """Every leaf command of `seli`, with its flags, as the real parser builds them."""
    top, _ = build_parser([])
    commands = []
    for name in _subparsers(top).choices:
        parser, module = build_parser([name])
        leaf = _subparsers(parser).choices[name]
        targets = _subparsers(leaf)
        if targets is None:
            checked = getattr(module, "check_args", None) is not None
            commands.append(Command((name,), _flags(leaf), checked))
            continue
        for target in targets.choices:
            parser, module = build_parser([name, target])
            inner = _subparsers(_subparsers(parser).choices[name]).choices[target]
            # the target's check_args is recorded by seli_cli.dispatch as the `_check` default
            checked = inner.get_default("_check") is not None
            commands.append(Command((name, target), _flags(inner), checked))
    return commands


COMMANDS = discover()
CHECKED = sorted(c.name for c in COMMANDS if c.checked)

# ---------------------------------------------------------------------------------------------
# hostile values

NUMBERS = [
    "0", "1", "2", "3", "4", "-1", "-0", "+5", "2.5", "1/3", "1/2", "0.3333333333333333",
    "1e400", "-1e400", "1e300", "1e-300", "1e308", "1e-320", "nan", "NaN", "inf", "-inf",
    "Infinity", "99999999999999999999999999", "9" * 80, "9" * 400, "1e9999999999", "0x10",
    "1_000",
    "100000", "20000", "4503599627370497", "١٢", "½", "3.0", "1e5", "5e-1",
]
LISTS = [
    ",", "1,,2", " , ", "5,5,2", "50,50,5,5", "1,1e300", "nan,1", "1,2,3,4", "0,1", "-1,2",
    "1,10,100", "inf,1", "1e400,2", ",".join(["7"] * 3000), ",".join(map(str, range(1, 20001))),
    "exp:k=10:ratio=100", "exp:k=100000:ratio=100", "exp:k=4:ratio=1e300", "step:k=4:R=10:rho=1/2:n_min=5",
    "logspace:-8:0:17", "logspace:-400:0:3", "logspace:0:1:1000000",
    "5,,2", ",5,2", "5,2,", "5 5,2", "1e-1,,1e-2", "exp:k=10:ratio=1,,100", "2, ,5",
]
TEXTS = [
    "", " ", "\t", "abc", "é", "名前", "😀", "\u202e", "x" * 5000, "-", "--", "a\nb", "a\x00b",
    "auto", "127.0.0.1:1", "ray://127.0.0.1:1", "cuda", "cpu", "cuda:99", "mlp", "none",
    "True", "None", "[]", "{}", "../../..", "%s%n",
]
# numerals no float64 holds: every flag must refuse them (1e26 and 1e80 are finite, and some
# ranges hold them: lambda goes up to 1e100; flags with smaller ranges refuse them by range)
NON_FINITE = {"nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e9999999999", "9" * 400}


def make_tree(root: Path) -> dict[str, str]:
    """The sandbox: pre-existing files and folders the fuzzer points outputs at."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cwd").mkdir()
    (root / "folder").mkdir()
    (root / "folder" / "kept.txt").write_text("kept\n")
    (root / "existing.txt").write_text("precious data\n")
    (root / "existing.json").write_text('{"precious": true}\n')
    (root / "counts.txt").write_text("500\n120\n40\n9\n3\n")
    (root / "counts.json").write_text("[50, 50, 5, 5]\n")
    (root / "bad_counts.txt").write_text("5\n-3\nnan\n")
    (root / "big.txt").write_bytes(b"1\n" * 3_000_000)
    (root / "ro").mkdir()
    (root / "ro" / "inside.txt").write_text("read-only folder's file\n")
    os.chmod(root / "ro", 0o555)
    (root / "unicodé 名.txt").write_text("unicode name\n")
    (root / "link_to_existing").symlink_to(root / "existing.txt")
    (root / "dangling").symlink_to(root / "nowhere" / "x")
    os.mkfifo(root / "fifo")
    np.save(root / "W.npy", np.eye(4, 3))
    np.save(root / "H.npy", np.ones((8, 3)))
    np.save(root / "y.npy", np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    for name in ("sweep_path.toml", "sweep_ufm_small.toml"):
        shutil.copy(ROOT / "examples" / name, root / name)
    (root / "bad_grid.toml").write_text('command = "path"\n[grid]\nR = [1e400]\n')
    os.chmod(root / "existing.txt", 0o444)
    named = {p.name: str(p) for p in root.iterdir()}
    return named


def path_values(tree: dict[str, str]) -> list[str]:
    r = Path(tree["cwd"]).parent
    full = [tree["full"], tree["full"] + "/kept.txt", tree["full"] + "/new"] if "full" in tree \
        else []
    return full + [
        "", " ", ".", "./", "..", "~", tree["existing.txt"], tree["existing.json"],
        tree["folder"], tree["folder"] + "/", tree["folder"] + "/kept.txt",
        tree["existing.txt"] + "/sub", str(r / "new" / "out"), "new_out", "new.json",
        tree["ro"], tree["ro"] + "/x", tree["ro"] + "/inside.txt", tree["link_to_existing"],
        tree["dangling"], tree["fifo"], tree["counts.txt"], tree["counts.json"],
        tree["bad_counts.txt"], tree["big.txt"], tree["unicodé 名.txt"], tree["W.npy"],
        tree["H.npy"], tree["y.npy"], tree["W.npy"] + ":KEY", tree["sweep_path.toml"],
        tree["sweep_ufm_small.toml"], tree["bad_grid.toml"], "/proc/self/x", "/proc", "/sys",
        "/sys/kernel/x", "/dev/null", "/dev/zero", "/dev/stdout", "/dev/full", "/",
        "x" * 300, "a/" * 2000 + "f", "nan", "inf", "名前/😀",
    ]


def snapshot(root: Path) -> dict[str, tuple]:
    """Kind, mode, size and content hash of everything under `root` (mtimes are not compared:
    a refusal may not write, and the hash catches any write that changed a byte)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st_ = p.lstat()
            digest = ""
            if stat.S_ISREG(st_.st_mode):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p)] = (stat.S_IFMT(st_.st_mode), stat.S_IMODE(st_.st_mode), st_.st_size,
                           digest, os.readlink(p) if stat.S_ISLNK(st_.st_mode) else "")
    return out


# ---------------------------------------------------------------------------------------------
# one call


@dataclass
class Outcome:
    argv: list[str]
    code: object
    out: str
    err: str
    exc: BaseException | None


def call(argv: list[str], cwd: str, *, check_only: bool = True, removed: bool = False) -> Outcome:
    """main(argv) in `cwd`, or with removed=True in a fresh folder under `cwd` that is removed
    before the call (`cd d; rm -r ../d; seli ...`)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    exc, code = None, None
    os.chdir(cwd)
    if removed:
        gone = tempfile.mkdtemp(dir=cwd)
        os.chdir(gone)
        os.rmdir(gone)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv, check_only=check_only)
    except BaseException as e:  # noqa: BLE001 - any escape is a finding, reported with its argv
        exc = e
    finally:
        os.chdir(old)
    return Outcome(argv, code, out.getvalue(), err.getvalue(), exc)


def problems(o: Outcome, command: Command, before: dict, after: dict) -> list[str]:
    """What is wrong with one outcome (empty when it is fine)."""
    found = []
    if o.exc is not None:
        found.append(f"exception {type(o.exc).__name__}: {str(o.exc)[:200]}")
    elif o.code == 1 and not (o.err.startswith("error: cannot write ") and o.err.count("\n") == 1):
        found.append("exit status 1 without the one sentence of an output that cannot be written")
    elif o.code not in (0, 1, 2):
        found.append(f"exit status {o.code!r}")
    if "Traceback" in o.err:
        found.append("traceback on stderr")
    lines = o.err.count("\n") + (0 if o.err.endswith("\n") or not o.err else 1)
    if lines > 2:
        found.append(f"{lines} lines on stderr")
    changed = sorted(p for p in before if after.get(p) != before[p])
    if changed:
        found.append(f"changed pre-existing files {changed[:3]}")
    if command.checked and o.code == 0 and o.exc is None and not _is_help(o.argv):
        found += silent_acceptances(o.argv, command)
    return found


def _is_help(argv: list[str]) -> bool:
    return any(w in ("-h", "--help") for w in argv)


def silent_acceptances(argv: list[str], command: Command) -> list[str]:
    """Values a checked command must refuse: empty text anywhere, a non-finite or overflowing
    numeral where a non-path value is wanted, a comma list with an empty item or a space inside
    an item where a non-path value is wanted."""
    found = []
    by_option = {o: f for f in command.flags for o in f.options}
    for i, w in enumerate(argv[:-1]):
        f = by_option.get(w)
        if f is None or not f.takes_value or f.choices:
            continue
        v = argv[i + 1]
        if not v.strip():
            found.append(f"accepted the empty value {v!r} for {w}")
        elif not f.path and v.strip() in NON_FINITE:
            found.append(f"accepted the non-finite numeral {v!r} for {w}")
        elif not f.path and "," in v and any(not x.strip() or len(x.split()) > 1
                                             for x in v.split(",")):
            found.append(f"accepted the comma list {v!r} with an empty or spaced item for {w}")
    return found


# ---------------------------------------------------------------------------------------------
# argument vectors


def _value(flag: Flag, paths: list[str]):
    pools = [st.sampled_from(NUMBERS), st.sampled_from(LISTS), st.sampled_from(TEXTS),
             st.text(max_size=20)]
    if flag.path:
        pools = [st.sampled_from(paths)] * 4 + pools
    if flag.choices:
        pools = [st.sampled_from(flag.choices)] * 4 + pools
    return st.one_of(*pools)


@st.composite
def invocations(draw, command: Command, paths: list[str]):
    argv = list(command.words)
    positional = [f for f in command.flags if not f.options]
    optional = [f for f in command.flags if f.options]
    for f in positional:
        argv.append(draw(_value(f, paths)))
    chosen = draw(st.lists(st.sampled_from(optional), max_size=6, unique_by=lambda f: f.dest)) \
        if optional else []
    required = [f for f in optional if f.required and f not in chosen]
    chosen += [f for f in required if draw(st.booleans()) or draw(st.booleans())]
    for f in draw(st.permutations(chosen)):
        argv.append(draw(st.sampled_from(f.options)))
        if f.takes_value:
            argv.append(draw(_value(f, paths)))
    if draw(st.integers(0, 19)) == 0:
        argv.append(draw(st.sampled_from(["--bogus", "-x", "--", "-h", "extra"])))
    return argv


# ---------------------------------------------------------------------------------------------
# the tests


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from tests.test_hostile_io import mount_full_disk, unmount

    root = tmp_path_factory.mktemp("fuzz")
    tree = make_tree(root)
    # a folder on a full disk, where this machine permits a tmpfs mount (as root on CI)
    if mount_full_disk(root / "full", before={"kept.txt": "on a full disk\n"}) is None:
        tree["full"] = str(root / "full")
    yield root, tree
    if "full" in tree:
        unmount(root / "full")
    os.chmod(root / "ro", 0o755)


def test_every_command_is_discovered():
    names = {c.name for c in COMMANDS}
    top, _ = build_parser([])
    assert {n.split()[0] for n in names} == set(_subparsers(top).choices)
    assert {"geometry", "reproduce fig1", "sweep", "train ufm"} <= names
    # the commands owned by this suite's boundary checks must offer the hook
    assert {"geometry", "reproduce fig1", "sweep"} <= set(CHECKED)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name.replace(" ", "-"))
def test_fuzz_in_process(command, sandbox):
    root, tree = sandbox
    paths = path_values(tree)

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large], deadline=None)
    @given(argv=invocations(command, paths), removed=st.integers(0, 9).map(lambda i: i == 0))
    def case(argv, removed):
        before = snapshot(root)
        o = call(argv, tree["cwd"], removed=removed)
        after = snapshot(root)
        found = problems(o, command, before, after)
        assert not found, f"seli {' '.join(map(repr, argv))}: {'; '.join(found)}\n{o.err}"

    case()


# The cases from issue 14 and their like, through the full command where it is cheap: each must
# be refused with one sentence and exit status 2, and leave the sandbox as it was.
REFUSED = [
    ["geometry", "--k", "100000"],
    ["geometry", "--counts", ",".join(map(str, range(1, 20001)))],
    ["geometry", "--digits", "100000"],
    ["geometry", "--digits", "0"],
    ["geometry", "--counts", "1,1e300"],
    ["geometry", "--R", "1e300"],
    ["geometry", "--k", "1e400"],
    ["geometry", "--R", ""],
    ["geometry", "--counts", ""],
    ["geometry", "--rho", "0.333333", "--k", "3"],
    ["geometry", "--counts", "5,5,2", "--profile", "exp:k=4:ratio=10"],
    ["geometry", "--k", "4", "--counts-file", "{counts.txt}"],
    ["geometry", "--counts-file", "{fifo}"],
    ["geometry", "--counts-file", "{big.txt}"],
    ["geometry", "--counts-file", "/dev/zero"],
    ["reproduce", "fig1", "--out", ""],
    ["reproduce", "fig1", "--out", "{existing.txt}"],
    ["reproduce", "fig1", "--out", "/proc/seli"],
    ["reproduce", "fig1", "--out", "/sys/seli"],
    ["reproduce", "fig1", "--out", "{existing.txt}/sub"],
    ["reproduce", "fig1", "--counts", "3,2,1", "--out", "{folder}"],
    ["sweep", "{sweep_path.toml}", "--dry-run", "--gather-only"],
    ["sweep", "{sweep_path.toml}", "--out", "{existing.txt}"],
    ["sweep", "{sweep_path.toml}", "--dry-run", "--out", ""],
    ["sweep", "{sweep_path.toml}", "--dry-run", "--cpus", "99999999999"],
    ["sweep", "{bad_grid.toml}", "--dry-run"],
    ["sweep", "{fifo}"],
    ["check", "--json", "~seli-no-such-user/verdicts.json"],
    ["reproduce", "fig1", "--out", "~seli-no-such-user"],
    # comma lists with an empty item, or a space inside an item, were read without it
    ["geometry", "--counts", "5,,2"],
    ["geometry", "--counts", "5,2,"],
    ["geometry", "--counts", "5 5,2"],
    ["path", "--lambdas", "1e-1,,1e-2"],
    ["check", "--claims", "def1.counts,,def1.counts"],
    ["reproduce", "fig3", "--R", "2,,5", "--out", "{folder}"],
    ["measure", "--classifier", "{W.npy}", "--means", "{H.npy}", "--counts", "5,,2"],
]


@pytest.mark.parametrize("argv", REFUSED, ids=lambda a: " ".join(a)[:60])
def test_known_hostile_inputs_are_one_sentence(argv, sandbox):
    root, tree = sandbox
    argv = [re.sub(r"\{([^}]+)\}", lambda m: tree[m.group(1)], w) for w in argv]
    before = snapshot(root)
    o = call(argv, tree["cwd"], check_only=False)
    assert o.exc is None and o.code == 2, (o.code, o.exc, o.err)
    assert o.err.startswith("error: ") and o.err.count("\n") == 1 and o.out == ""
    assert snapshot(root) == before


def test_rho_decimal_of_a_whole_class_count_is_accepted(sandbox):
    _, tree = sandbox
    o = call(["geometry", "--rho", "0.3333333333333333", "--k", "3", "--json"], tree["cwd"],
             check_only=False)
    assert o.code == 0 and json.loads(o.out)["class_counts"] == [50, 50, 5]


def test_counts_sources(sandbox):
    _, tree = sandbox
    for argv, counts in [(["--counts-file", tree["counts.txt"]], [500, 120, 40, 9, 3]),
                         (["--counts-file", tree["counts.json"]], [50, 50, 5, 5]),
                         (["--profile", "exp:k=5:ratio=16:n_max=160"], [160, 80, 40, 20, 10])]:
        o = call(["geometry", *argv, "--json"], tree["cwd"], check_only=False)
        assert o.code == 0, o.err
        assert json.loads(o.out)["class_counts"] == counts


# A small sample through the real console entry, end to end in a fresh process: what the
# in-process calls cannot see (import-time failures, output of C code, the exit status itself).
SUBPROCESS = [
    (["--version"], 0),
    (["geometry", "--counts", "5,5,2", "--json"], 0),
    (["geometry", "--k", "1e400"], 2),
    (["geometry", "--digits", "100000"], 2),
    (["geometry", "--k", "100000"], 2),
    (["geometry", "--counts", "1,1e300"], 2),
    (["reproduce", "fig1", "--out", ""], 2),
    (["sweep", str(ROOT / "examples" / "sweep_path.toml"), "--dry-run", "--gather-only"], 2),
]


@pytest.mark.parametrize("argv, expected", SUBPROCESS, ids=lambda a: str(a)[:50])
def test_subprocess_sample(argv, expected, sandbox):
    root, tree = sandbox
    before = snapshot(root)
    p = subprocess.run([sys.executable, "-m", "seli_cli.main", *argv], capture_output=True,
                       text=True, cwd=tree["cwd"], timeout=120)
    assert p.returncode == expected, p.stderr
    assert "Traceback" not in p.stderr and p.stderr.count("\n") <= (0 if expected == 0 else 1)
    assert snapshot(root) == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name.replace(" ", "-"))
def test_help_of_every_command_in_a_fresh_process(command):
    p = subprocess.run([sys.executable, "-m", "seli_cli.main", *command.words, "--help"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stderr == "" and "usage: seli" in p.stdout


def test_the_fuzzer_sees_what_it_must():
    """The checks of `problems` can fail: a traceback, a third stderr line, a changed file and a
    silent acceptance are each reported."""
    geometry = next(c for c in COMMANDS if c.words == ("geometry",))
    ok = Outcome(["geometry"], 0, "", "", None)
    assert problems(ok, geometry, {"a": 1}, {"a": 1}) == []
    bad = [Outcome(["geometry"], None, "", "", ValueError("boom")),
           Outcome(["geometry"], 1, "", "Traceback (most recent call last):\n", None),
           Outcome(["geometry"], 2, "", "a\nb\nc\n", None),
           Outcome(["geometry", "--k", "nan"], 0, "", "", None),
           Outcome(["geometry", "--R", ""], 0, "", "", None),
           Outcome(["geometry", "--counts", "5,,2"], 0, "", "", None),
           Outcome(["geometry", "--counts", "5 5,2"], 0, "", "", None),
           Outcome(["geometry"], 1, "", "error: something else failed.\n", None),
           Outcome(["geometry"], 3, "", "", None)]
    for o in bad:
        assert problems(o, geometry, {}, {}), o
    assert problems(ok, geometry, {"a": 1}, {"a": 2})
    unwritable = Outcome(["geometry"], 1, "", "error: cannot write standard output: No space "
                         "left on device; free some space (files written before are kept "
                         "whole).\n", None)
    assert problems(unwritable, geometry, {}, {}) == []
