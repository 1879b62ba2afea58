"""Long tails at ImageNet-LT size: the SELI geometry and its sign certificate, beside dense
baselines, in one run.

    python benchmarks/bench_longtail.py [--quick] [--dense-svd]

Problem: exp:k=1000:ratio=256:n_max=1280 (n_c = floor(1280 * 256^(-c/999)), 529 distinct
counts, n = 229,853), and CIFAR-10-LT (exp:k=10:ratio=100) for scale.

1. float64 geometry (G_W, G_M, logits, singular values): seli_geometry by the secular route
   (the default), the dense route (LAPACK eigh of the k x k P D P) and the integral route
   (quadrature of Theorem 1's integrals), against the dense baselines numpy.linalg.eigh of
   P D P alone and numpy.linalg.svd of D^{1/2} P (k x k, the same singular values as Zhat);
   --dense-svd adds numpy.linalg.svd of the dense Zhat^T itself (n x k, 1.8 GB, about a minute).
   Target: the secular route answers in seconds.
2. The sign condition diag(G_M) > 0 > offdiag(G_M) at k = 1000: the interval certificate
   (python-flint's arb, every comparison decided on enclosures; enclose_G_M + the decision, and
   the full sign_certificate with its float64 and candidate margins) and the proven slack
   bound of step 6 (-G_M[i, j] >= F_k(n_i, n_j) > 0, evaluated in arb for every pair of distinct
   counts). Target: under a minute.
Every timing is the median of several repeats; ratios are of medians measured in this run, and
each route is checked against the others so the speed is not bought with a wrong answer.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from derivations.any_counts import slack_bound
from proofs_check.certificate import enclose_G_M, sign_certificate
from seli_exact import sel_matrix, seli_geometry
from seli_exact.counts import parse_profile

IMAGENET_LT = "exp:k=1000:ratio=256:n_max=1280"
CIFAR_LT = "exp:k=10:ratio=100"


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _pdp(counts) -> np.ndarray:
    n = np.asarray(counts.counts, dtype=float)
    P = np.eye(counts.k) - 1.0 / counts.k
    return P @ np.diag(n) @ P


def _max_rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def geometry_rows(spec: str, repeats: int, dense_svd: bool) -> list[tuple]:
    c = parse_profile(spec)
    label = f"k={c.k}, n={c.n}"
    ref = seli_geometry(c)
    rows = []
    t_sec = median_time(lambda: seli_geometry(c), repeats)
    rows.append((label, "seli_geometry, secular (default)", t_sec, t_sec, "-"))
    for route in ("dense", "integral"):
        t = median_time(lambda: seli_geometry(c, route=route), repeats)
        err = _max_rel(seli_geometry(c, route=route).M_gram, ref.M_gram)
        rows.append((label, f"seli_geometry, {route} route", t, t_sec, f"{err:.1e}"))
    A = _pdp(c)
    t = median_time(lambda: np.linalg.eigh(A), repeats)
    mu = np.linalg.eigvalsh(A)[1:][::-1]
    rows.append((label, "numpy eigh of P D P (values + vectors)", t, t_sec,
                 f"{np.max(np.abs(np.sqrt(mu) - ref.singular_values) / ref.singular_values):.1e}"))
    B = np.sqrt(np.asarray(c.counts, dtype=float))[:, None] * (np.eye(c.k) - 1.0 / c.k)
    t = median_time(lambda: np.linalg.svd(B), repeats)
    sv = np.linalg.svd(B, compute_uv=False)[: c.k - 1]
    rows.append((label, "numpy svd of D^(1/2) P (k x k)", t, t_sec,
                 f"{np.max(np.abs(sv - ref.singular_values) / ref.singular_values):.1e}"))
    if dense_svd:
        Zt = sel_matrix(c).T  # (n, k)
        t = median_time(lambda: np.linalg.svd(Zt, full_matrices=False), 1)
        sv = np.linalg.svd(Zt, compute_uv=False)[: c.k - 1]
        rows.append((label, "numpy svd of the dense Zhat^T (n x k)", t, t_sec,
                     f"{np.max(np.abs(sv - ref.singular_values) / ref.singular_values):.1e}"))
        del Zt
    return rows


def certificate_rows(spec: str, repeats: int) -> tuple[list[tuple], dict]:
    from flint import arb

    c = parse_profile(spec)
    label = f"k={c.k}, J={len(c.blocks())} distinct counts"

    def interval():
        enc = enclose_G_M(c)
        if not enc.sign_proven():
            raise ArithmeticError(f"the interval certificate did not prove {spec}")
        return enc

    t_enc = median_time(interval, repeats)
    t_full = median_time(lambda: sign_certificate(c), max(1, repeats // 2))
    cert = sign_certificate(c)
    values = [a for a, _ in c.blocks()]

    def slack():
        worst = None
        for p, a in enumerate(values):
            for b in values[p:]:
                F = slack_bound(c.k, arb(a), arb(b))
                if not F > 0:
                    raise ArithmeticError("a slack bound is not positive")
                worst = F if worst is None or F < worst else worst
        return worst

    t_slack = median_time(slack, repeats)
    enc = interval()
    # the certified off-diagonal margin must clear the proven bound, pair by pair
    with enc._be.scope():
        ratio = min(float((-x / slack_bound(c.k, arb(enc.values[p]), arb(enc.values[q]))).mid())
                    for kind, p, q, x in enc.entries() if kind == "off")
    proven = "proven" if cert.proven else "NOT proven"
    margin = f"margin {cert.interval_margin:.3e} +- {cert.interval_radius:.1e}"
    rows = [
        (label, "interval certificate: enclose_G_M + decide (arb)", t_enc, proven),
        (label, "sign_certificate (+ float64, candidate margins)", t_full, margin),
        (label, "slack bound F_k > 0 for every pair (arb)", t_slack,
         f"min F_k {float(slack().mid()):.3e}"),
    ]
    return rows, {"min -G_M / F_k over pairs": ratio, "t_enc": t_enc}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--dense-svd", action="store_true",
                    help="also time numpy's SVD of the dense (n, k) Zhat^T (1.8 GB, about a minute)")
    args = ap.parse_args()
    rep = 3 if args.quick else 7

    geo = geometry_rows(CIFAR_LT, rep * 3, False) + geometry_rows(IMAGENET_LT, rep, args.dense_svd)
    print("1. float64 SELI geometry (G_W, G_M, logits, singular values): "
          f"{CIFAR_LT} and {IMAGENET_LT}")
    print(f"{'problem':18} {'method':40} {'median [s]':>10} {'/ secular':>10} {'rel. err':>13}")
    for label, method, t, t_ref, err in geo:
        print(f"{label:18} {method:40} {t:10.4g} {t / t_ref:9.2f}x {err:>13}")

    print("rel. err: max over entries of |G_M - secular G_M| / |secular G_M| for the routes; of "
          "the singular values for the baselines")
    rows, extra = certificate_rows(IMAGENET_LT, 3 if args.quick else 5)
    t_eigh = median_time(lambda: np.linalg.eigh(_pdp(parse_profile(IMAGENET_LT))), rep)
    print()
    print(f"2. The sign condition at k = 1000, {IMAGENET_LT} (target: under a minute)")
    print(f"{'problem':30} {'method':50} {'median [s]':>10} {'/ eigh':>8}  result")
    for label, method, t, result in rows:
        print(f"{label:30} {method:50} {t:10.4g} {t / t_eigh:7.1f}x  {result}")
    print(f"{'':30} {'numpy eigh of P D P (float64, no proof)':50} {t_eigh:10.4g} {1.0:7.1f}x")
    print(f"min over pairs of -G_M / F_k (certified G_M vs the proven bound): "
          f"{extra['min -G_M / F_k over pairs']:.6f} (>= 1 required)")


if __name__ == "__main__":
    main()
