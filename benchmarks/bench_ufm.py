"""Benchmark: batched UFM engines against the plain PyTorch loop, side by side in one process.

    python benchmarks/bench_ufm.py                 # medians of 5 interleaved repetitions
    python benchmarks/bench_ufm.py --full          # also time the whole Fig 4 (1e5 epochs)
    python benchmarks/bench_ufm.py --fit           # refit training.cost's UFM constants

When CUDA is available the script also times the GPU path once: the plain loop on the GPU and
the batched torch engine on the GPU, eager and replayed as CUDA graphs.

Plain loop: one run (R = 10, n = 396), nn.Parameters W (d x k) and H (d x n), torch.optim.SGD
(lr 0.4), F.cross_entropy on a batch of 4, loss.backward() and opt.step() per step -- the way
one would write Fig 4 in PyTorch. Measured with 1 and with 2 torch threads; the faster is the
reference. Batched: the 12 runs of Fig 4 (R = 1, 5, 10, 100 x seeds 0, 1, 2) at once with the
"kernel" engine (1 and 2 threads) and the batched "torch" engine. Throughput is optimizer steps
per second summed over the runs done at once. Repetitions are interleaved (baseline, kernel,
torch, baseline, ...) so that load from other processes hits all of them alike; medians and
the median of the per-repetition ratios are reported.

The whole-figure time is extrapolated from the measured kernel throughput (total steps /
steps per second), and with --full measured by running `train_ufm` for 1e5 epochs with its
metrics (no output folder).

--fit times the kernel (one thread) and the batched torch engine on configurations of several
k, d, batch sizes and GD, and one metric evaluation of several sizes, fits the cost model of
training.cost by nonnegative least squares (seconds = steps x STEP_S + epochs sum n k d x NKD_S, and per
evaluation runs x EVAL_RUN_S + sum n k d x EVAL_NKD_S) and prints the fitted constants beside
the ones in training.cost (which are these, rounded up), and the estimates of Fig 4 and of
the long-tail Fig 4 beside README's measured times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from seli_io.atomic import atomic_write
from training.ufm import UFMConfig, init_state, make_engine, make_runs, train_ufm


def plain_loop_rate(cfg: UFMConfig, seconds: float, threads: int) -> float:
    """Steps/s of the plain loop on run R=10, seed 0, for about `seconds` (on cfg.device)."""
    runs = [r for r in make_runs(cfg) if str(r.R) == "10"][:1]
    Wt, Ht = init_state(cfg, runs)
    n = runs[0].counts.n
    dev = torch.device(cfg.device)
    y = torch.as_tensor(runs[0].counts.labels()).to(dev)
    W = torch.nn.Parameter(Wt[0].T.clone().to(dev))  # (d, k)
    H = torch.nn.Parameter(Ht[0, :n].T.clone().to(dev))  # (d, n)
    opt = torch.optim.SGD([W, H], lr=cfg.lrs[0])
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        steps = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for idx in torch.randperm(n, device=dev).split(cfg.batch_size):
                loss = torch.nn.functional.cross_entropy((W.T @ H[:, idx]).T, y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                steps += 1
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return steps / (time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)


def batched_rate(cfg: UFMConfig, epochs: int) -> tuple[float, int]:
    """Steps/s summed over the runs of `cfg`, advancing `epochs` epochs with its engine."""
    runs = make_runs(cfg)
    Wt, Ht = init_state(cfg, runs)
    engine = make_engine(cfg, runs, Ht.shape[1])
    engine.advance(Wt, Ht, 0, 1)  # warm-up (kernel build / caches / graph capture)
    steps = sum(-(-r.counts.n // cfg.batch_size) for r in runs) * epochs
    sync = torch.cuda.synchronize if cfg.device == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    engine.advance(Wt, Ht, 1, 1 + epochs)
    sync()
    el = time.perf_counter() - t0
    engine.close()
    return steps / el, len(runs)


FIT_CONFIGS = (dict(R=(10,)), dict(R=(10,), d=64), dict(R=(10,), batch_size=32),
               dict(k=10, R=(10,)), dict(R=(10,), optimizer="gd"),
               dict(R=(10,), d=256, batch_size=64))


def fit(reps: int = 3) -> None:
    """Fit training.cost's UFM constants (see the module docstring) and print them."""
    import numpy as np
    from scipy.optimize import nnls  # costs are not negative

    from training import cost
    from training.ufm import evaluate

    for engine, target in (("kernel", (cost.KERNEL_STEP_S, cost.KERNEL_NKD_S)),
                           ("torch", (cost.TORCH_STEP_S, cost.TORCH_NKD_S))):
        A, b = [], []
        for kw in FIT_CONFIGS:
            cfg = UFMConfig(seeds=(0, 1, 2), engine=engine,
                            threads=1 if engine == "kernel" else 0, **kw)
            runs = make_runs(cfg)
            batch = None if cfg.optimizer == "gd" else cfg.batch_size
            epochs = max(2, int(3e6 / sum(r.counts.n * cfg.k * cfg.d for r in runs)))
            if engine == "torch":
                epochs = max(2, epochs // 30)
            sec = statistics.median(_advance_seconds(cfg, epochs) for _ in range(reps))
            ns = [r.counts.n for r in runs]
            if engine == "kernel":
                steps = sum(1 if batch is None else -(-n // batch) for n in ns)
                A.append([epochs * steps, epochs * sum(ns) * cfg.k * cfg.d])
            else:
                per = max(ns) if batch is None else batch
                longest = 1 if batch is None else max(-(-n // batch) for n in ns)
                A.append([epochs * longest, epochs * longest * len(ns) * per * cfg.k * cfg.d])
            b.append(sec)
        x, _ = nnls(np.array(A, dtype=float), np.array(b))
        print(f"{engine}: STEP_S {x[0]:.3g} (training.cost {target[0]:.3g}), NKD_S {x[1]:.3g} "
              f"(training.cost {target[1]:.3g})")
    A, b = [], []
    for profile in ("exp:k=10:ratio=1,10,100:n_max=100", "exp:k=10:ratio=1,10,100:n_max=1000"):
        cfg = UFMConfig(profile=profile, d=32)
        runs = make_runs(cfg)
        Wt, Ht = init_state(cfg, runs)
        evaluate(Wt, Ht, runs, cfg, 0)
        t = time.perf_counter()
        for _ in range(reps):
            evaluate(Wt, Ht, runs, cfg, 0)
        b.append((time.perf_counter() - t) / reps)
        A.append([len(runs), sum(r.counts.n for r in runs) * cfg.k * cfg.d])
    x, _ = nnls(np.array(A, dtype=float), np.array(b))
    print(f"metrics: EVAL_RUN_S {x[0]:.3g} (training.cost {cost.EVAL_RUN_S:.3g}), EVAL_NKD_S "
          f"{x[1]:.3g} (training.cost {cost.EVAL_NKD_S:.3g})")
    print(f"estimates with training.cost: Fig 4 {UFMConfig().seconds_estimate():.0f} s (README: "
          f"60-137 s measured), long-tail Fig 4 "
          f"{UFMConfig(profile='exp:k=10:ratio=1,10,100:n_max=100').seconds_estimate():.0f} s "
          "(README: 494 s)")


def _advance_seconds(cfg: UFMConfig, epochs: int) -> float:
    runs = make_runs(cfg)
    Wt, Ht = init_state(cfg, runs)
    engine = make_engine(cfg, runs, Ht.shape[1])
    engine.advance(Wt, Ht, 0, 1)
    t0 = time.perf_counter()
    engine.advance(Wt, Ht, 1, 1 + epochs)
    el = time.perf_counter() - t0
    engine.close()
    return el


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seconds", type=float, default=2.0, help="plain-loop time per repetition")
    p.add_argument("--epochs", type=int, default=300, help="kernel epochs per repetition")
    p.add_argument("--torch-epochs", type=int, default=10, help="batched-torch epochs per repetition")
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--full", action="store_true", help="also run the whole Fig 4 (1e5 epochs)")
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--fit", action="store_true", help="refit training.cost's UFM constants")
    a = p.parse_args(argv)
    if a.fit:
        fit(a.reps)
        return 0

    base = dict(d=a.d, dtype=a.dtype)
    cfg = UFMConfig(**base)
    res: dict[str, list[float]] = {k: [] for k in
                                   ("plain_1t", "plain_2t", "kernel_1t", "kernel_2t", "torch")}
    for rep in range(a.reps):
        res["plain_1t"].append(plain_loop_rate(cfg, a.seconds, 1))
        res["plain_2t"].append(plain_loop_rate(cfg, a.seconds, 2))
        res["kernel_1t"].append(batched_rate(UFMConfig(**base, engine="kernel", threads=1), a.epochs)[0])
        res["kernel_2t"].append(batched_rate(UFMConfig(**base, engine="kernel", threads=2), a.epochs)[0])
        res["torch"].append(batched_rate(UFMConfig(**base, engine="torch"), a.torch_epochs)[0])
        print(f"rep {rep + 1}/{a.reps}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in res.items()),
              file=sys.stderr, flush=True)
    plain = [max(x, y) for x, y in zip(res["plain_1t"], res["plain_2t"])]
    med = {k: statistics.median(v) for k, v in res.items()}
    ratio = {k: statistics.median([b / p_ for b, p_ in zip(res[k], plain)])
             for k in ("kernel_1t", "kernel_2t", "torch")}
    runs = make_runs(cfg)
    total_steps = sum(-(-r.counts.n // cfg.batch_size) for r in runs) * 100_000
    best = max(med["kernel_1t"], med["kernel_2t"])
    out = {
        "machine": {"cpus": torch.get_num_threads(), "torch": torch.__version__,
                    "dtype": a.dtype, "d": a.d},
        "steps_per_s_median": med,
        "speedup_vs_plain_median": ratio,
        "fig4_total_steps": total_steps,
        "fig4_extrapolated_s": total_steps / best,
        "plain_fig4_extrapolated_h": total_steps / statistics.median(plain) / 3600,
    }
    print(f"plain PyTorch loop (1 run):     {statistics.median(plain):>12,.0f} steps/s "
          f"(1 thread {med['plain_1t']:,.0f}, 2 threads {med['plain_2t']:,.0f})")
    for k, label in (("kernel_1t", "kernel, 1 thread"), ("kernel_2t", "kernel, 2 threads"),
                     ("torch", "batched torch")):
        print(f"{label + f' ({len(runs)} runs):':<32}{med[k]:>12,.0f} steps/s   x{ratio[k]:,.0f}")
    print(f"Fig 4 ({len(runs)} runs x 1e5 epochs = {total_steps:,} steps): extrapolated "
          f"{out['fig4_extrapolated_s']:.0f} s with the kernel "
          f"(plain loop: {out['plain_fig4_extrapolated_h']:.1f} h)")
    if a.full:
        t0 = time.perf_counter()
        r = train_ufm(UFMConfig(**base))
        out["fig4_measured_s"] = time.perf_counter() - t0
        out["fig4_engine"] = r.engine
        print(f"Fig 4 measured: {out['fig4_measured_s']:.0f} s ({r.engine} engine, metrics included)")
    if torch.cuda.is_available():
        # the GPU path, measured once: plain loop and batched torch engine (eager, CUDA graphs)
        gpu = {"device": torch.cuda.get_device_name(0)}
        gcfg = UFMConfig(**base, device="cuda", engine="torch")
        gpu["plain_steps_per_s"] = plain_loop_rate(gcfg, a.seconds, torch.get_num_threads())
        gpu["torch_steps_per_s"] = batched_rate(gcfg, a.torch_epochs)[0]
        graphs = UFMConfig(**base, device="cuda", engine="torch", cuda_graphs=True)
        gpu["graphs_steps_per_s"] = batched_rate(graphs, a.torch_epochs * 10)[0]
        for k in ("torch", "graphs"):
            gpu[f"{k}_vs_plain_gpu"] = gpu[f"{k}_steps_per_s"] / gpu["plain_steps_per_s"]
            gpu[f"{k}_vs_plain_cpu"] = gpu[f"{k}_steps_per_s"] / statistics.median(plain)
        out["cuda"] = gpu
        print(f"CUDA ({gpu['device']}): plain loop {gpu['plain_steps_per_s']:,.0f} steps/s; "
              f"batched torch {gpu['torch_steps_per_s']:,.0f} (x{gpu['torch_vs_plain_gpu']:,.0f}); "
              f"with CUDA graphs {gpu['graphs_steps_per_s']:,.0f} (x{gpu['graphs_vs_plain_gpu']:,.0f})")
    else:
        print("CUDA: not available on this machine; the GPU section was not run")
    if a.json:
        atomic_write(a.json, json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
