# fast-flights — `just up` to run it, `just test` to test it.

set shell := ["bash", "-euo", "pipefail", "-c"]

# One build cache for every checkout, outside the clone.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") / ".cache/fast-flights/target")
export NEXT_TELEMETRY_DISABLED := "1"

# PostgreSQL used by the tests; each test makes and drops a database of its own on it.
pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# List the recipes.
default:
    @just --list

# The API + worker on the embedded SQLite database (./data/fast-flights.sqlite) and the web
# app on http://127.0.0.1:3000 (WEB_PORT). Ctrl-C stops both. Flags go to `fast-flights serve`.
up *ARGS: _frontend
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p data
    # A development secret kept in data/, so sessions outlive a restart.
    [ -s data/.dev-jwt-secret ] || (umask 077; head -c 48 /dev/urandom | base64 > data/.dev-jwt-secret)
    export JWT_SECRET="${JWT_SECRET:-$(cat data/.dev-jwt-secret)}"
    # …and the key that seals webhook secrets, so they can be opened after a restart.
    [ -s data/.dev-webhook-key ] || (umask 077; head -c 32 /dev/urandom | base64 > data/.dev-webhook-key)
    export WEBHOOK_SECRETS_KEY="${WEBHOOK_SECRETS_KEY:-$(cat data/.dev-webhook-key)}"
    export LISTEN_ADDR="${LISTEN_ADDR:-127.0.0.1:8080}"
    cargo build --bin fast-flights
    "$CARGO_TARGET_DIR/debug/fast-flights" serve {{ARGS}} &
    api=$!
    web=
    trap 'kill $api $web 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
    # The web app starts once the API answers; if the API stops first, so does this.
    until curl -fsS "http://$LISTEN_ADDR/healthz" >/dev/null 2>&1; do
        if ! kill -0 $api 2>/dev/null; then
            wait $api && status=0 || status=$?
            echo "fast-flights serve stopped (exit $status) before it answered on $LISTEN_ADDR" >&2
            exit 1
        fi
        sleep 0.2
    done
    cd frontend
    FAST_FLIGHTS_API_URL="http://$LISTEN_ADDR" node node_modules/next/dist/bin/next start -p "${WEB_PORT:-3000}" -H 127.0.0.1 &
    web=$!
    echo "API on http://$LISTEN_ADDR/graphql, web app on http://127.0.0.1:${WEB_PORT:-3000}"
    # Whichever stops first stops the other.
    wait -n $api $web && status=0 || status=$?
    echo "$( kill -0 $api 2>/dev/null && echo "the web app" || echo "the API" ) stopped (exit $status); stopping the other" >&2
    exit $status

# Every test: unit, property, API, protocol and crash tests on SQLite and PostgreSQL, then
# the browser tests.
test: _postgres _redis _nats
    TEST_DATABASE_URL="{{pg_url}}" cargo test --workspace --all-targets --no-fail-fast
    just e2e

# The browser tests: Playwright driving Chromium against the real binary on a fresh
# PostgreSQL database and `next start`. Screenshots land in frontend/test-results/.
e2e *ARGS: _postgres _frontend
    #!/usr/bin/env bash
    set -euo pipefail
    chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
    [ -x "$chromium" ] || { echo "the browser tests need Chromium at $chromium (Debian: apt-get install chromium), or CHROMIUM_PATH" >&2; exit 1; }
    cargo build --bin fast-flights
    bin="$CARGO_TARGET_DIR/debug/fast-flights"
    db="ff_e2e_$(date +%s)_$$"
    psql "{{pg_url}}" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
    trap 'psql "{{pg_url}}" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    export E2E_DATABASE_URL="${TEST_DATABASE_URL:-{{pg_url}}}"
    export E2E_DATABASE_URL="${E2E_DATABASE_URL%/*}/$db"
    export E2E_ADMIN_EMAIL="admin@example.com" E2E_ADMIN_PASSWORD="admin password e2e"
    DATABASE_URL="$E2E_DATABASE_URL" "$bin" migrate >/dev/null
    DATABASE_URL="$E2E_DATABASE_URL" FAST_FLIGHTS_PASSWORD="$E2E_ADMIN_PASSWORD" \
        "$bin" user create --email "$E2E_ADMIN_EMAIL" --role admin >/dev/null
    rm -rf frontend/test-results
    cd frontend && FAST_FLIGHTS_BIN="$bin" CHROMIUM_PATH="$chromium" npx playwright test {{ARGS}}

# Install the web app's packages when the lock file changed, then type-check, check the
# generated GraphQL types against schema/schema.graphql, and build.
_frontend:
    #!/usr/bin/env bash
    set -euo pipefail
    cd frontend
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund
    fi
    npm run build

# Benchmarks (programs, not tests): `just bench [all|throughput|rss|fleet|rescue|ratelimit|import]`,
# `just bench api` for the GraphQL read beside its pgbench floor and PostGraphile,
# `just bench compare REV` (REV's throughput beside the work tree's, alternately),
# `just bench fanout [CLIENTSxSEARCHES …]` for live progress to many websocket clients, and
# `just bench web` for the web app's search page, `just bench cache` for the provider-answer
# cache (two overlapping searches: off, memory, Redis), `just bench replicas` for the read of
# `just bench api` with and without a streaming standby; results go in BENCHMARKS.md.
bench *ARGS: _postgres
    #!/usr/bin/env bash
    set -euo pipefail
    set -- {{ARGS}}
    if [ "${1:-}" = "compare" ]; then
        [ $# -eq 2 ] || { echo "usage: just bench compare REV" >&2; exit 2; }
        TEST_DATABASE_URL="{{pg_url}}" bench/compare.sh "$2"
        exit 0
    fi
    cargo build --release --bin fast-flights-bench --bin fast-flights
    if [ "{{ARGS}}" = "api" ]; then
        TEST_DATABASE_URL="{{pg_url}}" bench/api.sh "$CARGO_TARGET_DIR/release/fast-flights"
        exit 0
    fi
    if [ "{{ARGS}}" = "replicas" ]; then
        bench/replicas.sh "$CARGO_TARGET_DIR/release/fast-flights"
        exit 0
    fi
    if [ "{{ARGS}}" != "web" ]; then
        TEST_DATABASE_URL="{{pg_url}}" "$CARGO_TARGET_DIR/release/fast-flights-bench" {{ARGS}}
        exit 0
    fi
    just _frontend
    db="ff_bench_web_$(date +%s)_$$"
    psql "{{pg_url}}" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
    trap 'psql "{{pg_url}}" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    url="{{pg_url}}"
    cd frontend && FAST_FLIGHTS_BIN="$CARGO_TARGET_DIR/release/fast-flights" BENCH_DATABASE_URL="${url%/*}/$db" node bench/search-page.mjs

# Regenerate schema/schema.graphql from the code, and the web app's types from it.
schema:
    cargo run -q --bin fast-flights -- schema > schema/schema.graphql
    cd frontend && npm run codegen

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Start the local PostgreSQL if it is down (Debian's pg_ctlcluster); fail clearly otherwise.
_postgres:
    #!/usr/bin/env bash
    set -euo pipefail
    if pg_isready -q -d "{{pg_url}}" 2>/dev/null; then exit 0; fi
    if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
        echo "starting PostgreSQL…"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do pg_isready -q -d "{{pg_url}}" && exit 0; sleep 1; done
    fi
    echo "PostgreSQL is not reachable at {{pg_url}}; start it or set TEST_DATABASE_URL" >&2
    exit 1

# Start the local NATS (with JetStream) if it is down: the relay tests publish to it, and
# start servers of their own to stop and start.
_nats:
    #!/usr/bin/env bash
    set -euo pipefail
    up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
    if up; then exit 0; fi
    bin="$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null || true)"
    if [ -n "$bin" ]; then
        echo "starting NATS…"
        mkdir -p /tmp/fast-flights-nats
        if command -v start-stop-daemon >/dev/null; then
            start-stop-daemon --start --oknodo --background --exec "$bin" -- -a 127.0.0.1 -p 4222 -js -sd /tmp/fast-flights-nats || true
        else
            nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd /tmp/fast-flights-nats >/dev/null 2>&1 &
        fi
        for _ in $(seq 1 30); do up && exit 0; sleep 1; done
    fi
    echo "NATS is not reachable at 127.0.0.1:4222; start nats-server -js or set TEST_NATS_URL" >&2
    exit 1

# Start the local Redis if it is down (the log-in limit tests use it, under a key prefix of
# their own); fail clearly otherwise.
_redis:
    #!/usr/bin/env bash
    set -euo pipefail
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then exit 0; fi
    if command -v redis-server >/dev/null; then
        echo "starting Redis…"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
        for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 1; done
    fi
    echo "Redis is not reachable at 127.0.0.1:6379; start it or set TEST_REDIS_URL" >&2
    exit 1
