#!/usr/bin/env bash
# api_bench: requests per second and p99 latency of the issuer HTTP API, measured with wrk.
#
# Starts `firmo serve` on a free loopback port (127.0.0.1:0) in a temporary data folder,
# creates fixtures with curl (a dossier, a signer, --ids signature requests), then runs wrk
# against two scenarios and prints ONE summary line for each:
#
#   get_request     GET  /api/v1/signature-requests/{id}   (cycling over the fixture ids)
#   create_request  POST /api/v1/signature-requests        (a new DRAFT request per call)
#
#   api_bench get_request: 23456 req/s p99 4.1 ms (64 conns, 10 s) p50 ... | firmo cpu ...
#
# Traffic goes to 127.0.0.1 only; every run is bounded by --duration (+ --warmup); the server
# is stopped with SIGTERM and the data folder removed on exit, whatever happens.
# Needs: wrk and curl (Debian packages `wrk`, `curl`); it installs nothing.
#
# Usage: bench/api_bench.sh [--build-dir DIR] [--duration S] [--connections N]
#                           [--threads N] [--warmup S] [--ids N] [--scenarios LIST]
#                           [--io-threads N] [--worker-threads N] [--db-pool N]
#                           [--sweep] [--firmo PATH]
#   --sweep   runs the scenarios once per thread setting (io-threads 1,2 x worker-threads
#             2,4,8), each on a fresh server, and prints a table at the end.
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
scenarios="get_request,create_request"
io_threads=""
worker_threads=""
db_pool=""
sweep=0

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
        --worker-threads) positive "$1" "${2:-}"; worker_threads="$2"; shift 2 ;;
        --db-pool) positive "$1" "${2:-}"; db_pool="$2"; shift 2 ;;
        --sweep) sweep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
((duration <= 600)) || die "--duration is capped at 600 s"
for s in ${scenarios//,/ }; do
    [[ "$s" == get_request || "$s" == create_request ]] || die "unknown scenario '$s'"
done

command -v wrk >/dev/null || die "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed (Debian: apt-get install curl)"
[[ -n "$firmo_bin" ]] || firmo_bin="$build_dir/firmo"
[[ -x "$firmo_bin" ]] || die "no firmo binary at $firmo_bin; build it first:
  cmake --preset release && cmake --build build/release --target firmo"

# wrk and firmo share the machine's cores: anything else running skews the figures.
read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    echo "api_bench: warning: load average is $load1 before the run; other work on this machine skews the figures" >&2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/api_bench.XXXXXX")"
server_pid=""

stop_server() {
    [[ -n "$server_pid" ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "api_bench: firmo did not stop within 10 s of SIGTERM; killing it" >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

clk_tck="$(getconf CLK_TCK)"
# CPU seconds (user + system) a process has used so far, from /proc/PID/stat.
proc_cpu_ticks() {
    local stat rest
    stat="$(cat "/proc/$1/stat")"
    rest="${stat##*) }"          # fields after "(comm) "; rest[0] is field 3 (state)
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12]))      # fields 14 (utime) and 15 (stime)
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
vm_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

api() {  # api METHOD PATH [BODY] -> response body on stdout; fails on a non-2xx status
    local args=(-sS --fail-with-body --max-time 10 -X "$1" -H "X-Api-Key: $api_key"
                -H "Content-Type: application/json")
    [[ $# -ge 3 ]] && args+=(--data "$3")
    curl "${args[@]}" "$base_url$2"
}
json_id() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p; s/.*[{,]"id":"\([^"]*\)".*/\1/p' | head -n1; }

# start_server DATA_DIR: starts firmo, sets server_pid, base_url, api_key.
start_server() {
    local data="$1" out="$1.stdout" flags=()
    [[ -n "$io_threads" ]] && flags+=(--io-threads "$io_threads")
    [[ -n "$worker_threads" ]] && flags+=(--worker-threads "$worker_threads")
    [[ -n "$db_pool" ]] && flags+=(--db-pool "$db_pool")
    mkdir -p "$data"
    "$firmo_bin" serve --data-dir "$data" --listen 127.0.0.1:0 --access-log false \
        --rate-limit-burst 0 "${flags[@]}" >"$out" 2>"$data.stderr" &
    server_pid=$!
    api_key=""; base_url=""
    for _ in $(seq 150); do
        api_key="$(sed -n 's/^API key: \(firmo_[^ ]*\)$/\1/p' "$out")"
        base_url="$(sed -n 's/^Firmo is listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$out")"
        [[ -n "$api_key" && -n "$base_url" ]] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$data.stderr" >&2; die "firmo exited at start"; }
        sleep 0.1
    done
    [[ -n "$api_key" && -n "$base_url" ]] || die "firmo did not print its URL and API key within 15 s"
    curl -sS --fail --max-time 5 "$base_url/healthz" >/dev/null || die "firmo does not answer /healthz"
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

# run_wrk SCENARIO SECONDS -> wrk's output in $tmp/wrk.out
run_wrk() {
    local scenario="$1" secs="$2" args=()
    case "$scenario" in
        get_request) args=(-s "$here/api/get_request.lua" "$base_url" -- "$api_key" "$ids_file") ;;
        create_request) args=(-s "$here/api/create_request.lua" "$base_url" -- "$api_key" "$dossier_id" "$signer_id") ;;
    esac
    # wrk stops by itself after -d; `timeout` is a backstop only.
    timeout --signal=KILL $((secs + 30)) \
        wrk -t "$wrk_threads" -c "$connections" -d "${secs}s" --latency "${args[@]}" >"$tmp/wrk.out" 2>&1 \
        || { cat "$tmp/wrk.out" >&2; die "wrk failed ($scenario)"; }
}

results=()   # one record per scenario run, for the sweep table

run_scenario() {
    local scenario="$1" label="$2"
    if ((warmup > 0)); then run_wrk "$scenario" "$warmup"; fi
    local f0 w0 f1 w1
    f0="$(proc_cpu_ticks "$server_pid")"; children_cpu_ms w0
    run_wrk "$scenario" "$duration"
    f1="$(proc_cpu_ticks "$server_pid")"; children_cpu_ms w1
    local line
    line="$(grep '^API_BENCH_RESULT ' "$tmp/wrk.out" || true)"
    [[ -n "$line" ]] || { cat "$tmp/wrk.out" >&2; die "no result line from wrk ($scenario)"; }
    local -A r=()
    local kv
    for kv in ${line#API_BENCH_RESULT }; do r[${kv%%=*}]="${kv#*=}"; done
    local errors=$((r[errors_status] + r[errors_connect] + r[errors_read] + r[errors_write] + r[errors_timeout]))
    local hwm; hwm="$(vm_hwm_kib "$server_pid")"
    local out summary record
    out="$(awk -v n="${r[requests]}" -v us="${r[duration_us]}" -v p50="${r[p50_us]}" \
        -v p99="${r[p99_us]}" -v mx="${r[max_us]}" -v fc="$((f1 - f0))" -v tck="$clk_tck" \
        -v wc="$((w1 - w0))" -v hwm="$hwm" -v c="$connections" -v d="$duration" \
        -v s="$scenario" -v label="$label" -v errs="$errors" 'BEGIN {
        secs = us / 1e6; rps = n / secs; fcores = fc / tck / secs; wcores = wc / 1000 / secs
        cpu_us = n > 0 ? fc / tck * 1e6 / n : 0
        printf "api_bench %s: %.0f req/s p99 %.2f ms (%d conns, %d s) p50 %.2f ms max %.1f ms, %d errors | firmo %.2f cores (%.0f us CPU/req), wrk %.2f cores, firmo VmHWM %.1f MiB | %s\n",
            s, rps, p99 / 1000, c, d, p50 / 1000, mx / 1000, errs, fcores, cpu_us, wcores, hwm / 1024, label
        printf "%s|%.0f|%.2f|%.2f|%.2f|%.0f|%.2f|%.1f\n", s, rps, p50 / 1000, p99 / 1000, fcores, cpu_us, wcores, hwm / 1024 }')"
    summary="${out%%$'\n'*}"; record="${out#*$'\n'}"
    echo "$summary"
    if ((errors > 0)); then
        echo "api_bench: $scenario: $errors failed calls (status ${r[errors_status]}, connect ${r[errors_connect]}, read ${r[errors_read]}, write ${r[errors_write]}, timeout ${r[errors_timeout]}); the figure is not valid" >&2
        sed -n '1,/^API_BENCH_RESULT/p' "$tmp/wrk.out" >&2
        bench_failed=1
    fi
    results+=("${io_threads:-1}|${worker_threads:-4}|$record")
}

run_config() {
    local label="io-threads ${io_threads:-1 (default)}, worker-threads ${worker_threads:-4 (default)}, db-pool ${db_pool:-8 (default)}"
    start_server "$tmp/data.$RANDOM"
    make_fixtures
    local s
    for s in ${scenarios//,/ }; do run_scenario "$s" "$label"; done
    stop_server
}

bench_failed=0
if ((sweep)); then
    for io in 1 2; do
        for wt in 2 4 8; do
            io_threads="$io"; worker_threads="$wt"
            run_config
        done
    done
    echo
    echo "| io-threads | worker-threads | scenario | req/s | p50 ms | p99 ms | firmo cores | firmo CPU us/req | wrk cores | VmHWM MiB |"
    echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for rec in "${results[@]}"; do echo "| ${rec//|/ | } |"; done
else
    run_config
fi
exit "$bench_failed"
