#!/usr/bin/env bash
# GraphQL read throughput of one or more fast-flights binaries, measured alternately in one
# run: each binary serves a fresh PostgreSQL database holding one finished search, and wrk
# asks for the job and its 50 cheapest offers over 32 connections for DURATION seconds.
#
#   bench/api-read.sh BIN [BIN…]        (ROUNDS=3 DURATION=10 CONNECTIONS=32 by default)
#
# Prints requests per second per binary per round, then the medians and their ratio to the
# first binary. Needs wrk (Debian's package), curl, jq and PostgreSQL at TEST_DATABASE_URL.
set -euo pipefail

rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
base_url="${admin_url%/*}"
[ $# -ge 1 ] || { echo "usage: $0 BIN [BIN…]" >&2; exit 2; }
for tool in wrk curl jq psql; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install $tool)" >&2; exit 1; }
done

work="$(mktemp -d)"
touch "$work/pids" "$work/databases"
# `prepare` runs in a subshell (its output is captured), so servers are noted in a file.
cleanup() {
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$work/pids"
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/api-common.sh"

bins=("$@")
declare -A setup
for i in "${!bins[@]}"; do
    setup[$i]="$(prepare "${bins[$i]}" "$i")"
done

write_read_lua "$work/read.lua"

declare -A results
for round in $(seq 1 "$rounds"); do
    for i in "${!bins[@]}"; do
        read -r url token job _ <<< "${setup[$i]}"
        # One request first, to see it answers data and not errors.
        check_read "$url" "$token" "$job" || { echo "the read fails on ${bins[$i]}" >&2; exit 1; }
        BENCH_TOKEN="$token" BENCH_JOB="$job" wrk -t2 -c"$connections" -d"${duration}s" -s "$work/read.lua" "$url/graphql" > "$work/wrk.out"
        if grep -q "Non-2xx" "$work/wrk.out"; then
            echo "${bins[$i]} answered errors under load:" >&2; cat "$work/wrk.out" >&2; exit 1
        fi
        rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")"
        results[$i]="${results[$i]:-} $rps"
        echo "round $round  ${bins[$i]}  $rps req/s"
    done
done

first="$(echo "${results[0]}" | median)"
for i in "${!bins[@]}"; do
    m="$(echo "${results[$i]}" | median)"
    echo "median  ${bins[$i]}  $m req/s  ($(awk -v a="$m" -v b="$first" 'BEGIN {printf "%.2f", a/b}')x the first)"
done
while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$work/pids"
sleep 1
while read -r db; do psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done < "$work/databases"
