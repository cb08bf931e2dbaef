#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the key vault's tests and benchmarks,
# on a free loopback port. DIR records where the cluster is; the cluster
# itself lives in its own temp folder, which the "postgres" user can reach
# even when DIR sits inside a folder private to root.
#   scripts/services/postgres.sh start DIR   prints DATABASE_URL=postgres://... and PGDATA=...
#   scripts/services/postgres.sh stop DIR    stops the server and deletes DIR
# fsync is off (a test cluster) unless PG_FSYNC=on, as benchmarks set it.
# As root (CI), the server runs as the "postgres" system user, which PostgreSQL requires.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then echo "usage: $0 start|stop DIR" >&2; exit 2; fi

bindir() {
  if command -v pg_ctl >/dev/null; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  local d; d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n "$d" ]] && { echo "$d"; return; }
  echo "PostgreSQL not found: install the postgresql package" >&2; exit 3
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

case "$cmd" in
  start)
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    cluster=$(mktemp -d "${TMPDIR:-/tmp}/chatsafe-pg.XXXXXX")
    echo "$cluster" > "$dir/cluster"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$cluster"; fi
    chmod 700 "$cluster"
    as_owner "$bin/initdb" -D "$cluster/data" -U chatsafe --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=${PG_FSYNC:-off} -c max_connections=200" start >/dev/null \
      || { cat "$cluster/server.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    echo "DATABASE_URL=postgres://chatsafe@127.0.0.1:$port/postgres"
    echo "PGDATA=$cluster/data"
    ;;
  stop)
    cluster=$(cat "$dir/cluster" 2>/dev/null || true)
    if [[ -n "$cluster" && -f "$cluster/data/PG_VERSION" ]]; then
      bin=$(bindir)
      as_owner "$bin/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$cluster"
    fi
    rm -f "$dir/cluster" "$dir/port" "$dir/initdb.log"
    rmdir "$dir" 2>/dev/null || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
