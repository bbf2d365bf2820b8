#!/usr/bin/env bash
# pg_round_trips.sh [FIRMO_BIN] [N]: what one API call costs PostgreSQL, counted rather than timed
# (so the figures hold on a busy machine): statements the server runs per call (log_statement =
# all on the server's log) and round trips per call (the server process's send() calls to the
# database: libpq sends once per round trip; HTTP answers go out with sendmsg), for N GETs of one
# signature request and N creates, each series on one keep-alive connection.
#
# Runs on scripts/with-postgres.sh's throw-away cluster (it reads that cluster's log):
#   scripts/with-postgres.sh bench/pg_round_trips.sh build/release/firmo 200
# Needs curl, psql, strace. Prints one line per scenario.
set -euo pipefail

firmo_bin="${1:-build/release/firmo}"
n="${2:-200}"
admin="${FIRMO_TEST_POSTGRES_URL:?run under scripts/with-postgres.sh}"
log="$(dirname "$(psql "$admin" -Atc 'SHOW data_directory')")/server.log"
[[ -r "$log" ]] || { echo "pg_round_trips: cannot read the server log $log" >&2; exit 1; }

tmp="$(mktemp -d)"
db="firmo_rt_$$"
pid=""
cleanup() {
    [[ -z "$pid" ]] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
    psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

psql "$admin" -qc "CREATE DATABASE $db" -c "ALTER DATABASE $db SET log_statement = 'all'" >/dev/null
url="${admin%/*}/$db"
"$firmo_bin" serve --data-dir "$tmp/data" --listen 127.0.0.1:0 --database-url "$url" \
    --rate-limit-burst 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
base=""
for _ in $(seq 150); do
    base="$(sed -n 's/^Firmo is listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/out")"
    [[ -n "$base" ]] && break
    sleep 0.1
done
[[ -n "$base" ]] || { cat "$tmp/err" >&2; exit 1; }
key="$(sed -n 's/^API key: \(firmo_[^ ]*\)$/\1/p' "$tmp/out")"
api() { curl -sS --fail-with-body -H "X-Api-Key: $key" -H 'Content-Type: application/json' -X POST "$base$1" --data "$2"; }
id_of() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p; s/.*[{,]"id":"\([^"]*\)".*/\1/p' | head -n1; }
dossier="$(api /api/v1/dossiers '{"title":"Bench dossier","documents_metadata":[{"title":"Contract","signature_fields":[{"attrs":{"unique_name":"Signature1"},"clause":{"title":"I accept the terms","type":"REQUIRED"}}]}]}' | id_of)"
signer="$(api /api/v1/signers '{"fiscal_code":"RSSMRA80A01H501U"}' | id_of)"
body="{\"dossier_id\":\"$dossier\",\"signer_id\":\"$signer\"}"
request="$(api /api/v1/signature-requests "$body" | id_of)"
[[ -n "$request" ]] || { echo "pg_round_trips: fixtures failed" >&2; exit 1; }

# window CMD...: runs CMD with strace on the server; sets statements and sends (the database
# statements logged and the server's send() calls meanwhile) and secs (CMD's duration).
window() {
    local from strace_pid t0
    from="$(stat -c %s "$log")"
    strace -f -qq -e trace=sendto -c -o "$tmp/strace" -p "$pid" &
    strace_pid=$!
    sleep 0.5  # attached
    t0="$(date +%s.%N)"
    "$@"
    secs="$(echo "$(date +%s.%N) - $t0" | bc)"
    kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
    tail -c +"$((from + 1))" "$log" >"$tmp/statements"
    # The listener's heartbeats ("SELECT 1") are not the calls' work.
    statements="$(grep -E 'LOG:  (statement|execute [^:]*): ' "$tmp/statements" \
        | grep -vcE ': SELECT 1$' || true)"
    sends="$(awk '$NF == "sendto" {print $4}' "$tmp/strace")"
    sends="${sends:-0}"
}
calls() {  # METHOD PATH BODY: n calls on one keep-alive connection
    python3 - "$base" "$key" "$n" "$@" <<'PY'
import http.client, sys, urllib.parse
base, key, n, method, path, body = sys.argv[1:7]
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
for _ in range(int(n)):
    c.request(method, path, body=body or None,
              headers={"X-Api-Key": key, "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    if r.status >= 300: sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
PY
}
# measure NAME METHOD PATH [BODY]: N calls, minus what the server's background loops (outbox
# and job claims) did in an idle window as long as the calls took.
measure() {
    local name="$1"
    window calls "$2" "$3" "${4:-}"
    local st="$statements" se="$sends" busy="$secs"
    if [[ -n "${PG_ROUND_TRIPS_SHOW:-}" ]]; then
        grep -E 'LOG:  (statement|execute [^:]*): ' "$tmp/statements" | grep -vE ': SELECT 1$' \
            | sed 's/.*LOG:  //' | cut -c1-120 | tail -n "$PG_ROUND_TRIPS_SHOW" >&2
    fi
    window sleep "$busy"
    awk -v name="$name" -v n="$n" -v st="$st" -v se="$se" -v bst="$statements" -v bse="$sends" \
        -v busy="$busy" 'BEGIN {
        printf "pg_round_trips %s: %.2f statements, %.2f round trips per call (%d calls in %.1f s; background meanwhile: %d statements, %d round trips, subtracted)\n",
               name, (st - bst) / n, (se - bse) / n, n, busy, bst, bse }'
}
measure get_request GET "/api/v1/signature-requests/$request"
measure create_request POST /api/v1/signature-requests "$body"
