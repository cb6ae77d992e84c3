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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

gql() { # url token json-body
    curl -fsS "$1/graphql" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$3"
}

# Starts BIN on a fresh database with one finished search; prints "url token job_id".
prepare() {
    local bin="$1" i="$2" db port url token job status
    db="ff_bench_api_$(date +%s)_${i}_$$"
    psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
    echo "$db" >> "$work/databases"
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    DATABASE_URL="$base_url/$db" LISTEN_ADDR="127.0.0.1:$port" JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" \
        SIMULATED_LATENCY_MS=1 MAX_SOCKETS_PER_IP=100000 RUST_LOG=warn "$bin" serve > "$work/server-$i.log" 2>&1 &
    echo $! >> "$work/pids"
    until curl -fsS "$url/healthz" >/dev/null 2>&1; do sleep 0.2; done
    token="$(gql "$url" "" '{"query":"mutation { signUp(email: \"bench@example.com\", password: \"bench-password-123\") { token } }"}' | jq -r .data.signUp.token)"
    job="$(gql "$url" "$token" "{\"query\":\"mutation(\$i: SearchInput!) { startSearch(input: \$i) { id } }\",\"variables\":{\"i\":{\"origins\":[\"LON\"],\"destinations\":[\"BKK\",\"SIN\",\"HKG\"],\"departureFrom\":\"$(date -d '+30 days' +%F)\",\"departureTo\":\"$(date -d '+60 days' +%F)\",\"nights\":{\"min\":7,\"max\":14},\"providers\":[\"simulated\"]}}}" | jq -r .data.startSearch.id)"
    for _ in $(seq 1 600); do
        status="$(gql "$url" "$token" "{\"query\":\"{ job(id: \\\"$job\\\") { status } }\"}" | jq -r .data.job.status)"
        [ "$status" = SUCCEEDED ] && break
        sleep 0.5
    done
    [ "$status" = SUCCEEDED ] || { echo "the search did not finish on $bin: $status" >&2; exit 1; }
    echo "$url $token $job"
}

bins=("$@")
declare -A setup
for i in "${!bins[@]}"; do
    setup[$i]="$(prepare "${bins[$i]}" "$i")"
done

cat > "$work/read.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"query":"query($id: UUID!) { job(id: $id) { id status completedTasks totalTasks foundFlights } flights(jobId: $id, first: 50, orderBy: PRICE_ASC) { edges { node { id price { amount currency } origin destination departureDate returnDate carrier stops durationMinutes } } } }","variables":{"id":"' .. os.getenv("BENCH_JOB") .. '"}}'
LUA

declare -A results
for round in $(seq 1 "$rounds"); do
    for i in "${!bins[@]}"; do
        read -r url token job <<< "${setup[$i]}"
        # One request first, to see it answers data and not errors.
        if gql "$url" "$token" "$(jq -cn --arg id "$job" '{query:"query($id: UUID!) { flights(jobId: $id, first: 50, orderBy: PRICE_ASC) { edges { node { id } } } }",variables:{id:$id}}')" | jq -e '.errors' >/dev/null; then
            echo "the read fails on ${bins[$i]}" >&2; exit 1
        fi
        BENCH_TOKEN="$token" BENCH_JOB="$job" wrk -t2 -c"$connections" -d"${duration}s" -s "$work/read.lua" "$url/graphql" > "$work/wrk.out"
        if grep -q "Non-2xx" "$work/wrk.out"; then
            echo "${bins[$i]} answered errors under load:" >&2; cat "$work/wrk.out" >&2; exit 1
        fi
        rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")"
        results[$i]="${results[$i]:-} $rps"
        echo "round $round  ${bins[$i]}  $rps req/s"
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
first="$(echo "${results[0]}" | median)"
for i in "${!bins[@]}"; do
    m="$(echo "${results[$i]}" | median)"
    echo "median  ${bins[$i]}  $m req/s  ($(awk -v a="$m" -v b="$first" 'BEGIN {printf "%.2f", a/b}')x the first)"
done
while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$work/pids"
sleep 1
while read -r db; do psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done < "$work/databases"
