"""Structured SEL-matrix SVD against dense SVDs, side by side in one run.

    python benchmarks/bench_svd.py [--quick]

1. float64, k = 100, n about 1e5: seli_exact.sel_svd vs numpy.linalg.svd of the dense Zhat^T
   (target: >= 1000x). Both STEP and an arbitrary count vector with 100 distinct counts.
2. 30 digits, k = 10, n = 200: sel_svd("mpmath", 30) vs mpmath.svd_r on the dense Zhat^T
   (target: >= 100x).
3. 100 digits, k = 50, n about 1e6: SVD and full SELI geometry (target: < 2 s).
Every timing is the median of several repeats; the ratio is of medians measured in this run.
Each pair is also checked to agree, so the speed is not bought with a wrong answer.
"""

from __future__ import annotations

import argparse
import statistics
import time

import mpmath
import numpy as np

from seli_exact import from_counts, sel_matrix, sel_svd, seli_geometry, step


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    rep_dense, rep_fast = (1, 20) if args.quick else (3, 200)
    rows = []

    rng = np.random.default_rng(0)
    cases = {
        "STEP k=100 (R=10, rho=1/2, n_min=182)": step(100, 10, "1/2", 182),
        "100 distinct counts": from_counts(sorted(rng.choice(np.arange(100, 1900), 100, replace=False).tolist(), reverse=True)),
    }
    for label, c in cases.items():
        Zt = sel_matrix(c).T  # (n, k)
        t_dense = median_time(lambda: np.linalg.svd(Zt, full_matrices=False), rep_dense)
        t_fast = median_time(lambda: sel_svd(c), rep_fast)
        dense_sigma = np.linalg.svd(Zt, compute_uv=False)[: c.k - 1]
        err = np.max(np.abs(sel_svd(c).sigma - dense_sigma)) / dense_sigma[0]
        rows.append((f"float64 {label}, n={c.n}", "numpy.linalg.svd dense", t_dense, t_fast, f"{err:.1e}", ">= 1000x"))
        del Zt

    c = from_counts([40, 35, 30, 25, 20, 15, 12, 10, 8, 5])  # k = 10, n = 200
    Zt = mpmath.matrix(sel_matrix(c, "mpmath", 30).T.tolist())
    t_fast = median_time(lambda: sel_svd(c, "mpmath", 30), rep_fast // 4)
    s = sel_svd(c, "mpmath", 30)
    # sel_svd returns U, Lam and V, so the like-for-like reference is svd_r with compute_uv=True;
    # the singular-values-only call is listed too
    for uv in (True, False):
        with mpmath.workdps(30):
            t_dense = median_time(lambda: mpmath.svd_r(Zt, compute_uv=uv), 1 if args.quick else 3)
            out = mpmath.svd_r(Zt, compute_uv=uv)
            dense_sigma = sorted(out[1] if uv else out, reverse=True)[: c.k - 1]
            err = max(abs(x - y) for x, y in zip(dense_sigma, s.sigma)) / dense_sigma[0]
        rows.append((f"30 digits, k=10, n={c.n}", f"mpmath.svd_r, uv={uv}", t_dense, t_fast,
                     mpmath.nstr(err, 2), ">= 100x"))

    big = step(50, 10, "1/2", 3637)
    rng_counts = from_counts(sorted((rng.choice(np.arange(10_000, 30_000), 50, replace=False)).tolist(), reverse=True))
    t_step = median_time(lambda: seli_geometry(big, "mpmath", 100), 3)
    t_rand = median_time(lambda: seli_geometry(rng_counts, "mpmath", 100), 3)

    print(f"{'case':58} {'reference':24} {'ref [s]':>10} {'ours [s]':>10} {'ratio':>9} {'rel. err':>9}  target")
    for label, ref, td, tf, err, target in rows:
        print(f"{label:58} {ref:24} {td:10.4g} {tf:10.4g} {td / tf:8.0f}x {err:>9}  {target}")
    print(f"{'100 digits SVD + SELI geometry, STEP k=50, n=' + str(big.n):58} {'':24} {'':>10} {t_step:10.4g} {'':>9} {'':>9}  < 2 s")
    print(f"{'100 digits SVD + SELI geometry, 50 distinct counts, n=' + str(rng_counts.n):58} {'':24} {'':>10} {t_rand:10.4g} {'':>9} {'':>9}  < 2 s")


if __name__ == "__main__":
    main()
