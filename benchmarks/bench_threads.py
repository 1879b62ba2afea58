"""CPU threads for deep nets: the digits MLP and a wider network at 1 and 2 threads and at the
default training.cost.default_threads picks, side by side, idle and beside a competing process.

    python benchmarks/bench_threads.py [--epochs 5] [--reps 3] [--no-load] [--sweep]

For each network: seconds per training epoch on (10, 1/2)-STEP digits (n = 935, batch 32),
median over --reps interleaved repetitions of --epochs epochs each (after a warm-up epoch), at
threads 1, 2 and the default, and the ratios to one thread. Then the same with a competing
process that keeps one core busy (a Python busy loop, as another user's job would), unless
--no-load: intra-op threads that wait on a descheduled partner make every small operation pay
for the wait, which is how `seli reproduce fig2` on digits once took 936 s instead of 60 s.

--sweep also times MLPs of widths 64 to 2048 at 1 and 2 threads (idle), the flops per training
step beside the ratio t2 / t1: where the ratio drops below 1 is where a second thread starts to
pay, the threshold training.cost.THREADS_MIN_FLOPS is set from.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import torch

from training.cost import cores, default_threads, step_flops
from training.data import load_digits, step_subsample
from training.deepnet import to_device, train_epoch
from training.models import build_model

NETWORKS = (("digits MLP (the Fig 2 default)", "mlp", 256), ("wide MLP", "mlp", 1024))


def _busy() -> None:
    while True:
        pass


def epoch_seconds(arch: str, width: int, threads: int, x, y, *, epochs: int) -> float:
    """Median seconds of `epochs` training epochs at `threads` (after one warm-up epoch)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = build_model(arch, (1, 8, 8), 10, width=width, seed=0)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        gen = torch.Generator().manual_seed(0)
        train_epoch(model, opt, x, y, batch_size=32, generator=gen).item()
        out = []
        for _ in range(epochs):
            t = time.perf_counter()
            train_epoch(model, opt, x, y, batch_size=32, generator=gen).item()
            out.append(time.perf_counter() - t)
        return statistics.median(out)
    finally:
        torch.set_num_threads(saved)


def compare(x, y, *, epochs: int, reps: int) -> list[dict]:
    rows = []
    for label, arch, width in NETWORKS:
        flops = step_flops(arch, (1, 8, 8), 10, width, 32)
        chosen = default_threads(flops)
        counts = sorted({1, 2, chosen})
        times: dict[int, list[float]] = {t: [] for t in counts}
        for _ in range(reps):  # interleaved, so that load from others hits every count alike
            for t in counts:
                times[t].append(epoch_seconds(arch, width, t, x, y, epochs=epochs))
        med = {t: statistics.median(v) for t, v in times.items()}
        rows.append({"label": label, "flops": flops, "default": chosen, "median": med})
    return rows


def show(rows: list[dict], title: str) -> None:
    print(title)
    for r in rows:
        med, t1 = r["median"], r["median"][1]
        cells = ", ".join(f"{t} thread{'s' if t > 1 else ''} {med[t] * 1e3:.1f} ms "
                          f"({med[t] / t1:.2f}x)" for t in sorted(med))
        print(f"  {r['label']}: {r['flops']:.3g} flops/step, default {r['default']} thread(s); "
              f"per epoch: {cells}; default / best = "
              f"{med[r['default']] / min(med.values()):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-load", dest="load", action="store_false")
    ap.add_argument("--sweep", action="store_true")
    a = ap.parse_args()
    sub = step_subsample(load_digits(), 10, "1/2", seed=0)
    x, y = to_device(sub, "cpu")
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{cores()} cores available, torch's own default {torch.get_num_threads()} threads")
    show(compare(x, y, epochs=a.epochs, reps=a.reps), "idle (apart from other users):")
    if a.load:
        busy = mp.get_context("spawn").Process(target=_busy, daemon=True)
        busy.start()
        try:
            time.sleep(1.0)
            show(compare(x, y, epochs=a.epochs, reps=a.reps),
                 "beside a process that keeps one core busy:")
        finally:
            busy.terminate()
            busy.join()
    if a.sweep:
        print("MLP widths, idle: flops per step and t2 / t1")
        for width in (64, 128, 256, 512, 1024, 2048):
            t = {n: statistics.median([epoch_seconds("mlp", width, n, x, y, epochs=a.epochs)
                                       for _ in range(a.reps)]) for n in (1, 2)}
            print(f"  width {width:5d}: {step_flops('mlp', (1, 8, 8), 10, width, 32):9.3g} "
                  f"flops/step, 1 thread {t[1] * 1e3:7.1f} ms, 2 threads {t[2] * 1e3:7.1f} ms, "
                  f"t2 / t1 = {t[2] / t[1]:.2f}")


if __name__ == "__main__":
    main()
