#!/usr/bin/env bash
# One-node, in-memory Ceph cluster with an S3 gateway (radosgw) on a free
# loopback port, for tests and benchmarks. Needs Debian's ceph-mon, ceph-osd,
# radosgw and ceph-common packages (see .ci/apt-packages.txt).
#
#   radosgw.sh start DIR [OWNER_PID]  DIR must not exist or be empty. Prints, one per line:
#                                      S3_ENDPOINT=http://127.0.0.1:PORT
#                                      S3_REGION=us-east-1
#                                      AWS_ACCESS_KEY_ID=...  AWS_SECRET_ACCESS_KEY=...
#                                      When OWNER_PID is given, the cluster stops itself
#                                      once that process is gone (a crashed test leaves nothing).
#   radosgw.sh stop DIR               stops every daemon started in DIR and removes DIR
#   radosgw.sh kill-gateway DIR       SIGKILLs the gateway only (fault tests)
#   radosgw.sh start-gateway DIR      starts the gateway again on the same port
#
# Everything lives in DIR: configuration, the monitor's store, logs, pid files.
# The OSD keeps objects in memory (memstore), so nothing survives a stop.
set -euo pipefail

die() { echo "radosgw.sh: $*" >&2; exit 1; }

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# wait_for SECONDS DESCRIPTION [--while PID] COMMAND...
# With --while, stops waiting at once when that process has exited.
wait_for() {
  local secs=$1 what=$2 pid=''; shift 2
  if [ "${1:-}" = --while ]; then pid=$2; shift 2; fi
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "radosgw.sh: $what exited before it was ready; last log lines:" >&2
      tail -n 5 "$DIR"/log/*.out >&2 2>/dev/null || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "radosgw.sh: timed out waiting for $what; last log lines:" >&2
      tail -n 20 "$DIR"/log/*.log >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.3
  done
}


start_daemon() { # NAME COMMAND...
  local name=$1; shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

stop_pidfile() { # PIDFILE [SIGNAL]
  local f=$1 sig=${2:-TERM} pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# The gateway itself answers on PORT: an HTTP status line, not just an open port. Between choosing
# a free port and the gateway binding it (seconds, while the OSD starts), a daemon of another
# cluster started beside this one may take the port; its messenger then answered a test's S3
# requests with its own banner ("Expected HTTP/" in the client).
gateway_answers() ( # in a subshell: a connection that fails must not end the script
  line=''
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf 'GET / HTTP/1.0\r\n\r\n' >&3
  IFS= read -r -t 5 line <&3 || true
  [[ $line == HTTP/* ]]
)

# Starts the gateway on the port in rgw.port and waits until it answers there; fails at once when it
# exits (the port was taken), or after a minute.
start_gateway() {
  local port; port=$(cat "$DIR/rgw.port")
  start_daemon rgw radosgw -f -c "$DIR/ceph.conf" -n client.rgw \
    --rgw-frontends "beast endpoint=127.0.0.1:$port"
  wait_for 60 "the S3 gateway on port $port" --while "$(cat "$DIR/rgw.pid")" gateway_answers "$port"
}

# The first start: a free port, and another if the gateway cannot have it.
start_gateway_on_a_free_port() {
  for _ in 1 2 3; do
    free_port >"$DIR/rgw.port"
    start_gateway && return 0
    stop_pidfile "$DIR/rgw.pid"
  done
  die "the S3 gateway did not start on any of three ports"
}

cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: radosgw.sh start|stop|kill-gateway|start-gateway DIR [OWNER_PID]"
for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool ceph; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)"
done

case "$cmd" in
start)
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then die "$DIR is not empty"; fi
  mkdir -p "$DIR"/log "$DIR"/run "$DIR"/mon.a "$DIR"/osd.0 "$DIR"/rgw
  DIR=$(cd "$DIR" && pwd)
  mon_port=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$DIR/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
# Without crc the gateway's monitor session stalls when auth is none.
ms_mon_client_mode = crc
ms_bind_msgr1 = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = $DIR/keyring
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 1
mon data avail crit = 0
[mon.a]
mon data = $DIR/mon.a
[osd.0]
osd data = $DIR/osd.0
[client.rgw]
rgw data = $DIR/rgw
rgw enable usage log = false
rgw dns name = localhost
CONF
  conf=(-c "$DIR/ceph.conf")
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
  ceph-mon "${conf[@]}" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$DIR/log/setup.out" 2>&1
  start_daemon mon ceph-mon -f "${conf[@]}" -i a
  if [ -n "${3:-}" ]; then
    owner=$3
    setsid bash -c "while kill -0 $owner 2>/dev/null && [ -d '$DIR' ]; do sleep 2; done; [ -d '$DIR' ] && '$0' stop '$DIR'" </dev/null >/dev/null 2>&1 &
  fi
  wait_for 60 "the monitor" timeout 5 ceph "${conf[@]}" mon stat
  osd_id=$(timeout 20 ceph "${conf[@]}" osd create)
  [ "$osd_id" = 0 ] || die "unexpected osd id $osd_id"
  ceph-osd "${conf[@]}" -i 0 --mkfs >>"$DIR/log/setup.out" 2>&1
  start_daemon osd ceph-osd -f "${conf[@]}" -i 0
  wait_for 60 "the OSD" bash -c "timeout 5 ceph -c '$DIR/ceph.conf' osd dump | grep -q '^osd.0 up'"
  start_gateway_on_a_free_port
  rgw_port=$(cat "$DIR/rgw.port")
  access=$(head -c 15 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret=$(head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n')
  timeout 60 radosgw-admin "${conf[@]}" user create --uid=chatsafe --display-name=chatsafe \
    --access-key="$access" --secret-key="$secret" >>"$DIR/log/setup.out" 2>&1
  echo "S3_ENDPOINT=http://127.0.0.1:$rgw_port"
  echo "S3_REGION=us-east-1"
  echo "AWS_ACCESS_KEY_ID=$access"
  echo "AWS_SECRET_ACCESS_KEY=$secret"
  ;;
stop)
  [ -d "$DIR" ] || exit 0
  stop_pidfile "$DIR/rgw.pid"
  stop_pidfile "$DIR/osd.pid"
  stop_pidfile "$DIR/mon.pid"
  rm -rf "$DIR"
  ;;
kill-gateway)
  stop_pidfile "$DIR/rgw.pid" KILL
  ;;
start-gateway)
  [ -f "$DIR/rgw.port" ] || die "no cluster in $DIR"
  start_gateway
  ;;
*) die "unknown command $cmd" ;;
esac
