# Sourced by bench/api*.sh: start a fast-flights binary on a fresh PostgreSQL database
# holding one finished search, and the read the benchmarks ask for.
# Needs: admin_url, base_url, work (a folder with files `pids` and `databases`); db_params,
# if set, goes after the database name in the server's URL (e.g. `?sslmode=disable`).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

gql() { # url token json-body
    curl -fsS "$1/graphql" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$3"
}

# Starts BIN serving database DB on PORT, noting its pid; returns once it answers.
start_server() { # bin db port log
    DATABASE_URL="$base_url/$2${db_params:-}" LISTEN_ADDR="127.0.0.1:$3" JWT_SECRET="bench-secret-bench-secret-bench-secret-0123" \
        SIMULATED_LATENCY_MS=1 MAX_SOCKETS_PER_IP=100000 RUST_LOG=warn "$1" serve >> "$4" 2>&1 &
    echo $! >> "$work/pids"
    until curl -fsS "http://127.0.0.1:$3/healthz" >/dev/null 2>&1; do sleep 0.2; done
}

# Starts BIN on a fresh database with one finished search; prints "url token job_id db port pid".
prepare() {
    local bin="$1" i="$2" db port url token job status
    db="ff_bench_api_$(date +%s)_${i}_$$"
    psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
    echo "$db" >> "$work/databases"
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    start_server "$bin" "$db" "$port" "$work/server-$i.log"
    token="$(gql "$url" "" '{"query":"mutation { signUp(email: \"bench@example.com\", password: \"bench-password-123\") { token } }"}' | jq -r .data.signUp.token)"
    job="$(gql "$url" "$token" "{\"query\":\"mutation(\$i: SearchInput!) { startSearch(input: \$i) { id } }\",\"variables\":{\"i\":{\"origins\":[\"LON\"],\"destinations\":[\"BKK\",\"SIN\",\"HKG\"],\"departureFrom\":\"$(date -d '+30 days' +%F)\",\"departureTo\":\"$(date -d '+60 days' +%F)\",\"nights\":{\"min\":7,\"max\":14},\"providers\":[\"simulated\"]}}}" | jq -r .data.startSearch.id)"
    for _ in $(seq 1 600); do
        status="$(gql "$url" "$token" "{\"query\":\"{ job(id: \\\"$job\\\") { status } }\"}" | jq -r .data.job.status)"
        [ "$status" = SUCCEEDED ] && break
        sleep 0.5
    done
    [ "$status" = SUCCEEDED ] || { echo "the search did not finish on $bin: $status" >&2; exit 1; }
    echo "$url $token $job $db $port"
}

# The read: one job and its 50 cheapest offers, as a wrk script (BENCH_TOKEN, BENCH_JOB).
write_read_lua() { # file
    cat > "$1" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = '{"query":"query($id: UUID!) { job(id: $id) { id status completedTasks totalTasks foundFlights } flights(jobId: $id, first: 50, orderBy: PRICE_ASC) { edges { node { id price { amount currency } origin destination departureDate returnDate carrier stops durationMinutes } } } }","variables":{"id":"' .. os.getenv("BENCH_JOB") .. '"}}'
LUA
}

# Checks the read answers data, not errors.
check_read() { # url token job
    if gql "$1" "$2" "$(jq -cn --arg id "$3" '{query:"query($id: UUID!) { flights(jobId: $id, first: 50, orderBy: PRICE_ASC) { edges { node { id } } } }",variables:{id:$id}}')" | jq -e '.errors' >/dev/null; then
        return 1
    fi
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
