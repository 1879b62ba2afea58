"""Plant each bug of mutations/catalogue.toml in a temporary copy of the repository and see
whether `seli check --profile quick` and the quick test suite catch it.

    .venv/bin/python scripts/mutate.py                      # the whole catalogue, one at a time
    .venv/bin/python scripts/mutate.py --jobs 2             # two copies at once
    .venv/bin/python scripts/mutate.py --bugs svd-U-times-sigma,metrics-nc1-divisor
    .venv/bin/python scripts/mutate.py --check-only         # `seli check` alone (core-math)
    .venv/bin/python scripts/mutate.py --tests "tests/test_svd.py tests/test_geometry.py"

For every bug: copy the working tree (tracked files and untracked files git does not ignore),
replace the entry's `find` text (which must occur exactly once) by its `replace` text, make sure
the copy is what Python imports (the venv has the project installed in editable mode: the copy
goes first on PYTHONPATH and the mutated module's __file__ must lie in the copy), then run

* `python -m seli_cli.main check --profile quick --json FILE` in the copy: caught when some claim
  that runs is not verified (the table names them);
* `python -m pytest -x -q -p no:cacheprovider` in the copy on the whole quick suite (doctests
  included, as CI runs it), the test files that name the mutated module first, so that a caught
  bug ends the run early (`--tests` replaces the selection): caught when a test fails (the table
  names the first). tests/test_mutation_catalogue.py is left out: in a mutated copy its
  own entry no longer applies, which would "catch" every bug.

A bug survives when neither catches it, and a "core-math" bug (something seli_exact,
derivations or measurement compute that a claim reports) also when only the tests catch it: the quick check
itself must. A run or a check that times out counts as caught and says so. Before the bugs, the
unmutated copy must pass both (the baseline); otherwise every bug would look caught.

Exit status: 0 when every bug is caught, 1 on any survivor, a failed baseline, or a stale entry
(its text no longer found exactly once, or the mutated file no longer compiles), 2 on bad
arguments. With --check-only only the core-math requirement can be judged: the other bugs show
"-" for the tests, and one the check misses is "not judged" rather than a survivor.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "mutations" / "catalogue.toml"
CATEGORIES = ("core-math", "checker", "solver", "engine", "output")
FIELDS = ("id", "file", "find", "replace", "category", "breaks")
# never copied: mutmut's working folder, build output
SKIP_PREFIXES = ("mutants/",)
# left out of the mutated copies' test runs (its own entry no longer applies there)
CATALOGUE_TEST = "tests/test_mutation_catalogue.py"
# the rest of pyproject's testpaths: their doctests are part of the quick suite
DOCTEST_PACKAGES = ("seli_exact", "derivations", "proofs_check", "figures", "measurement", "seli_io")
CHECK_TIMEOUT = 1200  # s; the quick check takes 25-40 s
TESTS_TIMEOUT = 3600  # s; the quick suite takes about 5 min


@dataclass(frozen=True)
class Bug:
    id: str
    file: str
    find: str
    replace: str
    category: str
    breaks: str

    @property
    def module(self) -> str:
        """The dotted module name of `file` (seli_exact/svd.py -> seli_exact.svd)."""
        return self.file.removesuffix(".py").replace("/", ".")


BASELINE = Bug("baseline (no bug)", "", "", "", "-", "the unmutated copy: must pass both")


# --------------------------------------------------------------------------- the catalogue
def load_catalogue(path: Path = CATALOGUE) -> list[Bug]:
    """The catalogue's entries, in file order; a malformed entry raises ValueError."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    bugs = []
    for i, entry in enumerate(data.get("bug", [])):
        missing = [f for f in FIELDS if not isinstance(entry.get(f), str) or not entry.get(f)]
        extra = sorted(set(entry) - set(FIELDS))
        if missing or extra:
            raise ValueError(f"catalogue entry {i} ({entry.get('id', '?')}): missing or empty "
                             f"{missing}, unknown {extra}")
        if entry["category"] not in CATEGORIES:
            raise ValueError(f"catalogue entry {entry['id']}: category must be one of "
                             f"{CATEGORIES}, not {entry['category']!r}")
        bugs.append(Bug(**{f: entry[f] for f in FIELDS}))
    ids = [b.id for b in bugs]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"catalogue ids used twice: {twice}")
    return bugs


def mutated_source(bug: Bug, root: Path = ROOT) -> str:
    """The text of bug.file with the bug planted; ValueError when the entry is stale."""
    path = root / bug.file
    if not path.is_file():
        raise ValueError(f"{bug.id}: {bug.file} does not exist")
    text = path.read_text(encoding="utf-8")
    found = text.count(bug.find)
    if found != 1:
        raise ValueError(f"{bug.id}: its `find` text occurs {found} times in {bug.file}, not once")
    if bug.replace == bug.find:
        raise ValueError(f"{bug.id}: `replace` equals `find`: nothing is planted")
    new = text.replace(bug.find, bug.replace)
    if path.suffix == ".py":
        try:
            compile(new, str(path), "exec")
        except SyntaxError as err:
            raise ValueError(f"{bug.id}: the mutated {bug.file} does not compile ({err})") from None
    return new


def stale_entries(bugs: list[Bug], root: Path = ROOT) -> list[str]:
    """One message per entry that no longer applies to the code at `root`."""
    out = []
    for bug in bugs:
        try:
            mutated_source(bug, root)
        except ValueError as err:
            out.append(str(err))
    return out


# --------------------------------------------------------------------------- one copy
def tree_files(root: Path = ROOT) -> list[str]:
    """Tracked files and untracked files git does not ignore, that exist (the working tree as
    it would be committed)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, check=True).stdout.decode()
    files = sorted({f for f in out.split("\0") if f})
    return [f for f in files if not f.startswith(SKIP_PREFIXES) and (root / f).is_file()]


def make_copy(files: list[str], dest: Path, root: Path = ROOT) -> None:
    for f in files:
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / f, target)


def environment(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["SELI_CACHE"] = str(copy / ".seli-cache")  # the UFM kernel is compiled from the copy
    env.pop("SELI_PROFILE", None)  # the quick profile, whatever the caller's shell says
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


IMPORT_PROBE = """
import importlib, json, sys
names = sys.argv[1:]
print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))
"""


def verify_imports(copy: Path, bug: Bug, env: dict, expected: str) -> None:
    """The packages, and the mutated module with the bug in it, must be imported from the copy;
    `expected` is the mutated module's whole text (compared whole: a `replace` may contain its
    `find`)."""
    names = ["seli_exact", "derivations", "proofs_check", "seli_cli", "measurement", "figures", "seli_io"]
    if bug.file.endswith(".py"):
        names.append(bug.module)
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *names], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"importing from the copy failed: {proc.stderr.strip()[-500:]}")
    where = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, path in where.items():
        if not Path(path).resolve().is_relative_to(copy.resolve()):
            raise RuntimeError(f"{name} was imported from {path}, not from the copy {copy}")
    if bug.file.endswith(".py"):
        text = Path(where[bug.module]).read_text(encoding="utf-8")
        if text != expected:
            raise RuntimeError(f"{bug.module} in the copy does not carry the bug")


def run(cmd: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int | None, str, float]:
    """(exit status or None on timeout, stdout + stderr, seconds); the whole process group is
    killed on timeout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out, time.perf_counter() - t0


@dataclass
class Outcome:
    bug: Bug
    check_caught: bool | None = None  # None: not run
    check_detail: str = ""
    tests_caught: bool | None = None
    tests_detail: str = ""
    error: str = ""  # the copy could not be set up
    seconds: float = 0.0
    claims: list = field(default_factory=list)

    @property
    def judged(self) -> bool:
        """False for a non-core-math bug the check missed when the tests did not run."""
        return bool(self.error or self.check_caught or self.bug.category == "core-math"
                    or self.tests_caught is not None)

    @property
    def survived(self) -> bool:
        if self.error:
            return True
        if self.bug.category == "core-math" and not self.check_caught:
            return True
        return self.judged and not (self.check_caught or self.tests_caught)

    @property
    def verdict(self) -> str:
        if self.bug is BASELINE:  # nothing is planted: it must pass both
            return "FAILS (see above)" if self.error or self.check_caught or self.tests_caught else "passes"
        if self.error:
            return "ERROR"
        if not self.judged:
            return "not judged"
        if not self.survived:
            return "caught"
        if self.bug.category == "core-math" and self.tests_caught:
            return "SURVIVED the check"
        return "SURVIVED"


def run_check(copy: Path, env: dict, timeout: float) -> tuple[bool, str, list]:
    report = copy / ".mutate-check.json"
    cmd = [sys.executable, "-m", "seli_cli.main", "check", "--profile", "quick", "--json", str(report)]
    code, out, secs = run(cmd, copy, env, timeout)
    if code is None:
        return True, f"timeout after {secs:.0f} s", []
    if report.is_file():
        claims = json.loads(report.read_text())["claims"]
        bad = [(c["id"], c["status"]) for c in claims
               if c["status"] != "verified" and not c["status"].startswith("not run")]
        if bad or code != 0:
            named = [cid if status == "refuted" else f"{cid} ({status})" for cid, status in bad]
            shown = ", ".join(named[:4]) + (f" +{len(named) - 4} more" if len(named) > 4 else "")
            return True, shown or f"exit {code}", bad
        return False, "all verified", []
    last = [line for line in out.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return code != 0, f"exit {code}: {last[0][:120]}", []


FAILED = re.compile(r"^(FAILED|ERROR) (\S+)", re.M)


def test_order(bug: Bug, root: Path = ROOT) -> list[str]:
    """The quick suite's test files, those that name the mutated module first (pytest keeps the
    order of its arguments, so with -x a bug they catch ends the run within seconds; the whole
    suite still runs when none of them fails)."""
    files = sorted(p.relative_to(root).as_posix() for p in (root / "tests").glob("test_*.py"))
    files = [f for f in files if f != CATALOGUE_TEST]
    if not bug.file:
        return files
    stem = Path(bug.file).stem.lstrip("_")
    names = (bug.module, f"import {stem}", f"{stem} import", f".{stem}", f"test_{stem}")
    near = [f for f in files if any(n in (root / f).read_text(encoding="utf-8") or n in f
                                    for n in names)]
    return near + [f for f in files if f not in near] + list(DOCTEST_PACKAGES)


def run_tests(copy: Path, env: dict, test_args: list[str], timeout: float) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           f"--ignore={CATALOGUE_TEST}", *test_args]
    code, out, secs = run(cmd, copy, env, timeout)
    if code is None:
        return True, f"timeout after {secs:.0f} s"
    if code == 0:
        summary = [line for line in out.strip().splitlines() if " passed" in line][-1:]
        return False, f"all passed ({summary[0].strip('= ') if summary else 'no summary'})"
    first = FAILED.search(out)
    if code in (1, 2) and first:
        return True, f"{first.group(2)}"
    if code in (1, 2):
        return True, f"exit {code} (collection or usage error)"
    tail = out.strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"pytest exited {code}: {tail[0][:200]}")


def trial(bug: Bug, files: list[str], workdir: Path, source: Path, test_args: list[str], check_only: bool,
          timeouts: tuple[float, float], keep: bool) -> Outcome:
    t0 = time.perf_counter()
    copy = workdir / re.sub(r"[^A-Za-z0-9_.-]", "_", bug.id)
    result = Outcome(bug)
    try:
        make_copy(files, copy, source)
        expected = ""
        if bug is not BASELINE:
            expected = mutated_source(bug, source)
            (copy / bug.file).write_text(expected, encoding="utf-8")
        env = environment(copy)
        verify_imports(copy, bug, env, expected)
        result.check_caught, result.check_detail, result.claims = run_check(copy, env, timeouts[0])
        if not check_only:
            result.tests_caught, result.tests_detail = run_tests(copy, env, test_args or test_order(bug, source),
                                                                 timeouts[1])
    except (ValueError, RuntimeError, OSError, subprocess.SubprocessError) as err:
        result.error = f"{type(err).__name__}: {err}"
    finally:
        if not keep:
            shutil.rmtree(copy, ignore_errors=True)
    result.seconds = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- the table
def _cell(caught: bool | None, detail: str) -> str:
    if caught is None:
        return "-"
    return f"yes: {detail}" if caught else "no"


def table(outcomes: list[Outcome]) -> str:
    head = ("bug", "category", "caught by seli check (claims)", "caught by the tests (first failure)",
            "result", "time")
    body = [(o.bug.id, o.bug.category, _cell(o.check_caught, o.check_detail) if not o.error else o.error,
             _cell(o.tests_caught, o.tests_detail) if not o.error else "-", o.verdict,
             f"{o.seconds:.0f} s") for o in outcomes]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), "-|-".join("-" * w for w in widths)] + [line(b) for b in body])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--catalogue", metavar="FILE", type=Path, default=CATALOGUE,
                   help="the catalogue to replay (default: mutations/catalogue.toml)")
    p.add_argument("--bugs", metavar="ID[,ID...]", help="run only these catalogue entries")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="copies run at once (default 1; each runs pytest and seli check)")
    p.add_argument("--check-only", action="store_true",
                   help="run `seli check --profile quick` only, not the tests")
    p.add_argument("--tests", metavar="ARGS", default="",
                   help="pytest arguments selecting the tests (default: the whole quick suite)")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the run of the unmutated copy (its result voids every catch)")
    p.add_argument("--json", metavar="FILE", help="also write the outcomes as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary copies")
    p.add_argument("--list", action="store_true", help="list the catalogue and exit")
    p.add_argument("--check-timeout", type=float, default=CHECK_TIMEOUT, metavar="S")
    p.add_argument("--tests-timeout", type=float, default=TESTS_TIMEOUT, metavar="S")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be at least 1; got {args.jobs}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        bugs = load_catalogue(args.catalogue)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
        print(f"error: {args.catalogue}: {err}", file=sys.stderr)
        return 1
    if args.list:
        for b in bugs:
            print(f"{b.id:45s} {b.category:9s} {b.file}: {b.breaks}")
        return 0
    if args.bugs:
        wanted = [s.strip() for s in args.bugs.split(",") if s.strip()]
        unknown = [w for w in wanted if w not in {b.id for b in bugs}]
        if unknown or not wanted:
            print(f"error: --bugs names unknown entries {unknown or args.bugs!r}; see --list",
                  file=sys.stderr)
            return 2
        bugs = [b for b in bugs if b.id in wanted]
    stale = stale_entries(bugs)
    if stale:
        print(f"stale catalogue entries (fix them in {args.catalogue}):", file=sys.stderr)
        for msg in stale:
            print(f"  {msg}", file=sys.stderr)
        return 1

    files = tree_files()
    test_args = shlex.split(args.tests)
    queue = ([] if args.no_baseline else [BASELINE]) + bugs
    workdir = Path(tempfile.mkdtemp(prefix="seli-mutate-"))
    # every copy is made from this snapshot: edits to the working tree during a run change nothing
    source = workdir / ".snapshot"
    make_copy(files, source)
    selection = " ".join(test_args) or "the quick suite"
    print(f"{len(bugs)} bugs, {args.jobs} at a time, tests: "
          f"{'none (--check-only)' if args.check_only else selection}; copies in {workdir}",
          flush=True)
    t0 = time.perf_counter()
    outcomes: dict[str, Outcome] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(trial, b, files, workdir, source, test_args, args.check_only,
                                   (args.check_timeout, args.tests_timeout), args.keep): b
                       for b in queue}
            for done, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                o = fut.result()
                outcomes[o.bug.id] = o
                print(f"[{done}/{len(queue)}] {o.bug.id}: {o.verdict} ({o.seconds:.0f} s)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    ordered = [outcomes[b.id] for b in queue]
    elapsed = time.perf_counter() - t0
    print()
    print(table(ordered))
    runs = [o for o in ordered if o.bug is not BASELINE]
    survivors = [o.bug.id for o in runs if o.survived]
    baseline = outcomes.get(BASELINE.id)
    baseline_bad = baseline is not None and (baseline.error or baseline.check_caught
                                             or baseline.tests_caught)
    print()
    print(f"{len(runs) - len(survivors)} of {len(runs)} bugs caught; by seli check: "
          f"{sum(bool(o.check_caught) for o in runs)}, by the tests: "
          f"{sum(bool(o.tests_caught) for o in runs)}; wall time {elapsed / 60:.1f} min "
          f"({args.jobs} job{'s' if args.jobs > 1 else ''})")
    if survivors:
        print(f"survivors: {', '.join(survivors)}")
    if baseline_bad:
        print("the unmutated copy does not pass (see the baseline row): no catch above means anything")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "tests": selection if not args.check_only else None, "jobs": args.jobs,
            "wall_seconds": elapsed,
            "outcomes": [{"id": o.bug.id, "category": o.bug.category, "check_caught": o.check_caught,
                          "check": o.check_detail, "tests_caught": o.tests_caught,
                          "tests": o.tests_detail, "error": o.error, "result": o.verdict,
                          "seconds": round(o.seconds, 1)} for o in ordered]}, indent=2))
    return 1 if survivors or baseline_bad else 0


if __name__ == "__main__":
    sys.exit(main())
