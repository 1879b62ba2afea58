"""Deep-net training speed: the resident-data loop of training.deepnet against a plain DataLoader.

    python benchmarks/bench_deepnet.py [--epochs 5] [--threads 1] [--gpu-epochs 3] [--bf16]
    python benchmarks/bench_deepnet.py --fit       # refit training.cost's deep-net constants

CPU (always): the digits default (MLP, (10, 1/2)-STEP digits, n = 935, batch 32), seconds per
training epoch, median over --epochs epochs after one warm-up epoch, for
  * resident: training.deepnet.train_epoch (tensors sliced by a seeded permutation);
  * plain:    torch.utils.data.DataLoader(TensorDataset, shuffle=True) on the same model;
plus the measuring pass (features, distances to SELI / ETF, NC1) and the whole 350-epoch run
estimated from them.

GPU (only when CUDA is available): ResNet-18 on (10, 1/2)-STEP CIFAR10-format synthetic data
(random 3x32x32 images, 5000 per class before subsampling: n = 27,500, batch 128), seconds per
epoch (median of --gpu-epochs after a warm-up epoch) for
  * resident: data on the GPU, channels_last, fp32 (and bf16 autocast with --bf16);
  * plain:    DataLoader over CPU tensors, .to(device) per batch, NCHW, fp32;
and the ratio plain / resident. `--gpu-on-cpu` runs that comparison on the CPU at a toy size,
to exercise the code path on a machine without a GPU (its timings mean nothing).

--fit times one training step (one thread, digits, batch 32 and 128) of MLPs of several widths,
ResNet-18 and VGG-13, and fits training.cost's model of a step, layers x DN_LAYER_S +
6 macs batch / F (F for linear layers and for convolutions), by nonnegative least squares; it
prints the constants beside training.cost's (these, rounded) and the estimate of Fig 2 on
digits beside README's measured time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from training.data import LabelledData, load_digits, step_subsample
from training.deepnet import DeepNetConfig, measure, to_device, train_epoch
from training.models import build_model
from training.runio import log_epochs


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def plain_epoch(model, optimizer, loader, device) -> None:
    """The textbook loop: batches from a DataLoader, copied to the device one by one."""
    model.train()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def timed_epochs(run_epoch, epochs: int, device) -> list[float]:
    """Seconds of each of `epochs` epochs after one warm-up epoch."""
    run_epoch()
    sync(device)
    out = []
    for _ in range(epochs):
        t = time.perf_counter()
        run_epoch()
        sync(device)
        out.append(time.perf_counter() - t)
    return out


def compare(subset, arch: str, *, device, batch_size: int, epochs: int, width=None,
            bf16: bool = False, channels_last: bool = False, seed: int = 0) -> dict:
    """Median seconds per epoch, resident loop vs plain DataLoader loop, on the same model."""
    cfg = DeepNetConfig(batch_size=batch_size)
    k = subset.counts.k

    def fresh(channels_last: bool):
        model = build_model(arch, subset.data.shape, k, width=width, seed=seed).to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                              weight_decay=cfg.weight_decay)
        return model, opt

    # resident: standardized tensors on the device, sliced by a seeded permutation
    x, y = to_device(subset, device, channels_last=channels_last)
    model, opt = fresh(channels_last)
    gen = torch.Generator().manual_seed(seed)
    resident = timed_epochs(
        lambda: train_epoch(model, opt, x, y, batch_size=batch_size, generator=gen,
                            bf16=bf16).item(), epochs, device)
    measure(model, x, y, subset.counts)  # warm-up: the SELI reference Grams are cached
    times = []
    for _ in range(3):
        t = time.perf_counter()
        measure(model, x, y, subset.counts)
        sync(device)
        times.append(time.perf_counter() - t)
    measure_s = statistics.median(times)

    # plain: the same standardized images as CPU tensors behind a DataLoader
    xc, yc = x.float().contiguous().cpu(), y.cpu()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xc, yc),
                                         batch_size=batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    model, opt = fresh(False)
    plain = timed_epochs(lambda: plain_epoch(model, opt, loader, device), epochs, device)
    r, p = statistics.median(resident), statistics.median(plain)
    return {"resident_s": r, "plain_s": p, "ratio": p / r, "measure_s": measure_s,
            "n": subset.counts.n, "resident_all": resident, "plain_all": plain}


def synthetic_cifar(per_class: int, seed: int = 0) -> LabelledData:
    """CIFAR10-format data: random 3x32x32 images in [0, 1], `per_class` of each of 10 classes."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), per_class)
    x = rng.random((y.size, 3, 32, 32), dtype=np.float32)
    return LabelledData("cifar10-synthetic", x, y.astype(np.int64), 10, "random")


FIT_MODELS = (("mlp", 64, 32), ("mlp", 256, 32), ("mlp", 1024, 32), ("mlp", 256, 128),
              ("resnet18", 4, 32), ("resnet18", 16, 32), ("vgg13", 16, 32))


def fit(epochs: int) -> None:
    """Fit training.cost's deep-net step model (see the module docstring) and print it."""
    from scipy.optimize import nnls  # costs are not negative

    from training import cost

    torch.set_num_threads(1)
    sub = step_subsample(load_digits(), 10, "1/2", seed=0)
    x, y = to_device(sub, "cpu")
    A, b = [], []
    for arch, width, batch in FIT_MODELS:
        model = build_model(arch, (1, 8, 8), 10, width=width, seed=0)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        gen = torch.Generator().manual_seed(0)
        step = timed_epochs(lambda: train_epoch(model, opt, x, y, batch_size=batch,
                                                generator=gen).item(), epochs, "cpu")
        flops = cost.step_flops(arch, (1, 8, 8), 10, width, batch)
        A.append([cost.network_layers(arch, (1, 8, 8), 10, width),
                  flops if arch == "mlp" else 0.0, 0.0 if arch == "mlp" else flops])
        b.append(statistics.median(step) / -(-y.shape[0] // batch))
    sol, _ = nnls(np.array(A), np.array(b))
    print(f"DN_LAYER_S {sol[0]:.3g} (training.cost {cost.DN_LAYER_S:.3g}), DN_LINEAR_FLOPS "
          f"{1 / sol[1] if sol[1] else float('inf'):.3g} ({cost.DN_LINEAR_FLOPS:.3g}), "
          f"DN_CONV_FLOPS {1 / sol[2] if sol[2] else float('inf'):.3g} "
          f"({cost.DN_CONV_FLOPS:.3g})")
    for (arch, width, batch), row, t in zip(FIT_MODELS, A, b):
        print(f"  {arch} width {width} batch {batch}: {t * 1e3:.2f} ms/step measured, "
              f"{np.dot(row, sol) * 1e3:.2f} fitted")
    est = sum(DeepNetConfig(R=R).seconds_estimate() for R in (1, 10, 100))
    print(f"Fig 2 on digits (R = 1, 10, 100) estimated {est:.0f} s (README: about 34 s per R)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5, help="timed CPU epochs (median)")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    ap.add_argument("--gpu-epochs", dest="gpu_epochs", type=int, default=3)
    ap.add_argument("--bf16", action="store_true", help="also time the resident loop with bf16")
    ap.add_argument("--gpu-on-cpu", dest="gpu_on_cpu", action="store_true",
                    help="run the ResNet comparison on the CPU at a toy size (code path only)")
    ap.add_argument("--fit", action="store_true", help="refit training.cost's deep-net constants")
    args = ap.parse_args()
    if args.fit:
        fit(args.epochs)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")

    # ---- CPU: the digits default
    sub = step_subsample(load_digits(), 10, "1/2", seed=0)
    cfg = DeepNetConfig()
    res = compare(sub, "mlp", device="cpu", batch_size=cfg.batch_size, epochs=args.epochs)
    total = cfg.epochs * res["resident_s"]
    n_measured = len(log_epochs(cfg.epochs, cfg.per_decade)) + 10  # + dense until zero error
    print(f"CPU, MLP on (10, 1/2)-STEP digits (n = {res['n']}, batch {cfg.batch_size}), "
          f"median of {args.epochs} epochs:")
    print(f"  resident loop   {res['resident_s'] * 1e3:8.1f} ms/epoch")
    print(f"  plain DataLoader {res['plain_s'] * 1e3:7.1f} ms/epoch   (plain / resident = "
          f"{res['ratio']:.2f}x)")
    print(f"  measuring pass  {res['measure_s'] * 1e3:8.1f} ms")
    print(f"  350 epochs: about {total + n_measured * res['measure_s']:.0f} s "
          f"({n_measured} measured epochs)")

    # ---- GPU: ResNet-18 on STEP CIFAR10-format data
    if torch.cuda.is_available() or args.gpu_on_cpu:
        on_gpu = torch.cuda.is_available() and not args.gpu_on_cpu
        device = "cuda" if on_gpu else "cpu"
        per_class, width, epochs = (5000, None, args.gpu_epochs) if on_gpu else (60, 4, 1)
        sub = step_subsample(synthetic_cifar(per_class), 10, "1/2", seed=0)
        name = torch.cuda.get_device_name() if on_gpu else "CPU (toy size, code path only)"
        print(f"{name}: ResNet-18 (width {width or 64}) on (10, 1/2)-STEP CIFAR10-format "
              f"synthetic data, n = {sub.counts.n}, batch 128, median of {epochs} epochs:")
        variants = [("fp32, channels_last", False)] + ([("bf16, channels_last", True)]
                                                       if args.bf16 else [])
        for label, bf16 in variants:
            r = compare(sub, "resnet18", device=device, batch_size=128, epochs=epochs,
                        width=width, bf16=bf16, channels_last=True)
            print(f"  resident ({label}) {r['resident_s']:7.3f} s/epoch   plain DataLoader "
                  f"(fp32, NCHW) {r['plain_s']:7.3f} s/epoch   ratio {r['ratio']:.2f}x   "
                  f"measuring pass {r['measure_s']:.3f} s")
    else:
        print("no CUDA device: GPU section skipped")


if __name__ == "__main__":
    main()
