#!/usr/bin/env bash
# Create .venv and install faqbot into it. Usage: scripts/setup.sh [EXTRAS]
# EXTRAS is a pip extras list such as "dev,translate,st"; empty = the torch-free default.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
extras=${1:-}
if [ -n "$extras" ]; then
  # torch first and pinned: its CPU build; otherwise pip pulls a multi-GB CUDA build.
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[${extras}]"
else
  .venv/bin/python -m pip install -q -e .
fi
