"""Start-up of `seli geometry --counts 5,5,2 --json` against `python -c "import numpy"`.

    python benchmarks/bench_startup.py [--repeats N]

Each command runs N times (default 15) as a fresh process, the two interleaved so that load on
the machine hits both alike; the medians and their ratio are printed, with `python -c pass` as
the floor every Python process pays. Target: the ratio within a few times (the command imports
numpy and does a little work, so 1.5-2.5x is what a lean start-up gives; SymPy, mpmath and gmpy2
imported eagerly made it 5x). The last lines list the slowest imports of one run
(`python -X importtime`), the place to look when the ratio grows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _seli() -> list[str]:
    """The installed console script beside this interpreter, else `python -m seli_cli.main`."""
    script = Path(sys.executable).with_name("seli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "seli_cli.main"]


COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "seli geometry --counts 5,5,2 --json": _seli() + ["geometry", "--counts", "5,5,2", "--json"],
}


def wall(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def slowest_imports(argv: list[str], top: int = 8) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the top-level imports that took longest."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  ") and cumulative.strip().isdigit():  # top level only
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="runs of each command (default 15)")
    args = ap.parse_args()
    for argv in COMMANDS.values():  # warm the file cache and the .pyc files
        wall(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            times[name].append(wall(argv))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"median wall time of {args.repeats} fresh processes each:")
    for name, m in med.items():
        spread = f"{min(times[name]) * 1e3:.0f}-{max(times[name]) * 1e3:.0f} ms"
        print(f"  {name:40} {m * 1e3:7.1f} ms   (range {spread})")
    numpy_s = med["python -c 'import numpy'"]
    seli_s = med["seli geometry --counts 5,5,2 --json"]
    print(f"ratio seli geometry / import numpy: {seli_s / numpy_s:.2f}x")
    print("slowest top-level imports of one `seli geometry` run (cumulative):")
    for us, name in slowest_imports(COMMANDS["seli geometry --counts 5,5,2 --json"]):
        print(f"  {us / 1e3:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
