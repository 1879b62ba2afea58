"""What a training run costs before it starts: the arithmetic of a network, the seconds of a
run, and the CPU threads worth giving it. Imports no torch (the CLI checks flags with it).

**Network arithmetic.** `network_macs(arch, shape, k, width)` counts the multiply-adds of one
forward pass of one image through the networks of training.models, layer by layer (convolutions
and linear layers; batch norm, ReLU and pooling are a few operations per activation and are left
out), and `network_params` their parameters. A training step costs about three forward passes
(forward, and the backward pass's two products per layer) on `batch` images.

**Seconds.** Each estimate is a sum of counted work times a constant fitted on a 2-core x86
machine, by `benchmarks/bench_ufm.py --fit` and `benchmarks/bench_deepnet.py --fit`, one thread,
rounded up (rerun them to refit on other hardware):

  UFM, kernel engine   (steps KERNEL_STEP_S + epochs sum_r n_r k d KERNEL_NKD_S) / parallel,
                       parallel = min(threads, runs, cores): the runs are split over threads
  UFM, torch engine    epochs max_r ceil(n_r / b) (TORCH_STEP_S + runs b k d TORCH_NKD_S)
  UFM, autograd        steps (AUTOGRAD_STEP_S + b k d TORCH_NKD_S)
  UFM metrics          rows (runs EVAL_RUN_S + sum_r n_r k d EVAL_NKD_S), rows = log-spaced epochs
  deep net, CPU        epochs ceil(n / b) (layers DN_LAYER_S + 6 macs b / F)
                       + measured epochs (DN_MEASURE_S + 2 macs n / F), F = DN_LINEAR_FLOPS for
                       the MLP, DN_CONV_FLOPS for the conv nets; measured epochs = the log-spaced
                       ones + up to DN_DENSE_EPOCHS before zero training error

Runs on cuda are not estimated (no GPU has been measured). The estimates are meant to tell a
minute from an hour from a month (a mistyped --epochs), not to time a run: on the machine they
were fitted on they land within about 4x of the measured time, mostly above it (Fig 4: 169 s
estimated, 40-137 s measured; the long-tail Fig 4: 388 s, 166-494 s; Fig 2 on digits: 171 s,
about 75-180 s).

**Threads.** Intra-op threads pay for themselves only when one batch holds enough arithmetic to
split: below THREADS_MIN_FLOPS floating-point operations per training step a network runs on one
thread, above it on every core available to the process (its CPU affinity and cgroup quota),
never more. Measured by benchmarks/bench_threads.py on 2 cores (MLPs on digits, batch 32): two
threads take 0.98-1.05x the one-thread time up to 8e6 flops a step, 0.95-1.26x at 2.9e7 (the
digits MLP of Fig 2), 0.74x at 1.1e8, 0.49x at 1.6e9; beside a process that keeps one core
busy, two threads take 2.2x the one-thread time at any size (a whole Fig 2 on the loaded shared
machine: 51 min against about 1.5 min). The threshold lies between the last size that does not
gain and the first that does; above it the default is still all cores, which beside other busy
processes is the wrong choice (pass --threads 1 on a shared machine).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

# ---- fitted constants (see the module docstring); seconds
KERNEL_STEP_S = 0.5e-6
KERNEL_NKD_S = 9e-9
TORCH_STEP_S = 60e-6
TORCH_NKD_S = 18e-9
AUTOGRAD_STEP_S = 400e-6
EVAL_RUN_S = 0.5e-3
EVAL_NKD_S = 20e-9
DN_LAYER_S = 0.9e-3  # per layer with weights and step: the launch and optimizer overhead
DN_LINEAR_FLOPS = 3.5e10  # flop/s of one thread, linear layers
DN_CONV_FLOPS = 1.1e10  # convolutions on small images
DN_MEASURE_S = 0.06  # the metrics of one measured epoch, besides its forward pass
DN_DENSE_EPOCHS = 30
THREADS_MIN_FLOPS = 6e7

_VGG13 = (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
_WIDTH = {"mlp": 256, "resnet18": 64, "vgg13": 64}


def network_macs(arch: str, shape, k: int, width: int | None = None) -> int:
    """Multiply-adds of one forward pass of one image (convolutions and linear layers).

    >>> network_macs("mlp", (1, 8, 8), 10, 256)  # 64*256 + 2*256*256 + 256*10
    150016
    """
    return _count(arch, shape, k, width)[0]


def network_params(arch: str, shape, k: int, width: int | None = None) -> int:
    """Trainable parameters (weights, biases and batch-norm scales and shifts).

    >>> network_params("mlp", (1, 8, 8), 10, 256)  # 3 x (Linear + bias + BN) + classifier
    152320
    """
    return _count(arch, shape, k, width)[1]


def network_layers(arch: str, shape, k: int, width: int | None = None) -> int:
    """Layers with weights (convolutions and linear layers, the classifier included).

    >>> network_layers("mlp", (1, 8, 8), 10), network_layers("resnet18", (3, 32, 32), 10)
    (4, 21)
    """
    return _count(arch, shape, k, width)[2]


def _count(arch: str, shape, k: int, width: int | None) -> tuple[int, int, int]:
    c, h, w = (int(v) for v in shape)
    width = _WIDTH[arch] if width is None else int(width)
    macs = params = layers = 0
    if arch == "mlp":
        fan_in = c * h * w
        for _ in range(3):  # training.models.mlp: depth 3, Linear + BatchNorm1d + ReLU
            macs += fan_in * width
            params += fan_in * width + width + 2 * width
            fan_in = width
        return macs + width * k, params + width * k, 4

    def conv(c_in, c_out, size, kernel):
        nonlocal macs, params, layers
        macs += c_in * c_out * kernel * kernel * size[0] * size[1]
        params += c_in * c_out * kernel * kernel + 2 * c_out  # + its batch norm
        layers += 1

    if arch == "resnet18":
        size = (h, w)
        conv(c, width, size, 3)
        c_in = width
        for i, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            for j in range(2):
                if i > 0 and j == 0:  # stride 2: (s + 2 - 3) // 2 + 1
                    size = ((size[0] - 1) // 2 + 1, (size[1] - 1) // 2 + 1)
                    conv(c_in, c_out, size, 1)  # the shortcut's 1x1 convolution
                conv(c_in, c_out, size, 3)
                conv(c_out, c_out, size, 3)
                c_in = c_out
        return macs + c_in * k, params + c_in * k, layers + 1
    if arch == "vgg13":
        size = (h, w)
        c_in = c
        for v in _VGG13:
            if v == "M":
                if min(size) >= 2:
                    size = (size[0] // 2, size[1] // 2)
                continue
            c_out = v * width // 64
            conv(c_in, c_out, size, 3)
            c_in = c_out
        return macs + c_in * k, params + c_in * k, layers + 1
    raise ValueError(f"unknown architecture {arch!r}")


def step_flops(arch: str, shape, k: int, width: int | None, batch: int) -> float:
    """Floating-point operations of one training step: 3 passes x 2 flops per multiply-add."""
    return 6.0 * network_macs(arch, shape, k, width) * batch


def cores() -> int:
    """The CPU cores this process may use: its affinity mask, capped by a cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def default_threads(flops_per_step: float, available: int | None = None) -> int:
    """The CPU threads a network of `flops_per_step` gets when none are asked for: one below
    THREADS_MIN_FLOPS, else every core available (see the module docstring).

    >>> default_threads(2.9e7, available=16), default_threads(1e10, available=16)
    (1, 16)
    """
    available = cores() if available is None else available
    return 1 if flops_per_step < THREADS_MIN_FLOPS else max(1, available)


def ufm_seconds(*, engine: str, runs: list[int], k: int, d: int, batch: int | None,
                epochs: int, rows: int, threads: int) -> float:
    """Estimated seconds of a UFM training: `runs` lists each run's n, `batch` is None for gd,
    `rows` the number of metric evaluations, `threads` the kernel's (see the module docstring)."""
    nkd = sum(runs) * k * d  # per epoch, all runs
    steps = sum(1 if batch is None else -(-n // batch) for n in runs)  # per epoch, all runs
    if engine == "kernel":
        parallel = max(1, min(threads, len(runs), cores()))
        train = epochs * (steps * KERNEL_STEP_S + nkd * KERNEL_NKD_S) / parallel
    elif engine == "torch":
        per = max(runs) if batch is None else batch
        longest = 1 if batch is None else max(-(-n // batch) for n in runs)
        train = epochs * longest * (TORCH_STEP_S + len(runs) * per * k * d * TORCH_NKD_S)
    else:
        train = epochs * (steps * AUTOGRAD_STEP_S + nkd * TORCH_NKD_S)
    return train + rows * (len(runs) * EVAL_RUN_S + nkd * EVAL_NKD_S)


def deepnet_seconds(*, arch: str, shape, k: int, width: int | None, n: int, batch: int,
                    epochs: int, measured: int) -> float:
    """Estimated seconds of a deep-net training on the CPU (one thread; see the docstring)."""
    macs, _, layers = _count(arch, shape, k, width)
    flops = DN_LINEAR_FLOPS if arch == "mlp" else DN_CONV_FLOPS
    step = layers * DN_LAYER_S + 6.0 * macs * batch / flops
    measure = DN_MEASURE_S + 2.0 * macs * n / flops
    return epochs * -(-n // batch) * step + measured * measure
