#!/usr/bin/env bash
# Install everything and run every test: lint, import contracts, the suite on SQLite, then on PostgreSQL.
# Usage: tools/test.sh [extra pytest args]
# Env: TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test), VENV (default .venv),
#      CI=true makes PostgreSQL and browser tests mandatory (they fail instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PG_URL=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}

say() { printf '\n==> %s\n' "$*"; }

# Debian packages: chromium for the browser tests, poppler (pdftoppm) and openssl for independent checking.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # verifies the Apple Wallet pass's signature independently
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Arabic, Tigrinya and Cyrillic pages in the browser tests (the PDFs embed fonts from the package instead)
[ -e /usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf ] || need+=(fonts-noto-core)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Services: PostgreSQL (and Redis for rate-limit storage in production-like runs).
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
fi

say "first run: a plain 'pip install .' (no extras) in a clean virtual environment, demo, every role's page"
FIRST_RUN_VENV=$(mktemp -d)/venv
python3 -m venv "$FIRST_RUN_VENV"
"$FIRST_RUN_VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$FIRST_RUN_VENV/bin/python" -m pip install -q .
PATH="$FIRST_RUN_VENV/bin:$PATH" "$FIRST_RUN_VENV/bin/python" tools/first_run.py
rm -rf "$(dirname "$FIRST_RUN_VENV")"

say "installing the package with its test extras into $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q ".[test]"

say "ruff and import contracts"
ruff check .
lint-imports

export PYTHONDONTWRITEBYTECODE=1
# The browser tests drive pages, not the database: they run once, on PostgreSQL (production's database);
# everything else runs on both. BROWSER_ON_SQLITE=1 runs them on SQLite too.
say "test suite on SQLite"
sqlite_only=(-m "not browser")
[ "${BROWSER_ON_SQLITE:-}" = 1 ] && sqlite_only=()
env -u DATABASE_URL -u TEST_DATABASE_URL python -m pytest -q -n 2 -p no:cacheprovider "${sqlite_only[@]}" "$@"

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ "${CI:-}" = "true" ]; then
  say "test suite on PostgreSQL ($PG_URL)"
  TEST_DATABASE_URL=$PG_URL python -m pytest -q -n 2 -p no:cacheprovider "$@"
else
  say "PostgreSQL not reachable: skipped the PostgreSQL run (CI=true would fail here); browser tests on SQLite"
  env -u DATABASE_URL -u TEST_DATABASE_URL python -m pytest -q -n 2 -p no:cacheprovider -m browser "$@"
fi
say "all tests passed"
