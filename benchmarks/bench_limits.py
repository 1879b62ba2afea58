"""What `seli geometry` costs, measured against the estimate its input check makes (seli_cli.limits).

    python benchmarks/bench_limits.py [--quick]

Each case runs `seli geometry ... [--json] [--digits D]` in a fresh process (stdout to
/dev/null) and reports its wall and CPU time and its peak memory above the process's size after start-up
(ru_maxrss), beside seli_cli.limits' estimate of both. The limits' constants were fitted to these
measurements; an estimate well below a measurement here means the constants need refitting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, time
from seli_cli.main import main
argv = json.loads(sys.argv[1])
sink = open(os.devnull, "w")
stdout, sys.stdout = sys.stdout, sink
main(["geometry", "--counts", "3,2,1", "--json"])  # imports and warms what the run needs
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t, c = time.perf_counter(), time.process_time()
code = main(argv)
seconds, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
sys.stdout = stdout
print(json.dumps({"code": code, "seconds": seconds, "cpu": cpu, "bytes": max(0, peak - base)}))
"""


def cases(quick: bool):
    ks = (500, 1000) if quick else (1000, 2000, 3000)
    for k in ks:
        for out in ([], ["--json"]):
            yield ["geometry", "--k", str(k), "--rho", "1/2", "--R", "10", "--n-min", "5"] + out
            yield ["geometry", "--counts", ",".join(map(str, range(1, k + 1)))] + out
    for digits in (50, 300):
        for k in ((40, 80) if quick else (60, 120)):
            for out in ([], ["--json"]):
                yield ["geometry", "--digits", str(digits), "--k", str(k), "--rho", "1/2"] + out
                yield ["geometry", "--digits", str(digits),
                       "--counts", ",".join(map(str, range(1, k + 1)))] + out


def describe(argv: list[str]) -> str:
    words = []
    for w in argv[1:]:
        words.append(w if len(w) < 20 else f"1..{w.count(',') + 1}")
    return " ".join(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller cases")
    args = ap.parse_args()
    from seli_cli.limits import geometry_cost
    from seli_exact.counts import from_counts, step

    print(f"{'case':58} {'wall':>9} {'cpu':>9} {'est.':>9} {'memory':>10} {'est.':>10}")
    for argv in cases(args.quick):
        p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True,
                           text=True)
        if p.returncode != 0:
            print(f"{describe(argv):58} failed: {p.stderr.strip().splitlines()[-1:]}")
            continue
        got = json.loads(p.stdout.strip().splitlines()[-1])
        digits = int(argv[argv.index("--digits") + 1]) if "--digits" in argv else None
        if "--counts" in argv:
            counts = from_counts(argv[argv.index("--counts") + 1])
        else:
            counts = step(argv[argv.index("--k") + 1], 10, "1/2", 5)
        est = geometry_cost(counts, digits, json="--json" in argv)
        print(f"{describe(argv):58} {got['seconds']:8.2f}s {got['cpu']:8.2f}s {est.seconds:8.2f}s "
              f"{got['bytes'] / 1e6:8.0f}MB {est.bytes / 1e6:8.0f}MB")


if __name__ == "__main__":
    main()
