"""Checks of command-line values at the boundary, shared by every command.

Each command checks everything it was given before any work starts (its `check_args(args)`, see
seli_cli.main), with these helpers and seli_exact.validate's finite ranges; every refusal is one
SeliInputError sentence naming the flag, the value seen and the fix.

  lists        text_list(flag, text, example)          "1,10,100" -> ["1", "10", "100"]; empty
                                                       text, an empty item or an item with a
                                                       space inside ("1 0") is refused
  numbers      digits(text)                            --digits in [1, MAX_DIGITS]
               lambdas(flag, text)                     a lambda grid (seli_exact.regpath), its
                                                       list form checked as text_list does
  paths        out_folder(flag, text, files)           a folder to write into (may not exist
                                                       yet), and the files it will hold
               out_file(flag, text)                    a file to write (may not exist yet)
               in_file(flag, text, max_bytes)          a regular file to read, of bounded size
  conflicts    exclusive(args, {dest: flag, ...})      at most one of the flags given

Output paths are refused when empty (which would mean the current folder), under /proc, /sys
or /dev (system folders, never a place for results), when a file stands where a folder is meant
or the reverse, when an existing output is not a regular file (a device, a pipe), when the
nearest existing folder is not writable, and when its disk has no byte (or no inode) left. Any
path that is relative is refused when the current folder was removed. Nothing is created or
written by these checks. An existing output file is replaced (atomically, seli_io.atomic), as
`-o FILE` does in Unix tools; a write that fails later (the disk fills while the command runs)
is SeliOutputError, and the old file stays whole.

>>> text_list("--R", "1, 10,100", example="1,10,100")
['1', '10', '100']
>>> text_list("--R", "", example="1,10,100")
Traceback (most recent call last):
...
seli_exact.errors.SeliInputError: `--R` must be a comma-separated list; got ''. Try --R 1,10,100.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from seli_exact.errors import SeliInputError
from seli_exact.validate import relative_path, whole

# --digits: the library itself runs at any precision (checked to 30,000 digits), but the
# resource estimates of seli_cli.limits are fitted on measurements up to 300 digits only, and an
# input beyond what they model cannot be refused honestly before it starts. 300 is that range.
MAX_DIGITS = 300

# Folders whose contents are the operating system's, never a place for results.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


def text_list(flag: str, text, *, example: str) -> list[str]:
    """The items of a comma-separated list, stripped; empty text or an empty item is refused."""
    raw = "" if text is None else str(text)
    items = [x.strip() for x in raw.split(",")]
    if not raw.strip():
        raise SeliInputError(f"`{flag}` must be a comma-separated list; got {raw!r}. "
                             f"Try {flag} {example}.")
    if any(x == "" for x in items):
        raise SeliInputError(f"`{flag}` has an empty item in {_short(raw)}; list values "
                             f"separated by single commas, e.g. {flag} {example}.")
    spaced = [x for x in items if len(x.split()) > 1]
    if spaced:
        raise SeliInputError(f"`{flag}` item {_short(spaced[0])} has a space inside; separate "
                             f"values by commas, e.g. {flag} {example}.")
    return items


def lambdas(flag: str, text) -> list[float]:
    """A lambda grid, "1e-1,1e-2" or "logspace:A:B:N" (seli_exact.regpath.parse_lambdas), with
    the list form held to text_list's rules first: an empty item ("1e-1,,1e-2") or a space
    inside an item ("1 0") is refused rather than dropped or joined."""
    from seli_exact.regpath import parse_lambdas

    raw = "" if text is None else str(text)
    if not raw.strip().startswith("logspace:"):
        text_list(flag, raw, example="1e-1,1e-2")
    return parse_lambdas(raw)


def digits(text) -> int:
    """--digits: significant digits of the mpmath arithmetic, in [1, MAX_DIGITS]."""
    return whole("--digits", text, minimum=1, maximum=MAX_DIGITS,
                 fix=f"Try --digits 50 (at most {MAX_DIGITS}).")


def out_folder(flag: str, text, files=()) -> Path:
    """A folder the command will write into: it may not exist yet, but it must be creatable;
    each name of `files` in it, where it exists, must be a file the command may replace."""
    path = _path(flag, text, "a folder", "figs")
    if path.exists():
        if not path.is_dir():
            raise SeliInputError(f"`{flag}` must be a folder; got {_show(path)}, which is "
                                 f"{_kind(path)}. Give a folder path (it may not exist yet).")
        _writable(flag, path, path)
        _space(flag, path, path)
    else:
        _creatable(flag, path)
    for name in files:
        target = path / name
        if target.is_dir():
            raise SeliInputError(f"`{flag}` {_show(path)} holds a folder named {name} where "
                                 "that output file goes; move it or name another folder.")
        if target.exists() or target.is_symlink():
            out_file(flag, str(target))
    return path


def out_file(flag: str, text) -> Path:
    """A file the command will write (replacing it atomically when it exists).

    A symbolic link to a file is followed, so the file it points to is replaced and the link
    stays. A name ending in a slash means a folder and is refused."""
    raw = "" if text is None else str(text)
    path = _path(flag, text, "a file", "out.json")
    if raw.endswith(("/", os.sep)):
        raise SeliInputError(f"`{flag}` must name a file; got {_short(raw)}, which ends in a "
                             "slash (a folder). Give a file path, e.g. out.json.")
    if path.exists():
        real = Path(os.path.realpath(path))
        if not real.is_file():
            raise SeliInputError(f"`{flag}` must be a file; got {_show(path)}, which is "
                                 f"{_kind(real)}. Give a file path, e.g. out.json.")
        _system(flag, real)
        _writable(flag, path, real.parent)
        _space(flag, path, real.parent)
        return real
    if path.is_symlink():  # a dangling link: writing would replace the link itself
        raise SeliInputError(f"`{flag}` {_show(path)} is a symbolic link to nothing; give the "
                             "path of the file itself.")
    _creatable(flag, path)
    return path


def in_file(flag: str, text, *, max_bytes: int) -> Path:
    """A regular file to read, at most `max_bytes` long (a device or a pipe would never end)."""
    path = _path(flag, text, "a file", "counts.txt", check_system=False)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SeliInputError(f"`{flag}` {_show(path)} does not exist; check the path.") from None
    except OSError as err:
        raise SeliInputError(f"`{flag}` {_show(path)} cannot be read "
                             f"({err.strerror or type(err).__name__}); check the path.") from None
    if not stat.S_ISREG(st.st_mode):
        raise SeliInputError(f"`{flag}` must be a regular file; got {_show(path)}, which is "
                             f"{_kind(path)}. Give a file path.")
    if st.st_size > max_bytes:
        raise SeliInputError(f"`{flag}` {_show(path)} holds {st.st_size:,} bytes, more than the "
                             f"{max_bytes:,} this input may take; check that it is the right file.")
    if not os.access(path, os.R_OK):
        raise SeliInputError(f"`{flag}` {_show(path)} is not readable (permission denied); "
                             "check its permissions.")
    return path


def exclusive(args, flags: dict[str, str], *, fix: str) -> str | None:
    """The dest of the one flag of `flags` (dest -> flag text) that was given, or None; two or
    more given are refused. A flag counts as given when its value is not None or False."""
    given = [dest for dest in flags if getattr(args, dest, None) not in (None, False)]
    if len(given) > 1:
        names = [flags[d] for d in given]
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        raise SeliInputError(f"{listed} cannot be used together; {fix}")
    return given[0] if given else None


# --- paths -----------------------------------------------------------------------------------


def _path(flag: str, text, what: str, example: str, *, check_system: bool = True) -> Path:
    raw = "" if text is None else str(text)
    if not raw.strip():
        raise SeliInputError(f"`{flag}` must name {what}; got {raw!r}, which would mean the "
                             f"current folder. Give a path, e.g. {flag} {example}.")
    if "\x00" in raw:
        raise SeliInputError(f"`{flag}` must be a path; got text with a NUL character. "
                             "Give a path.")
    if not raw.startswith("~"):  # "~/x" is absolute once expanded
        relative_path(flag, raw)
    try:
        raw.encode(sys.getfilesystemencoding(), "surrogateescape")
    except UnicodeEncodeError:
        raise SeliInputError(f"`{flag}` {_short(raw)} has characters this file system cannot "
                             "name; give a plain path.") from None
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # "~name" for a user this system does not know
        user = raw[1:].split("/", 1)[0]
        raise SeliInputError(f"`{flag}` {_short(raw)} starts with ~{user}, the home folder of "
                             f"a user this system does not know; write the path out in full, e.g. "
                             f"{flag} {example}.") from None
    if len(os.fsencode(str(path))) > 4000 or any(len(os.fsencode(p)) > 255 for p in path.parts):
        raise SeliInputError(f"`{flag}` is too long a path ({len(raw)} characters; each name "
                             "may hold 255 bytes); give a shorter path.")
    if check_system:  # reading from a system folder is the reader's business, writing never
        _system(flag, Path(os.path.realpath(path)))
    return path


def _system(flag: str, real: Path) -> None:
    if os.name != "posix":
        return
    for root in SYSTEM_FOLDERS:
        if real == Path(root) or Path(root) in real.parents:
            raise SeliInputError(f"`{flag}` points into {root} ({_show(real)}), a system folder "
                                 "that holds no results; give a path in your own folders.")


def _creatable(flag: str, path: Path) -> None:
    """The nearest existing ancestor must be a writable folder (the rest is created later)."""
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists():
        if parent.is_symlink():
            raise SeliInputError(f"`{flag}` {_show(path)} goes through {_show(parent)}, a "
                                 "symbolic link to nothing; fix the link or give another path.")
        parent = parent.parent
    if not parent.is_dir():
        raise SeliInputError(f"`{flag}` {_show(path)} cannot be created: {_show(parent)} is "
                             f"{_kind(parent)}, not a folder. Give another path.")
    _writable(flag, path, parent)
    _space(flag, path, parent)


def _writable(flag: str, path: Path, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SeliInputError(f"`{flag}` {_show(path)} cannot be written: the folder "
                             f"{_show(folder)} is not writable. Give a path in a writable folder.")


def _space(flag: str, path: Path, folder: Path) -> None:
    """Refuse a folder whose disk has no byte or no inode left for this user: every write there
    would fail. (A disk with a little room left passes; a write that then fills it is reported as
    SeliOutputError, see seli_io.atomic.)"""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows), or a folder we cannot stat
        return
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    blocks = st.f_bfree if root else st.f_bavail  # root may use the reserved blocks
    inodes = st.f_ffree if root else st.f_favail
    # f_blocks / f_files of 0: a file system that does not count (some virtual ones)
    if st.f_blocks > 0 and blocks == 0:
        raise SeliInputError(f"`{flag}` {_show(path)} is on a full disk (0 bytes free in "
                             f"{_show(folder)}); free some space or choose a folder on another "
                             "disk.")
    if st.f_files > 0 and inodes == 0:
        raise SeliInputError(f"`{flag}` {_show(path)} is on a disk with no free inodes (no "
                             f"new file can be made in {_show(folder)}); delete some files or "
                             "choose a folder on another disk.")


def _kind(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return "not readable"
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _short(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _show(path) -> str:
    return _short(str(path))
