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

# API + worker on the embedded SQLite database (./data/fast-flights.sqlite).
up *ARGS:
    cargo run --bin fast-flights -- serve {{ARGS}}

# Every test: unit, property, API, protocol and crash tests, on SQLite and PostgreSQL.
test: _postgres
    TEST_DATABASE_URL="{{pg_url}}" cargo test --workspace --all-targets --no-fail-fast

# Benchmarks (a program, not a test): `just bench [all|throughput|rss|fleet|ratelimit|import]`; results go in BENCHMARKS.md.
bench *ARGS: _postgres
    cargo build --release --bin fast-flights-bench --bin fast-flights
    TEST_DATABASE_URL="{{pg_url}}" "$CARGO_TARGET_DIR/release/fast-flights-bench" {{ARGS}}

# Regenerate schema/schema.graphql from the code.
schema:
    cargo run -q --bin fast-flights -- schema > schema/schema.graphql

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
