#!/usr/bin/env bash
# Create .venv (Python 3.11) with PyTorch and the project installed editable; safe to rerun.
#
# PyTorch: if .venv has no torch yet, this installs torch==2.13.0 (on machines that carry the
# CPU wheel locally this is the CPU build; elsewhere set TORCH_INDEX_URL, e.g. to PyTorch's CPU
# or CUDA wheel index). GPU users: install your CUDA build of torch into .venv first; this script
# keeps any torch it finds.
# LaTeX: `seli latex` output is compiled by the tests; pdflatex comes from Debian's
# texlive-latex-base, installed here when missing and apt-get is usable (root).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    .venv/bin/pip install -q "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
  else
    .venv/bin/pip install -q "torch==2.13.0"
  fi
fi
.venv/bin/pip install -q -e ".[cvxpy,sweep,test]"

if ! command -v pdflatex >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq texlive-latex-base >/dev/null
  else
    echo "note: pdflatex not found; install texlive-latex-base to compile \`seli latex\` output" >&2
  fi
fi
