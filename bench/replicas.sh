#!/usr/bin/env bash
# `just bench replicas`: the GraphQL read of `just bench api` ("one job and its 50 cheapest
# offers") against the real binary, with the primary alone and with one streaming standby
# (DATABASE_READ_URL), alternately, ROUNDS times, on clusters of its own: a primary made
# with initdb and a standby of it made with pg_basebackup -R, both on free ports under
# /tmp, run as the `postgres` user when started as root. Prints req/s, p50 and p99 of each
# and the ratio standby ÷ primary alone. Asserts nothing.
#
#   bench/replicas.sh BIN     (ROUNDS=3 DURATION=10 CONNECTIONS=32)
#
# Needs PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup), wrk, curl, jq, psql.
set -euo pipefail

rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
[ $# -eq 1 ] || { echo "usage: $0 BIN" >&2; exit 2; }
bin="$1"
for tool in wrk curl jq psql python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || pgbin="$(dirname "$(command -v initdb || echo /nonexistent/initdb)")"
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are needed" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work="$(mktemp -d)"
touch "$work/pids" "$work/databases"
clusters="/tmp/ff-bench-replicas-$$"
mkdir "$clusters"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$clusters"
stop_servers() { # and waits until they are gone, so that the next one can take the port
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$work/pids"
    while read -r pid; do
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    done < "$work/pids"
    : > "$work/pids"
}
cleanup() {
    stop_servers
    sleep 1
    for c in standby primary; do
        [ -d "$clusters/$c" ] && as_pg "$pgbin/pg_ctl" -D "$clusters/$c" -m immediate -w stop >/dev/null 2>&1 || true
    done
    rm -rf "$work" "$clusters"
}
trap cleanup EXIT

. "$(dirname "$0")/api-common.sh"

configure() { # data port
    printf "\nport = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 200\n" \
        "$2" "$clusters" >> "$1/postgresql.conf"
}
pport="$(free_port)"
sport="$(free_port)"
as_pg "$pgbin/initdb" -D "$clusters/primary" -U postgres --auth=trust --encoding=UTF8 --no-sync >/dev/null
configure "$clusters/primary" "$pport"
as_pg "$pgbin/pg_ctl" -D "$clusters/primary" -l "$clusters/primary.log" -w start >/dev/null
as_pg "$pgbin/pg_basebackup" -D "$clusters/standby" -R -X stream --checkpoint=fast -h 127.0.0.1 -p "$pport" -U postgres
configure "$clusters/standby" "$sport"
as_pg "$pgbin/pg_ctl" -D "$clusters/standby" -l "$clusters/standby.log" -w start >/dev/null

admin_url="postgres://postgres@127.0.0.1:$pport/postgres"
base_url="postgres://postgres@127.0.0.1:$pport"
db_params="?sslmode=disable"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "primary on :$pport, standby on :$sport ($(psql -tA "postgres://postgres@127.0.0.1:$sport/postgres" -c 'SELECT pg_is_in_recovery()') in recovery)"
read -r url token job db port <<< "$(prepare "$bin" 0)"
check_read "$url" "$token" "$job" || { echo "the read fails on $bin" >&2; exit 1; }
write_read_lua "$work/read.lua"
standby_url="postgres://postgres@127.0.0.1:$sport/$db?sslmode=disable"
target="$(psql -tA "$admin_url" -c 'SELECT pg_current_wal_lsn()')"
until [ "$(psql -tA "$standby_url" -c "SELECT pg_last_wal_replay_lsn() >= '$target'")" = t ]; do sleep 0.2; done

ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
run_wrk() { # -> "rps p50 p99"
    BENCH_TOKEN="$token" BENCH_JOB="$job" wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/read.lua" "$url/graphql" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then echo "errors under load:" >&2; cat "$work/wrk.out" >&2; exit 1; fi
    echo "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out") $(ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.out")") $(ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.out")")"
}
served_by_standby() { psql -tA "$standby_url" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }

declare -A rps p50 p99 last
for round in $(seq 1 "$rounds"); do
    for who in primary standby; do
        stop_servers
        if [ "$who" = standby ]; then export DATABASE_READ_URL="$standby_url"; else unset DATABASE_READ_URL; fi
        start_server "$bin" "$db" "$port" "$work/server-$who.log"
        if [ "$who" = standby ]; then
            until curl -fsS "$url/readyz" | grep -q ': up'; do sleep 0.2; done
        fi
        before="$(served_by_standby)"
        read -r r a b <<< "$(run_wrk)"
        after="$(served_by_standby)"
        rps[$who]="${rps[$who]:-} $r"; p50[$who]="${p50[$who]:-} $a"; p99[$who]="${p99[$who]:-} $b"
        printf 'round %s  %-8s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  (standby transactions %s)\n' \
            "$round" "$who" "$r" "$a" "$b" "$((after - before))"
        last[$who]="$r"
    done
done
unset DATABASE_READ_URL
echo "medians of $rounds rounds (${duration}s each, wrk -c$connections):"
for who in primary standby; do
    printf '  %-8s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms\n' "$who" \
        "$(echo "${rps[$who]}" | median)" "$(echo "${p50[$who]}" | median)" "$(echo "${p99[$who]}" | median)"
done
awk -v s="$(echo "${rps[standby]}" | median)" -v p="$(echo "${rps[primary]}" | median)" \
    'BEGIN { printf "with one standby / primary alone = %.2f\n", s / p }'
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
