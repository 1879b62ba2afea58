"""`measurement.measure` streaming a memory-mapped .npy against loading everything densely.

    python benchmarks/bench_measure.py [--n 1000000] [--d 512] [--k 10] [--repeats 3] [--dir DIR]
    python benchmarks/bench_measure.py --quick          # n = 200,000

Writes features (n, d) float32 to DIR/H.npy (2 GB at the defaults; a temporary folder unless
--dir), long-tailed labels (CIFAR-10-LT's exponential profile, ratio 100) and a classifier, then
measures them in fresh processes, side by side:
  streaming  H = numpy.load(path, mmap_mode="r"); measure(W, H, y)   (blocks of 2^21 values)
  dense      H = numpy.load(path) (all of it in memory); measure(W, H, y, chunk_rows=n)
             (one block: the same arithmetic, with every intermediate n x d at once)
Reported per variant: the median wall time over --repeats runs, the peak of memory allocated
through Python's allocators (tracemalloc, which numpy reports to; a memory map's pages are the
kernel's page cache and not counted) and the process's peak resident set (ru_maxrss, which does
count resident mapped pages, reclaimable by the kernel). The two results are checked to agree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np


def make_inputs(folder: Path, n: int, d: int, k: int, seed: int = 0) -> None:
    from seli_exact.counts import long_tailed

    # CIFAR-10-LT's profile for k classes (ratio 100), scaled so that the counts add up to n
    profile = np.array(long_tailed(k, 100, n_max=5000).counts, dtype=float)
    counts = np.maximum(1, np.floor(profile / profile.sum() * n)).astype(int)
    counts[0] += n - counts.sum()
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(k), counts))
    means = rng.standard_normal((k, d)).astype(np.float32)
    H = np.lib.format.open_memmap(folder / "H.npy", mode="w+", dtype=np.float32, shape=(n, d))
    step = 65536
    for i in range(0, n, step):
        j = min(n, i + step)
        H[i:j] = means[y[i:j]] + 0.5 * rng.standard_normal((j - i, d), dtype=np.float32)
    H.flush()
    del H
    np.save(folder / "y.npy", y)
    np.save(folder / "W.npy", rng.standard_normal((k, d)))


def worker(folder: Path, variant: str, repeats: int) -> dict:
    """Run one variant `repeats` times for time, once more under tracemalloc; print JSON."""
    from measurement.report import measure

    W, y = np.load(folder / "W.npy"), np.load(folder / "y.npy")
    n = len(y)

    def once():
        if variant == "streaming":
            return measure(W, np.load(folder / "H.npy", mmap_mode="r"), y)
        return measure(W, np.load(folder / "H.npy"), y, chunk_rows=n)

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        m = once()
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    tracemalloc.start()
    once()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": statistics.median(times), "all_seconds": times, "traced_peak": peak,
            "max_rss": rss, "result": m.as_dict()}


def run_variant(folder: Path, variant: str, repeats: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, __file__, "--worker", variant, "--dir", str(folder),
                           "--repeats", str(repeats)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def max_rel_diff(a, b) -> float:
    if isinstance(a, dict):
        return max((max_rel_diff(a[key], b[key]) for key in a), default=0.0)
    if a is None or isinstance(a, str):
        return 0.0 if a == b else float("inf")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-300))) if x.size else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="n = 200,000, 2 repeats")
    ap.add_argument("--dir", help="folder for the inputs (kept); default a temporary folder")
    ap.add_argument("--worker", choices=("streaming", "dense"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.dir), args.worker, args.repeats)))
        return
    if args.quick:
        args.n, args.repeats = 200_000, 2
    tmp = None
    if args.dir:
        folder = Path(args.dir)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_measure_")
        folder = Path(tmp.name)
    try:
        t = time.perf_counter()
        make_inputs(folder, args.n, args.d, args.k)
        size = (folder / "H.npy").stat().st_size
        print(f"features {args.n} x {args.d} float32 ({size / 2**30:.2f} GiB) written in "
              f"{time.perf_counter() - t:.1f} s; k = {args.k}; {args.repeats} timed runs each, "
              f"{os.cpu_count()} CPUs")
        res = {v: run_variant(folder, v, args.repeats) for v in ("streaming", "dense")}
    finally:
        if tmp is not None:
            tmp.cleanup()
    s, d = res["streaming"], res["dense"]
    gib = lambda b: f"{b / 2**30:8.3f} GiB"  # noqa: E731
    print(f"{'variant':11} {'median [s]':>11} {'traced peak':>14} {'max RSS':>14}")
    for name, r in res.items():
        print(f"{name:11} {r['seconds']:11.2f} {gib(r['traced_peak']):>14} {gib(r['max_rss']):>14}")
    print(f"dense / streaming: time {d['seconds'] / s['seconds']:.2f}x, traced memory "
          f"{d['traced_peak'] / s['traced_peak']:.0f}x, RSS {d['max_rss'] / s['max_rss']:.1f}x")
    print(f"largest relative difference between the two results: "
          f"{max_rel_diff(s['result'], d['result']):.1e}")
    print(f"streaming: nc1 = {s['result']['nc1']:.6g}, distance to SELI (W) = "
          f"{s['result']['distance_to_seli']['classifiers']:.6g}")


if __name__ == "__main__":
    main()
