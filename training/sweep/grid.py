"""A sweep grid: which `seli` command every cell runs, with which flags, on which resources.

A grid is a TOML file::

    command = "train ufm"        # or "train deepnet", or "path"
    out = "runs/ufm_small"       # optional; `seli sweep --out` overrides it
    retries = 2                  # optional; retries of a crashed or killed cell (default 2)

    [resources]                  # optional; what each cell asks the engine for
    cpus = 1                     # CPU cores per cell (default 1)
    gpus = 1                     # GPUs per cell whose `device` is cuda (default 1; 0.5 packs two)

    [fixed]                      # flags given to every cell
    epochs = 2000
    lr = 0.4

    [grid]                       # the cartesian product of these lists, one cell per tuple
    R = [1, 10, 100]
    seed = [0, 1, 2]

Keys of [fixed] and [grid] are the command's flags without the dashes (`n_min` and `n-min`
both mean `--n-min`); a value `true` gives the bare flag, `false` leaves it out, and a list
inside [fixed] (or a list of lists in [grid]) gives one argument per element. `--out`,
`--resume` and `--json` are the sweep's to set.

>>> g = parse_grid('command = "path"\\n[fixed]\\nk = 4\\n[grid]\\nR = [2, 10]\\n')
>>> [c.name for c in g.cells()]  # doctest: +ELLIPSIS
['R=2_...', 'R=10_...']
>>> g.cells()[1].args()
['--k', '4', '--R', '10']
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from seli_exact.errors import SeliInputError

# the TOML `command` -> the argv words of `seli`
COMMANDS: dict[str, tuple[str, ...]] = {
    "train ufm": ("train", "ufm"),
    "train deepnet": ("train", "deepnet"),
    "path": ("path",),
}
TOP_KEYS = ("command", "out", "retries", "resources", "fixed", "grid")
MAX_GRID_BYTES = 1_000_000
# The most cells one grid may make: each is a folder and an engine task.
MAX_CELLS = 100_000
RESOURCE_KEYS = ("cpus", "gpus")
RESERVED = ("out", "resume", "json", "help")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_SCALARS = (bool, int, float, str)

Value = bool | int | float | str | tuple


def _flag(key: str) -> str:
    return key.replace("_", "-")


def _plain(v):
    """A TOML value as a hashable plain value (lists become tuples)."""
    return tuple(_plain(x) for x in v) if isinstance(v, list) else v


def _words(v) -> list[str]:
    if isinstance(v, tuple):
        return [w for x in v for w in _words(x)]
    if isinstance(v, float):
        return [repr(v)]
    return [str(v)]


def _label(v) -> str:
    """A value as text safe in a folder name."""
    text = "+".join(_words(v)) if not isinstance(v, bool) else str(v).lower()
    return re.sub(r"[^A-Za-z0-9.+-]", "~", text)


def flag_words(params) -> list[str]:
    """(flag, value) pairs as argv words: true -> bare flag, false -> left out, list -> words.

    >>> flag_words([("R", 10), ("lr", 0.4), ("float64", True), ("lambdas", ["1e-1", "1e-2"])])
    ['--R', '10', '--lr', '0.4', '--float64', '--lambdas', '1e-1', '1e-2']
    """
    out: list[str] = []
    for k, v in params:
        v = _plain(v)
        if v is False:
            continue
        out.append(f"--{k}")
        if v is not True:
            out.extend(_words(v))
    return out


@dataclass(frozen=True)
class Cell:
    """One task of a sweep: `seli COMMAND --flag value ...` writing into its own folder."""

    command: str                               # a key of COMMANDS
    params: tuple[tuple[str, Value], ...]      # fixed then varied flags, dashed names
    varied: tuple[tuple[str, Value], ...]      # the grid's part of params
    cpus: float = 1.0
    gpus: float = 0.0
    name: str = field(init=False)
    key: str = field(init=False)

    def __post_init__(self):
        if self.command not in COMMANDS:
            raise SeliInputError(
                f"`command` must be one of {', '.join(map(repr, COMMANDS))}; got {self.command!r}. "
                "Pick one of them."
            )
        spec = json.dumps({"command": self.command, "params": self.params}, sort_keys=True)
        # the key changes whenever anything the command sees changes, so a finished folder
        # is never taken for a cell that asks for something else
        key = hashlib.sha256(spec.encode()).hexdigest()[:10]
        readable = "_".join(f"{k}={_label(v)}" for k, v in self.varied) or "cell"
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "name", f"{readable}_{key}")

    @property
    def argv_command(self) -> tuple[str, ...]:
        return COMMANDS[self.command]

    @property
    def trains(self) -> bool:
        """Whether the command trains (writes checkpoints into --out and can --resume)."""
        return self.command.startswith("train")

    def args(self) -> list[str]:
        """The command's flags, without the sweep's own (--out, --resume, --json)."""
        return flag_words(self.params)

    def value(self, name: str):
        """The value of flag `name` in this cell, or None."""
        return dict(self.params).get(_flag(name))

    def to_dict(self) -> dict:
        return {"command": self.command, "params": [list(p) for p in self.params],
                "varied": [list(p) for p in self.varied], "cpus": self.cpus, "gpus": self.gpus,
                "name": self.name, "key": self.key}


@dataclass(frozen=True)
class Grid:
    """A validated grid: the command, fixed flags, varied flags (in file order) and resources."""

    command: str
    fixed: tuple[tuple[str, Value], ...]
    varied: tuple[tuple[str, tuple[Value, ...]], ...]
    retries: int = 2
    cpus: float = 1.0
    gpus: float = 1.0
    out: str | None = None
    source: str = "<grid>"

    def cells(self) -> list[Cell]:
        """The cartesian product of the varied flags, first key slowest."""
        keys = [k for k, _ in self.varied]
        size = 1
        for _, vals in self.varied:
            size *= len(vals)
        if size > MAX_CELLS:
            raise SeliInputError(f"the grid {self.source} makes {size:,} cells, more than "
                                 f"{MAX_CELLS:,}; vary fewer flags or fewer values.")
        cells = []
        for combo in itertools.product(*(vals for _, vals in self.varied)):
            varied = tuple(zip(keys, combo))
            params = self.fixed + varied
            device = str(dict(params).get("device", "cpu"))
            gpus = self.gpus if device.startswith("cuda") else 0.0
            cells.append(Cell(self.command, params, varied, cpus=self.cpus, gpus=gpus))
        return cells


def load_grid(path) -> Grid:
    """Read and validate a grid TOML file."""
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise SeliInputError(f"the grid file must be TOML (GRID.toml); got {str(path)!r}. "
                             "Write the grid as a .toml file.")
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise SeliInputError(f"the grid file {str(path)!r} is {what}; give a .toml file.")
        if st.st_size > MAX_GRID_BYTES:
            raise SeliInputError(f"the grid file {str(path)!r} holds {st.st_size:,} bytes, more "
                                 f"than a grid needs ({MAX_GRID_BYTES:,} at most); check the path.")
        text = path.read_bytes().decode("utf-8")  # TOML is UTF-8 whatever the locale
    except OSError as err:
        raise SeliInputError(
            f"the grid file {str(path)!r} cannot be read ({err.strerror}); check the path."
        ) from None
    except UnicodeDecodeError as err:
        raise SeliInputError(
            f"the grid file {str(path)!r} is not UTF-8 text (byte {err.start}); save it as UTF-8 TOML."
        ) from None
    return parse_grid(text, source=str(path))


def parse_grid(text: str, *, source: str = "<grid>") -> Grid:
    """Validate the TOML text of a grid; every problem is one SeliInputError sentence."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SeliInputError(f"{source} is not valid TOML ({err}); fix the syntax there.") from None
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise SeliInputError(
            f"{source} has the unknown top-level key {unknown[0]!r}; the keys are "
            f"{', '.join(TOP_KEYS)} (flags go under [fixed] or [grid])."
        )
    command = doc.get("command")
    if command not in COMMANDS:
        raise SeliInputError(
            f"`command` in {source} must be one of {', '.join(map(repr, COMMANDS))}; "
            f"got {command!r}. Set command = \"train ufm\", for example."
        )
    out = doc.get("out")
    if out is not None and not (isinstance(out, str) and out.strip()):
        raise SeliInputError(f"`out` in {source} must be a folder path as text; got {out!r}. "
                             "Write out = \"runs/NAME\" or leave it out.")
    retries = doc.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SeliInputError(f"`retries` in {source} must be a whole number >= 0; got {retries!r}. "
                             "Write retries = 2, for example.")
    res = _table(doc, "resources", source)
    bad = [k for k in res if k not in RESOURCE_KEYS]
    if bad:
        raise SeliInputError(f"[resources] in {source} has the unknown key {bad[0]!r}; "
                             f"the keys are {', '.join(RESOURCE_KEYS)}.")
    cpus = _amount(res.get("cpus", 1), "cpus", source, positive=True)
    gpus = _amount(res.get("gpus", 1), "gpus", source, positive=False)

    fixed = _flags(_table(doc, "fixed", source), "fixed", source)
    raw_grid = _table(doc, "grid", source)
    if not raw_grid:
        raise SeliInputError(f"{source} needs a [grid] table with at least one list of values, "
                             "e.g. [grid] R = [1, 10]; put single values under [fixed].")
    varied = []
    for key, vals in _flags(raw_grid, "grid", source):
        if not isinstance(vals, tuple) or not vals:
            raise SeliInputError(
                f"[grid] {key} in {source} must be a non-empty list of values; got {vals!r}. "
                f"Write {key} = [{_words(vals)[0] if vals != () else '1'}] or move it to [fixed]."
            )
        # compared as the words the command receives: 1 and "1" are the same cell twice
        if len({tuple(_words(v)) for v in vals}) != len(vals):
            raise SeliInputError(f"[grid] {key} in {source} lists a value twice ({list(vals)!r}); "
                                 "list each value once.")
        varied.append((key, vals))
    both = sorted({k for k, _ in fixed} & {k for k, _ in varied})
    if both:
        raise SeliInputError(f"the flag {both[0]!r} is in both [fixed] and [grid] of {source}; "
                             "keep it in one of them.")
    gpu_cells = any(str(v).startswith("cuda") for k, v in fixed if k == "device") or any(
        str(x).startswith("cuda") for k, vals in varied if k == "device" for x in vals)
    if gpu_cells and gpus == 0:
        raise SeliInputError(f"cells of {source} run on device cuda but [resources] gpus = 0; "
                             "ask for a GPU per cell (gpus = 1, or a fraction such as 0.5).")
    return Grid(command, tuple(fixed), tuple(varied), retries=retries, cpus=cpus, gpus=gpus,
                out=out, source=source)


def _table(doc: dict, name: str, source: str) -> dict:
    t = doc.get(name, {})
    if not isinstance(t, dict):
        raise SeliInputError(f"`{name}` in {source} must be a table ([{name}]); got {t!r}. "
                             f"Write it as a [{name}] section.")
    return t


def _amount(v, name: str, source: str, *, positive: bool) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (positive and v == 0):
        bound = "> 0" if positive else ">= 0"
        raise SeliInputError(f"[resources] {name} in {source} must be a number {bound}; "
                             f"got {v!r}. Write {name} = 1, for example.")
    return float(v)


def _flags(table: dict, where: str, source: str) -> list[tuple[str, Value]]:
    out: list[tuple[str, Value]] = []
    seen: dict[str, str] = {}
    for key, v in table.items():
        if not _KEY.match(key):
            raise SeliInputError(f"[{where}] key {key!r} in {source} is not a flag name; "
                                 "use the flag without dashes, e.g. n_min for --n-min.")
        flag = _flag(key)
        if flag in RESERVED:
            raise SeliInputError(f"[{where}] sets {key!r} in {source}, but --{flag} is set by the "
                                 "sweep itself; remove it (use `seli sweep --out` for the folder).")
        if flag in seen:
            raise SeliInputError(f"[{where}] in {source} gives --{flag} twice ({seen[flag]!r} and "
                                 f"{key!r}); keep one spelling.")
        seen[flag] = key
        _check_value(v, key, where, source, depth=0)
        out.append((flag, _plain(v)))
    return out


def _check_value(v, key: str, where: str, source: str, depth: int) -> None:
    if isinstance(v, list):
        # [fixed]: a list is one flag's arguments; [grid]: a list of values, each maybe a list
        limit = 1 if where == "fixed" else 2
        if depth + 1 > limit:
            raise SeliInputError(f"[{where}] {key} in {source} nests lists too deeply ({v!r}); "
                                 "a flag's arguments are one flat list.")
        for x in v:
            _check_value(x, key, where, source, depth + 1)
        return
    if isinstance(v, float) and v != v:
        raise SeliInputError(f"[{where}] {key} in {source} is nan; give a number.")
    if not isinstance(v, _SCALARS):
        raise SeliInputError(f"[{where}] {key} in {source} must be a number, text, true/false or "
                             f"a list of them; got {v!r} ({type(v).__name__}). Quote it as text.")
