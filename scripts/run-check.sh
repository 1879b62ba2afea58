#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the theorem checker; extra arguments go to `seli check`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/seli check "$@"
