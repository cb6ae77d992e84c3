#!/usr/bin/env bash
# `just bench api`: the GraphQL read "one job and its 50 cheapest offers" under load against
# the real binary, in one run beside its floor and its peer, on the same database:
#   - fast-flights BIN (wrk, CONNECTIONS connections, the read of bench/api-common.sh);
#   - the floor: `pgbench -M prepared` of the very SQL statements BIN runs for one such
#     read (captured from PostgreSQL's log with log_statement = all, parameters included);
#   - the peer: PostGraphile v4 (`postgraphile@4`, installed under ~/.cache/postgraphile4)
#     answering the equivalent query (wrk, same connections).
# The three are run in turn, ROUNDS times; each round prints req/s (pgbench: tx/s), p50 and
# p99, and the end prints the medians and the ratios ours ÷ floor and ours ÷ PostGraphile.
#
#   bench/api.sh BIN     (ROUNDS=3 DURATION=10 CONNECTIONS=32 PGBENCH_CLIENTS=16 PGSSLMODE=disable)
#
# All three connect to PostgreSQL with the same `sslmode` (PGSSLMODE, `disable` by default:
# on loopback TLS only adds cost, and PostGraphile's driver does not use it unless told,
# while sqlx and libpq would by default).
#
# Needs wrk, pgbench, psql, curl, jq, python3, node/npm, and PostgreSQL at TEST_DATABASE_URL
# (superuser: it reads the server log and sets log_statement on the bench database).
set -euo pipefail

rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
pgbench_clients="${PGBENCH_CLIENTS:-16}"
db_params="?sslmode=${PGSSLMODE:-disable}"
admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
base_url="${admin_url%/*}"
graphile_dir="${POSTGRAPHILE_DIR:-$HOME/.cache/postgraphile4}"
[ $# -eq 1 ] || { echo "usage: $0 BIN" >&2; exit 2; }
bin="$1"
for tool in wrk pgbench curl jq psql python3 npm; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

work="$(mktemp -d)"
touch "$work/pids" "$work/databases"
stop_servers() {
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$work/pids"
    : > "$work/pids"
}
cleanup() {
    stop_servers
    sleep 1
    while read -r db; do psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done < "$work/databases"
    rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "$0")/api-common.sh"

if [ ! -x "$graphile_dir/node_modules/.bin/postgraphile" ]; then
    echo "installing postgraphile@4 into $graphile_dir" >&2
    mkdir -p "$graphile_dir"
    (cd "$graphile_dir" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund postgraphile@4 >/dev/null)
fi

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
read -r url token job db port <<< "$(prepare "$bin" 0)"
check_read "$url" "$token" "$job" || { echo "the read fails on $bin" >&2; exit 1; }
write_read_lua "$work/read.lua"

# --- The SQL of one read, from PostgreSQL's log --------------------------------------------
pg_log="$(psql -tA "$admin_url" -c "SELECT pg_current_logfile()")"
case "$pg_log" in
    /*) ;;
    "") pg_log="$(ls -t /var/log/postgresql/postgresql-*-main.log | head -1)" ;;
    *) pg_log="$(psql -tA "$admin_url" -c "SHOW data_directory")/$pg_log" ;;
esac
[ -r "$pg_log" ] || { echo "cannot read PostgreSQL's log ($pg_log) to capture the read's SQL" >&2; exit 1; }
stop_servers
psql -q "$admin_url" -c "ALTER DATABASE $db SET log_statement = 'all'"
start_server "$bin" "$db" "$port" "$work/server-0.log"
# Twice: the first read of a connection may prepare statements the second only executes.
gql "$url" "$token" "$(jq -cn --arg id "$job" '{query:"{ me { id } }"}')" >/dev/null
offset="$(stat -c %s "$pg_log")"
BENCH_TOKEN="$token" BENCH_JOB="$job" wrk -t1 -c1 -d1s -s "$work/read.lua" "$url/graphql" >/dev/null
stop_servers
psql -q "$admin_url" -c "ALTER DATABASE $db RESET log_statement"
start_server "$bin" "$db" "$port" "$work/server-0.log"
tail -c +"$((offset + 1))" "$pg_log" > "$work/statements.log"
python3 - "$db" "$work/statements.log" "$work/read.sql" "$work/pgbench.args" <<'PY'
import re, sys
db, log, script, args = sys.argv[1:]
lines = open(log, errors="replace").read().splitlines()
# One request's statements: those of the first connection that ran the offers query.
stmts, conn, req = [], None, []
for i, line in enumerate(lines):
    m = re.search(r"\[(\d+)\] \S*@" + re.escape(db) + r" LOG:  (?:execute [^:]+|statement): (.*)$", line)
    if not m:
        continue
    pid, sql = m.groups()
    params = {}
    if i + 1 < len(lines) and "DETAIL:  parameters:" in lines[i + 1]:
        for n, v in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", lines[i + 1]):
            params[n] = None if v == "NULL" else v[1:-1].replace("''", "'")
    stmts.append((pid, sql, params))
# A request is a run of statements ending with the offers page; take the last complete one
# (each connection serves many; statements of one request can be on several connections).
ends = [k for k, (_, sql, _) in enumerate(stmts) if "FROM \"flight_offers\"" in sql]
if not ends:
    sys.exit("no offers query in the log: is log_statement honoured?")
last = ends[-1]
prev = ends[-2] if len(ends) > 1 else -1
one = [s for s in stmts[prev + 1:last + 1] if s[1].upper().startswith("SELECT")]
with open(script, "w") as out, open(args, "w") as a:
    for k, (_, sql, params) in enumerate(one):
        def sub(m):
            n = m.group(1)
            if params.get(n) is None:
                return "NULL"
            a.write(f"-Ds{k}p{n}={params[n]}\n")
            return f":s{k}p{n}"
        out.write(re.sub(r"\$(\d+)", sub, sql) + ";\n")
PY
echo "the read's SQL (pgbench's script, one transaction = one read):"
sed 's/^/    /' "$work/read.sql"
mapfile -t pgbench_args < "$work/pgbench.args"

# --- PostGraphile v4 on the same database --------------------------------------------------
gport="$(free_port)"
"$graphile_dir/node_modules/.bin/postgraphile" -c "$base_url/$db$db_params" -n 127.0.0.1 -p "$gport" \
    --disable-query-log -b -M --cluster-workers "$(nproc)" > "$work/postgraphile.log" 2>&1 &
echo $! >> "$work/pids"
gurl="http://127.0.0.1:$gport"
graphile_query='query($id: UUID!) { searchJobById(id: $id) { id status completedTasks totalTasks foundFlights } allFlightOffers(condition: {jobId: $id}, first: 50, orderBy: [PRICE_MINOR_ASC, ID_ASC]) { edges { node { id priceMinor currency origin destination departureDate returnDate carrier stops durationMinutes } } } }'
for _ in $(seq 1 150); do
    gql "$gurl" "" "$(jq -cn --arg q "$graphile_query" --arg id "$job" '{query:$q,variables:{id:$id}}')" > "$work/graphile.json" 2>/dev/null && break
    sleep 0.2
done
[ "$(jq '.data.allFlightOffers.edges | length' "$work/graphile.json" 2>/dev/null)" = 50 ] \
    || { echo "PostGraphile does not answer the read:" >&2; cat "$work/graphile.json" "$work/postgraphile.log" >&2; exit 1; }
cat > "$work/graphile.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = [[$(jq -cn --arg q "$graphile_query" --arg id "$job" '{query:$q,variables:{id:$id}}')]]
LUA

# --- Rounds -------------------------------------------------------------------------------
ms() { # wrk's latency ("812.00us", "2.31ms", "1.02s") in ms
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
run_wrk() { # url lua -> "rps p50 p99"
    BENCH_TOKEN="$token" BENCH_JOB="$job" wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$2" "$1/graphql" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "errors under load at $1:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    # Timeouts (wrk gives up on a request after 2 s) are slowness, not wrong answers: noted.
    grep "Socket errors" "$work/wrk.out" | sed "s|^|  $1: |" >&2 || true
    echo "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out") $(ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.out")") $(ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.out")")"
}
run_pgbench() { # -> "tps p50 p99"
    rm -f "$work"/pgb*
    pgbench -n -M prepared -c "$pgbench_clients" -j 2 -T "$duration" -f "$work/read.sql" "${pgbench_args[@]}" \
        -l --log-prefix="$work/pgb" "$base_url/$db$db_params" > "$work/pgbench.out" 2>&1 \
        || { cat "$work/pgbench.out" >&2; exit 1; }
    local tps lat
    tps="$(awk '/^tps = / {print $3}' "$work/pgbench.out")"
    lat="$(cat "$work"/pgb.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')"
    echo "$tps $lat"
}

declare -A rps p50 p99 last
for round in $(seq 1 "$rounds"); do
    for who in ours floor postgraphile; do
        case "$who" in
            ours) read -r r a b <<< "$(run_wrk "$url" "$work/read.lua")" ;;
            floor) read -r r a b <<< "$(run_pgbench)" ;;
            postgraphile) read -r r a b <<< "$(run_wrk "$gurl" "$work/graphile.lua")" ;;
        esac
        rps[$who]="${rps[$who]:-} $r"; p50[$who]="${p50[$who]:-} $a"; p99[$who]="${p99[$who]:-} $b"
        printf 'round %s  %-13s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms\n' "$round" "$who" "$r" "$a" "$b"
        last[$who]="$r"
    done
    awk -v o="${last[ours]}" -v f="${last[floor]}" -v g="${last[postgraphile]}" -v n="$round" \
        'BEGIN { printf "round %s  ours / floor = %.2f   ours / PostGraphile = %.2f\n", n, o / f, o / g }'
done

echo "medians of $rounds rounds (${duration}s each; wrk -c$connections, pgbench -c$pgbench_clients -M prepared):"
for who in ours floor postgraphile; do
    printf '  %-13s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms\n' "$who" \
        "$(echo "${rps[$who]}" | median)" "$(echo "${p50[$who]}" | median)" "$(echo "${p99[$who]}" | median)"
done
ours="$(echo "${rps[ours]}" | median)"
awk -v o="$ours" -v f="$(echo "${rps[floor]}" | median)" -v g="$(echo "${rps[postgraphile]}" | median)" 'BEGIN {
    printf "ours / pgbench floor = %.2f   (goal >= 0.50)\n", o / f
    printf "ours / PostGraphile  = %.2f   (goal >= 5)\n", o / g
}'
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
