#!/usr/bin/env bash
# A WebDAV server (Apache httpd with mod_dav_fs and basic auth) on a free
# loopback port, serving a fresh temporary folder. Needs Debian's apache2 and
# apache2-utils packages (see .ci/apt-packages.txt).
#
#   webdav.sh start DIR [OWNER_PID]  DIR must not exist or be empty. Prints, one per line:
#                                     WEBDAV_URL=http://127.0.0.1:PORT/dav
#                                     CHATSAFE_WEBDAV_USER=...  CHATSAFE_WEBDAV_PASSWORD=...
#                                     With OWNER_PID, the server stops itself once that process is gone.
#   webdav.sh stop DIR               stops the server and removes DIR
#   webdav.sh kill DIR               SIGKILLs the server (fault tests); `start-again DIR` brings it back
#   webdav.sh start-again DIR        starts it again on the same port with the same files
set -euo pipefail

die() { echo "webdav.sh: $*" >&2; exit 1; }
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)
[ -x "$APACHE" ] || die "apache2 is not installed (apt-get install apache2 apache2-utils)"
command -v htpasswd >/dev/null || die "htpasswd is not installed (apt-get install apache2-utils)"
MODULES=/usr/lib/apache2/modules

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

run_server() {
  local port; port=$(cat "$DIR/port")
  # -DFOREGROUND keeps the parent in the foreground so that its pid is the one to stop.
  setsid "$APACHE" -f "$DIR/httpd.conf" -DFOREGROUND </dev/null >>"$DIR/logs/server.out" 2>&1 &
  echo $! >"$DIR/server.pid"
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$DIR/logs/server.out" "$DIR/logs/error.log" >&2 2>/dev/null || true
  die "the server did not start on port $port"
}

stop_server() { # [SIGNAL]
  local pid
  [ -f "$DIR/server.pid" ] || return 0
  pid=$(cat "$DIR/server.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -"${1:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # After a SIGKILL of the parent its workers linger until they notice; end them by the process group.
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$DIR/server.pid"
}

cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: webdav.sh start|stop|kill|start-again DIR [OWNER_PID]"

case "$cmd" in
start)
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then die "$DIR is not empty"; fi
  mkdir -p "$DIR"/dav "$DIR"/logs "$DIR"/run "$DIR"/lock
  DIR=$(cd "$DIR" && pwd)
  port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  echo "$port" >"$DIR/port"
  user=chatsafe
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  htpasswd -b -c -B "$DIR/htpasswd" "$user" "$password" >/dev/null 2>&1
  # As root, httpd drops to an unprivileged user, who must own the served folder.
  run_as=""
  if [ "$(id -u)" = 0 ]; then
    run_as="User www-data
Group www-data"
    chown -R www-data:www-data "$DIR/dav" "$DIR/lock"
    chmod 755 "$DIR"
    if command -v runuser >/dev/null && ! runuser -u www-data -- test -w "$DIR/dav"; then
      die "www-data cannot reach $DIR/dav: make its parent folders traversable (chmod 755)"
    fi
  fi
  cat >"$DIR/httpd.conf" <<CONF
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$DIR/run/httpd.pid"
ErrorLog "$DIR/logs/error.log"
LogLevel warn
DefaultRuntimeDir "$DIR/run"
Mutex file:$DIR/run default
$run_as
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule auth_basic_module $MODULES/mod_auth_basic.so
LoadModule alias_module $MODULES/mod_alias.so
LoadModule dav_module $MODULES/mod_dav.so
LoadModule dav_fs_module $MODULES/mod_dav_fs.so
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
UseCanonicalName Off
Timeout 30
KeepAliveTimeout 5
LimitRequestBody 0
DavLockDB "$DIR/lock/DavLock"
Alias /dav "$DIR/dav"
<Directory "$DIR/dav">
  Dav On
  AuthType Basic
  AuthName "chatsafe test"
  AuthUserFile "$DIR/htpasswd"
  Require valid-user
</Directory>
CONF
  run_server
  if [ -n "${3:-}" ]; then
    owner=$3
    setsid bash -c "while kill -0 $owner 2>/dev/null && [ -d '$DIR' ]; do sleep 2; done; [ -d '$DIR' ] && '$0' stop '$DIR'" </dev/null >/dev/null 2>&1 &
  fi
  echo "WEBDAV_URL=http://127.0.0.1:$port/dav"
  echo "CHATSAFE_WEBDAV_USER=$user"
  echo "CHATSAFE_WEBDAV_PASSWORD=$password"
  ;;
stop)
  [ -d "$DIR" ] || exit 0
  stop_server
  rm -rf "$DIR"
  ;;
kill)
  stop_server KILL
  ;;
start-again)
  [ -f "$DIR/port" ] || die "no server in $DIR"
  run_server
  ;;
*) die "unknown command $cmd" ;;
esac
