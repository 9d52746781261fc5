#!/usr/bin/env bash
# Set up and run faqbot on embedded defaults: SQLite under data/, the shipped FAQ in faq_data/,
# the bundled multilingual model. Open http://127.0.0.1:8000/ for the demo shop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/faqbot build
exec .venv/bin/faqbot serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
