#!/usr/bin/env bash
# Install everything the tests need (Python packages; Chromium, PostgreSQL and Redis from Debian
# when missing and we may install them), then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "dev,translate,st"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium for the browser tests"
  apt_install chromium chromium-driver || echo "warning: could not install chromium"
fi

pg_ready() { .venv/bin/python - <<'PY'
import psycopg, sys
try:
    psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}
if ! pg_ready; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing Debian PostgreSQL for the storage tests"
    apt_install postgresql || echo "warning: could not install postgresql"
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -n | tail -n 1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    # Local test server only: trust on loopback, as on the CI machines.
    grep -q "faqbot-test" "$hba" || as_root sed -i "1i host all all 127.0.0.1/32 trust # faqbot-test" "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
      || as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    as_root su postgres -c "psql -qc 'CREATE DATABASE test'" 2>/dev/null || true
  fi
fi

# Redis: the shared server on 127.0.0.1:6379 (rate limits and live events across servers), and
# the redis-server program itself (a test starts a private one and stops it mid-traffic).
redis_ready() { .venv/bin/python -c "import redis; redis.Redis(socket_connect_timeout=2).ping()" 2>/dev/null; }
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Debian redis-server for the scale-out tests"
  apt_install redis-server || echo "warning: could not install redis-server"
fi
if ! redis_ready && command -v redis-server >/dev/null 2>&1; then
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 30); do redis_ready && break; sleep 0.2; done
fi

# axe-core (npm) checks the pages' accessibility in the browser tests.
AXE_VERSION=4.14.1
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --no-save --no-audit --no-fund --silent --prefix .cache/axe "axe-core@$AXE_VERSION" \
      || echo "warning: could not install axe-core"
  else
    echo "warning: npm is missing: the accessibility checks cannot run (apt-get install npm)"
  fi
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check bot tests scripts server.py
.venv/bin/mypy bot
.venv/bin/python -m pytest -q "$@"
