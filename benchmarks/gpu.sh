#!/usr/bin/env bash
# The GPU measurements, in one run on a machine with CUDA (about 5 minutes on an H100):
#   1. the UFM: the plain torch.optim.SGD loop on cuda against the batched torch engine, eager and
#      replayed as CUDA graphs (bench_ufm.py's GPU section; the CPU figures are printed too);
#   2. ResNet-18 epochs on CIFAR-shaped synthetic (10, 1/2)-STEP data, the resident loop (fp32
#      and bf16) against a plain DataLoader loop (bench_deepnet.py's GPU section);
#   3. `seli check --profile thorough` (its training claims are small and run on the CPU).
# Results go to $OUT (default benchmarks/gpu-results/) as JSON and text; put the figures in the
# README's Benchmarks table. Needs a CUDA build of torch (see README, "PyTorch: CPU or GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-benchmarks/gpu-results}
mkdir -p "$OUT"
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: install a CUDA build of torch (README) and run this on a GPU machine')"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/device.txt"
"$PY" benchmarks/bench_ufm.py --reps 3 --json "$OUT/ufm.json" | tee "$OUT/ufm.txt"
"$PY" benchmarks/bench_deepnet.py --epochs 3 --gpu-epochs 3 --bf16 | tee "$OUT/deepnet.txt"
{ time "$PY" -m seli_cli.main check --profile thorough --progress never \
    --json "$OUT/check.json"; } 2>&1 | tee "$OUT/check.txt"
