#!/usr/bin/env bash
# api_bench: requests per second and p99 latency of the issuer HTTP API, measured with wrk.
#
# Starts `firmo serve` on a free loopback port (127.0.0.1:0) in a temporary data folder,
# creates fixtures with curl (a dossier, a signer, --ids signature requests), then runs wrk
# against three scenarios and prints ONE summary line for each (its end names the database
# backend and the node count):
#
#   healthz         GET  /healthz                          (the HTTP path alone)
#   get_request     GET  /api/v1/signature-requests/{id}   (cycling over the fixture ids)
#   create_request  POST /api/v1/signature-requests        (a new DRAFT request per call)
#
#   api_bench get_request: 23456 req/s p99 4.1 ms (64 conns, 10 s) p50 ... | sqlite, 1 node, ...
#
# Baselines, in the same run and with the same wrk parameters (--no-baselines skips them):
#   nginx_fixed_200   nginx (Debian nginx-light) answering a fixed 200 from a config of its
#                     own in a temporary prefix: what the machine allows an HTTP server;
#   pgbench           with --database-url: `pgbench -S -M prepared -c 8 -j 2` for --duration
#                     seconds on the same cluster, in a database of its own (dropped after);
# then one ratio line each: healthz and get_request over nginx, get_request over pgbench on
# PostgreSQL, with the targets of issue 11 on this machine:
#   api_bench ratio healthz/nginx_fixed_200: 0.63 (target >= 0.60: met)
#
# Database: SQLite in the data folder unless --database-url names a PostgreSQL cluster; then
# the bench creates a database of its own there (psql), runs on it, and drops it on exit (the
# URL's own database is only used to connect). A URL written as '$NAME' is read from that
# environment variable, so a throw-away cluster from scripts/with-postgres.sh works as is:
#   scripts/with-postgres.sh bench/api_bench.sh --database-url '$FIRMO_TEST_POSTGRES_URL'
# --nodes 2 (PostgreSQL only) starts two `firmo serve` on that one database and data folder
# and splits the load: two wrk processes at once, one per node, each with half the connections
# and half the wrk threads (at least 1). Its summary line sums the two req/s, reports the worse
# p50, p99 and max of the two, firmo's CPU summed over both nodes and the larger VmHWM.
#
# HTTP traffic goes to 127.0.0.1 only (database traffic to --database-url); every run is
# bounded by --duration (+ --warmup); the servers are stopped with SIGTERM, the data folder
# removed and the bench's database dropped on exit, whatever happens.
# Needs: wrk and curl (Debian packages `wrk`, `curl`), psql and pgbench with --database-url
# (`postgresql-client`), nginx for the baseline (`nginx-light`); it installs nothing.
#
# Usage: bench/api_bench.sh [--build-dir DIR] [--duration S] [--connections N]
#                           [--threads N] [--warmup S] [--ids N] [--scenarios LIST]
#                           [--io-threads N] [--database-threads N] [--db-pool N]
#                           [--access-log true|false] [--rate-limit-burst N]
#                           [--database-url URL] [--nodes 1|2] [--sweep] [--no-baselines]
#                           [--firmo PATH]
#   --sweep   runs the scenarios once per thread setting (io-threads 1,2 x database-threads
#             0,2,4), each on a fresh server, and prints a table at the end.
#   --access-log, --rate-limit-burst: as `firmo serve` (defaults here: false, 0; the
#             access log and the rate limit have their own costs, measured apart).
# Figures and method: docs/PERFORMANCE.md ("Issuer API").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

build_dir="$repo/build/release"
firmo_bin=""
duration=10
warmup=2
connections=64
wrk_threads=2
n_ids=100
scenarios="healthz,get_request,create_request"
io_threads=""
database_threads=""
db_pool=""
access_log="false"
rate_limit_burst="0"
database_url=""
nodes=1
sweep=0
baselines=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "api_bench: $*" >&2; exit 1; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive integer, got '$2'"; }

while (($#)); do
    case "$1" in
        --build-dir) build_dir="${2:?}"; shift 2 ;;
        --firmo) firmo_bin="${2:?}"; shift 2 ;;
        --duration) positive "$1" "${2:-}"; duration="$2"; shift 2 ;;
        --warmup) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--warmup wants seconds"; warmup="$2"; shift 2 ;;
        --connections) positive "$1" "${2:-}"; connections="$2"; shift 2 ;;
        --threads) positive "$1" "${2:-}"; wrk_threads="$2"; shift 2 ;;
        --ids) positive "$1" "${2:-}"; n_ids="$2"; shift 2 ;;
        --scenarios) scenarios="${2:?}"; shift 2 ;;
        --io-threads) positive "$1" "${2:-}"; io_threads="$2"; shift 2 ;;
        --database-threads|--worker-threads)
            [[ "${2:-}" =~ ^([0-9]+|auto)$ ]] || die "$1 wants a number or auto"
            database_threads="$2"; shift 2 ;;
        --access-log) [[ "${2:-}" == true || "${2:-}" == false ]] || die "--access-log is true or false"
            access_log="$2"; shift 2 ;;
        --rate-limit-burst) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--rate-limit-burst wants a number"
            rate_limit_burst="$2"; shift 2 ;;
        --no-baselines) baselines=0; shift ;;
        --db-pool) positive "$1" "${2:-}"; db_pool="$2"; shift 2 ;;
        --database-url) database_url="${2:?}"; shift 2 ;;
        --nodes) [[ "${2:-}" == 1 || "${2:-}" == 2 ]] || die "--nodes is 1 or 2"; nodes="$2"; shift 2 ;;
        --sweep) sweep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
((duration <= 600)) || die "--duration is capped at 600 s"
for s in ${scenarios//,/ }; do
    [[ "$s" == healthz || "$s" == get_request || "$s" == create_request ]] \
        || die "unknown scenario '$s'"
done
if [[ "$database_url" =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
    url_var="${BASH_REMATCH[1]}"
    database_url="${!url_var:-}"
    [[ -n "$database_url" ]] || die "--database-url names \$$url_var, which is not set"
fi
[[ -z "$database_url" || "$database_url" =~ ^postgres(ql)?:// ]] \
    || die "--database-url wants postgresql://USER@HOST:PORT/DB"
((nodes == 1)) || [[ -n "$database_url" ]] \
    || die "--nodes 2 needs --database-url: the nodes share one PostgreSQL database"
# Each wrk gets its share of the client side, so 1 and 2 nodes see the same offered load.
wrk_conns=$(((connections + nodes - 1) / nodes))
wrk_node_threads=$((wrk_threads / nodes))
((wrk_node_threads >= 1)) || wrk_node_threads=1
((wrk_conns >= wrk_node_threads)) || die "--connections must be at least --threads"
backend="sqlite"
[[ -z "$database_url" ]] || backend="postgresql"

command -v wrk >/dev/null || die "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed (Debian: apt-get install curl)"
[[ -z "$database_url" ]] || command -v psql >/dev/null \
    || die "psql is not installed (Debian: apt-get install postgresql-client)"
nginx_bin="$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)"
if ((baselines)); then
    [[ -n "$nginx_bin" ]] || die "nginx is not installed (Debian: apt-get install nginx-light), or use --no-baselines"
    [[ -z "$database_url" ]] || command -v pgbench >/dev/null \
        || die "pgbench is not installed (Debian: apt-get install postgresql-client), or use --no-baselines"
fi
[[ -n "$firmo_bin" ]] || firmo_bin="$build_dir/firmo"
[[ -x "$firmo_bin" ]] || die "no firmo binary at $firmo_bin; build it first:
  cmake --preset release && cmake --build build/release --target firmo"

# wrk and firmo share the machine's cores: anything else running skews the figures.
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "api_bench: warning: load average is $load1 before the run; other work on this machine skews the figures" >&2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/api_bench.XXXXXX")"
server_pids=()   # the running firmo nodes
base_urls=()     # their URLs, in the same order
pg_db=""         # the PostgreSQL database this run created (dropped on exit)
pgbench_db=""    # the pgbench baseline's database (dropped on exit)
nginx_pid=""     # the nginx baseline (stopped on exit)
node_db_url=""   # the URL the nodes get: --database-url with pg_db as its database
wrk_pids=()      # the wrk processes of the run under way

stop_pid() {
    local pid="$1"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "api_bench: firmo did not stop within 10 s of SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do stop_pid "$pid"; done
    server_pids=(); base_urls=()
}
# create_db: a fresh database in the --database-url cluster for one server run.
create_db() {
    [[ -n "$database_url" ]] || return 0
    pg_db="firmo_bench_$$_$RANDOM"
    psql "$database_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $pg_db" >/dev/null \
        || die "cannot create database $pg_db with --database-url"
    # The same URL with pg_db as its database (scheme://userinfo@host:port/pg_db?query).
    local url="$database_url" query="" rest
    if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
    rest="${url#*://}"
    node_db_url="${url%%://*}://${rest%%/*}/$pg_db$query"
}
drop_db() {
    [[ -n "$pg_db" ]] || return 0
    psql "$database_url" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 \
        || echo "api_bench: warning: could not drop database $pg_db" >&2
    pg_db=""; node_db_url=""
}
stop_nginx() {
    [[ -n "$nginx_pid" ]] || return 0
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
}
drop_pgbench_db() {
    [[ -n "$pgbench_db" ]] || return 0
    psql "$database_url" -qc "DROP DATABASE IF EXISTS $pgbench_db WITH (FORCE)" >/dev/null 2>&1 \
        || echo "api_bench: warning: could not drop database $pgbench_db" >&2
    pgbench_db=""
}
cleanup() {
    # A second INT or TERM (e.g. `timeout` signals the process and then its group) must not cut
    # the cleanup short: the servers and the database would be left behind.
    trap '' INT TERM
    local pid
    # `timeout` passes TERM on to its wrk.
    for pid in "${wrk_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    stop_servers; drop_db; stop_nginx; drop_pgbench_db; rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clk_tck="$(getconf CLK_TCK)"
# CPU clock ticks (user + system) the running nodes have used so far, from /proc/PID/stat.
proc_cpu_ticks() {
    local stat rest pid total=0
    for pid in "${server_pids[@]}"; do
        stat="$(cat "/proc/$pid/stat")"
        rest="${stat##*) }"          # fields after "(comm) "; rest[0] is field 3 (state)
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12]))  # fields 14 (utime) and 15 (stime)
    done
    echo "$total"
}
# CPU milliseconds used so far by this shell's finished children (bash `times`, second
# line). Call it as `children_cpu_ms VAR`: `times` must run in this shell, not in a $(...).
children_cpu_ms() {
    local line u s
    times >"$tmp/times"
    line="$(sed -n 2p "$tmp/times")"
    u="${line%% *}"; s="${line##* }"
    printf -v "$1" '%s' "$(awk -v u="$u" -v s="$s" 'function ms(t,  m, x) { m = t; sub(/m.*/, "", m); x = t;
        sub(/^[0-9]+m/, "", x); sub(/s$/, "", x); return (m * 60 + x) * 1000 }
        BEGIN { printf "%d", ms(u) + ms(s) }')"
}
# The larger peak resident set of the running nodes.
vm_hwm_kib() {
    local pid
    for pid in "${server_pids[@]}"; do cat "/proc/$pid/status"; done \
        | awk '/^VmHWM:/ && $2 > m { m = $2 } END { print m + 0 }'
}

api() {  # api METHOD PATH [BODY] -> response body on stdout; fails on a non-2xx status
    local args=(-sS --fail-with-body --max-time 10 -X "$1" -H "X-Api-Key: $api_key"
                -H "Content-Type: application/json")
    [[ $# -ge 3 ]] && args+=(--data "$3")
    curl "${args[@]}" "$base_url$2"
}
json_id() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p; s/.*[{,]"id":"\([^"]*\)".*/\1/p' | head -n1; }

# start_node DATA_DIR N: starts node N (1 or 2) on DATA_DIR (both nodes share it, and so the
# CA); adds to server_pids and base_urls. Node 1 bootstraps the issuer and sets api_key and
# base_url (the fixtures go through it); node 2 finds the issuer in the shared database.
start_node() {
    local data="$1" n="$2" out="$1.node$2.stdout" err="$1.node$2.stderr" flags=() pid url=""
    [[ -n "$io_threads" ]] && flags+=(--io-threads "$io_threads")
    [[ -n "$database_threads" ]] && flags+=(--database-threads "$database_threads")
    [[ -n "$db_pool" ]] && flags+=(--db-pool "$db_pool")
    [[ -n "$node_db_url" ]] && flags+=(--database-url "$node_db_url")
    mkdir -p "$data"
    "$firmo_bin" serve --data-dir "$data" --listen 127.0.0.1:0 --access-log "$access_log" \
        --rate-limit-burst "$rate_limit_burst" "${flags[@]}" >"$out" 2>"$err" &
    pid=$!
    server_pids+=("$pid")
    for _ in $(seq 150); do
        url="$(sed -n 's/^Firmo is listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$out")"
        [[ -n "$url" ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$err" >&2; die "firmo (node $n) exited at start"; }
        sleep 0.1
    done
    [[ -n "$url" ]] || die "firmo (node $n) did not print its URL within 15 s"
    curl -sS --fail --max-time 5 "$url/healthz" >/dev/null || die "firmo (node $n) does not answer /healthz"
    base_urls+=("$url")
    if ((n == 1)); then
        # Printed before the URL line: it is there once the URL is.
        api_key="$(sed -n 's/^API key: \(firmo_[^ ]*\)$/\1/p' "$out")"
        [[ -n "$api_key" ]] || die "firmo printed no API key (the database must be new)"
        base_url="$url"
    fi
}

# make_fixtures: a dossier with one document, a signer, n_ids signature requests.
make_fixtures() {
    dossier_id="$(api POST /api/v1/dossiers '{"title":"Bench dossier","documents_metadata":[{"title":"Contract","signature_fields":[{"attrs":{"unique_name":"Signature1"},"clause":{"title":"I accept the terms","type":"REQUIRED"}}]}]}' | json_id)"
    [[ -n "$dossier_id" ]] || die "could not create the dossier"
    signer_id="$(api POST /api/v1/signers '{"fiscal_code":"RSSMRA80A01H501U"}' | json_id)"
    [[ -n "$signer_id" ]] || die "could not create the signer"
    ids_file="$tmp/ids.txt"
    : >"$ids_file"
    local body="{\"dossier_id\":\"$dossier_id\",\"signer_id\":\"$signer_id\"}" id
    for _ in $(seq "$n_ids"); do
        id="$(api POST /api/v1/signature-requests "$body" | json_id)"
        [[ -n "$id" ]] || die "could not create a signature request"
        echo "$id" >>"$ids_file"
    done
    # The scenario's response must be a 200 with the request (not a problem document).
    api GET "/api/v1/signature-requests/$(head -n1 "$ids_file")" | grep -q '"status":"DRAFT"' \
        || die "GET of a fixture request does not answer the request"
}

# run_wrk SCENARIO SECONDS: one wrk per node, at the same time -> $tmp/wrk.out.N (N from 1)
run_wrk() {
    local scenario="$1" secs="$2" i failed=0
    rm -f "$tmp"/wrk.out.*
    wrk_pids=()
    for i in "${!base_urls[@]}"; do
        local args=()
        case "$scenario" in
            healthz|nginx_fixed_200) args=(-s "$here/api/healthz.lua" "${base_urls[$i]}") ;;
            get_request) args=(-s "$here/api/get_request.lua" "${base_urls[$i]}" -- "$api_key" "$ids_file") ;;
            create_request) args=(-s "$here/api/create_request.lua" "${base_urls[$i]}" -- "$api_key" "$dossier_id" "$signer_id") ;;
        esac
        # wrk stops by itself after -d; `timeout` is a backstop only.
        timeout --signal=KILL $((secs + 30)) \
            wrk -t "$wrk_node_threads" -c "$wrk_conns" -d "${secs}s" --latency "${args[@]}" \
            >"$tmp/wrk.out.$((i + 1))" 2>&1 &
        wrk_pids+=("$!")
    done
    for i in "${!wrk_pids[@]}"; do
        wait "${wrk_pids[$i]}" || { cat "$tmp/wrk.out.$((i + 1))" >&2; failed=1; }
    done
    wrk_pids=()
    ((failed == 0)) || die "wrk failed ($scenario)"
}

results=()   # one record per scenario run, for the sweep table

run_scenario() {
    local scenario="$1" label="$2"
    if ((warmup > 0)); then run_wrk "$scenario" "$warmup"; fi
    local f0 w0 f1 w1
    f0="$(proc_cpu_ticks)"; children_cpu_ms w0
    run_wrk "$scenario" "$duration"
    f1="$(proc_cpu_ticks)"; children_cpu_ms w1
    local lines
    lines="$(grep -h '^API_BENCH_RESULT ' "$tmp"/wrk.out.* || true)"
    if [[ -z "$lines" || "$(wc -l <<<"$lines")" -ne "${#base_urls[@]}" ]]; then
        cat "$tmp"/wrk.out.* >&2; die "no result line from each wrk ($scenario)"
    fi
    local hwm; hwm="$(vm_hwm_kib)"
    # One line per wrk: req/s add up, latencies take the worse, CPU is over the longest run.
    local out summary record errline
    out="$(awk -v fc="$((f1 - f0))" -v tck="$clk_tck" -v wc="$((w1 - w0))" -v hwm="$hwm" \
        -v c="$((wrk_conns * ${#base_urls[@]}))" -v d="$duration" -v s="$scenario" -v label="$label" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
          secs = v["duration_us"] / 1e6; if (secs > longest) longest = secs
          n += v["requests"]; rps += v["requests"] / secs
          if (v["p50_us"] > p50) p50 = v["p50_us"]
          if (v["p99_us"] > p99) p99 = v["p99_us"]
          if (v["max_us"] > mx) mx = v["max_us"]
          es += v["errors_status"]; ec += v["errors_connect"]; er += v["errors_read"]
          ew += v["errors_write"]; et += v["errors_timeout"] }
        END {
        errs = es + ec + er + ew + et
        fcores = fc / tck / longest; wcores = wc / 1000 / longest
        cpu_us = n > 0 ? fc / tck * 1e6 / n : 0
        printf "api_bench %s: %.0f req/s p99 %.2f ms (%d conns, %d s) p50 %.2f ms max %.1f ms, %d errors | server %.2f cores (%.0f us CPU/req), wrk %.2f cores, server VmHWM %.1f MiB | %s\n",
            s, rps, p99 / 1000, c, d, p50 / 1000, mx / 1000, errs, fcores, cpu_us, wcores, hwm / 1024, label
        printf "%s|%.0f|%.2f|%.2f|%.2f|%.0f|%.2f|%.1f\n", s, rps, p50 / 1000, p99 / 1000, fcores, cpu_us, wcores, hwm / 1024
        printf "%d %d %d %d %d %d\n", errs, es, ec, er, ew, et }' <<<"$lines")"
    summary="$(sed -n 1p <<<"$out")"; record="$(sed -n 2p <<<"$out")"; errline="$(sed -n 3p <<<"$out")"
    echo "$summary"
    local errors es ec er ew et
    read -r errors es ec er ew et <<<"$errline"
    if ((errors > 0)); then
        echo "api_bench: $scenario: $errors failed calls (status $es, connect $ec, read $er, write $ew, timeout $et); the figure is not valid" >&2
        local f
        for f in "$tmp"/wrk.out.*; do sed -n '1,/^API_BENCH_RESULT/p' "$f" >&2; done
        bench_failed=1
    fi
    rps_of[$scenario]="$(cut -d'|' -f2 <<<"$record")"
    results+=("$backend|$nodes|${io_threads:-cores}|${database_threads:-auto}|$record")
}

declare -A rps_of   # scenario -> req/s of the last run (baselines included), for the ratios

# nginx answering a fixed 200 (the body of /healthz) from its own config and prefix: what an
# HTTP server can do on this machine. Same wrk parameters; its master and workers' CPU.
run_nginx_baseline() {
    local prefix="$tmp/nginx" port
    mkdir -p "$prefix/logs" "$prefix/tmp"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cat >"$prefix/nginx.conf" <<NGINX
worker_processes auto;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
NGINX
    "$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' 2>"$prefix/logs/stderr" &
    nginx_pid=$!
    local ok=0
    for _ in $(seq 50); do
        curl -sS --fail --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { ok=1; break; }
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    ((ok)) || { cat "$prefix/logs/stderr" "$prefix/logs/error.log" >&2 2>/dev/null; die "nginx did not start"; }
    local saved_pids=("${server_pids[@]}") saved_urls=("${base_urls[@]}")
    server_pids=("$nginx_pid" $(pgrep -P "$nginx_pid"))
    base_urls=("http://127.0.0.1:$port")
    run_scenario nginx_fixed_200 "baseline: nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///'), worker_processes auto"
    server_pids=("${saved_pids[@]}"); base_urls=("${saved_urls[@]}")
    stop_nginx
}

# pgbench's read-only prepared workload on the --database-url cluster, in a database of its
# own: what PostgreSQL itself serves on this machine.
run_pgbench_baseline() {
    pgbench_db="pgbench_bench_$$_$RANDOM"
    psql "$database_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $pgbench_db" >/dev/null \
        || die "cannot create database $pgbench_db with --database-url"
    local url="$database_url" query="" rest
    if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
    rest="${url#*://}"
    local db_url="${url%%://*}://${rest%%/*}/$pgbench_db$query"
    pgbench -i -q -s 1 "$db_url" >"$tmp/pgbench.init" 2>&1 || { cat "$tmp/pgbench.init" >&2; die "pgbench -i failed"; }
    pgbench -S -M prepared -c 8 -j 2 -n -T "$duration" "$db_url" >"$tmp/pgbench.out" 2>&1 \
        || { cat "$tmp/pgbench.out" >&2; die "pgbench failed"; }
    local tps
    tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$tmp/pgbench.out")"
    [[ -n "$tps" ]] || { cat "$tmp/pgbench.out" >&2; die "no tps in pgbench's output"; }
    printf "api_bench pgbench_select: %.0f tps (pgbench -S -M prepared -c 8 -j 2, %d s, scale 1) | baseline: PostgreSQL %s on --database-url\n" \
        "$tps" "$duration" "$(psql "$database_url" -Atc 'SHOW server_version' 2>/dev/null)"
    rps_of[pgbench_select]="$tps"
    drop_pgbench_db
}

# ratio NAME NUMERATOR DENOMINATOR TARGET: one line, when both figures were measured.
ratio() {
    local a="${rps_of[$2]:-}" b="${rps_of[$3]:-}"
    [[ -n "$a" && -n "$b" ]] || return 0
    awk -v a="$a" -v b="$b" -v t="$4" -v n="$1" 'BEGIN {
        r = b > 0 ? a / b : 0
        printf "api_bench ratio %s: %.2f (target >= %.2f: %s)\n", n, r, t, (r >= t ? "met" : "not met") }'
}

print_ratios() {
    ratio "healthz/nginx_fixed_200" healthz nginx_fixed_200 0.60
    if [[ -z "$database_url" ]]; then
        ratio "get_request/nginx_fixed_200 (sqlite)" get_request nginx_fixed_200 0.45
    else
        ratio "get_request/pgbench_select (postgresql)" get_request pgbench_select 0.50
        if [[ -n "${rps_of[create_request]:-}" ]]; then
            awk -v a="${rps_of[create_request]}" 'BEGIN {
                printf "api_bench target create_request (postgresql): %.0f req/s (target >= 3000: %s)\n", a, (a >= 3000 ? "met" : "not met") }'
        fi
    fi
}

run_config() {
    local node_word="nodes"
    ((nodes > 1)) || node_word="node"
    local label="$backend, $nodes $node_word, io-threads ${io_threads:-cores (default)}, database-threads ${database_threads:-auto (default)}, db-pool ${db_pool:-8 (default)}, access-log $access_log, rate-limit-burst $rate_limit_burst"
    local data="$tmp/data.$RANDOM" n
    create_db
    for n in $(seq "$nodes"); do start_node "$data" "$n"; done
    make_fixtures
    local s
    for s in ${scenarios//,/ }; do run_scenario "$s" "$label"; done
    stop_servers
    drop_db
}

bench_failed=0
if ((baselines)); then
    run_nginx_baseline
    [[ -z "$database_url" ]] || run_pgbench_baseline
fi
if ((sweep)); then
    for io in 1 2; do
        for dt in 0 2 4; do
            io_threads="$io"; database_threads="$dt"
            run_config
            print_ratios
        done
    done
    echo
    echo "| backend | nodes | io-threads | database-threads | scenario | req/s | p50 ms | p99 ms | server cores | server CPU us/req | wrk cores | VmHWM MiB |"
    echo "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for rec in "${results[@]}"; do echo "| ${rec//|/ | } |"; done
else
    run_config
    print_ratios
fi
exit "$bench_failed"
