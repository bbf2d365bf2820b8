#!/usr/bin/env bash
# with-postgres.sh CMD...: runs CMD with a private, throw-away PostgreSQL 15 cluster.
#
# The cluster lives in a temp dir, listens on a random free loopback port (and a socket in that
# dir), trusts the `postgres` user, and is stopped and removed when CMD ends (also on failure or
# interrupt). CMD sees FIRMO_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:PORT/postgres.
# As root, the server runs as the `postgres` system user (initdb refuses root).
# Exit status: CMD's; 1 when PostgreSQL's binaries are missing (a test that cannot run fails).
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 CMD..." >&2; exit 2; }

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "with-postgres: no PostgreSQL in $PG_BIN (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

as_server=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "with-postgres: no 'postgres' user" >&2; exit 1; }
  as_server=(runuser -u postgres --)
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/firmo-pg-XXXXXX")"
chmod 755 "$dir"
[ ${#as_server[@]} -eq 0 ] || chown postgres: "$dir"
data="$dir/data"
started=0

cleanup() {
  local rc=$?
  if [ "$started" -eq 1 ] || [ -f "$data/postmaster.pid" ]; then
    "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_server[@]}" "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A port picked now may be taken before the server binds it: retry a few times.
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  if "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
  if [ "$attempt" -eq 5 ]; then
    echo "with-postgres: the server did not start:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
done

export FIRMO_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
set +e
"$@"
rc=$?
set -e
exit "$rc"
