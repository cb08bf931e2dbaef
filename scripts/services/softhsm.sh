#!/usr/bin/env bash
# A throwaway SoftHSM2 token for the key vault's tests and benchmarks.
#   scripts/services/softhsm.sh start DIR   creates DIR, a token in it, and prints (KEY=VALUE lines)
#                                           SOFTHSM2_CONF, PKCS11_MODULE, PKCS11_TOKEN, PKCS11_PIN_FILE
#   scripts/services/softhsm.sh stop DIR    deletes the token and DIR
# The vault must run with SOFTHSM2_CONF set to the printed file.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then echo "usage: $0 start|stop DIR" >&2; exit 2; fi

find_module() {
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so /usr/lib64/pkcs11/libsofthsm2.so; do
    [[ -f "$m" ]] && { echo "$m"; return 0; }
  done
  return 1
}

case "$cmd" in
  start)
    command -v softhsm2-util >/dev/null || { echo "softhsm2-util not found: install the softhsm2 package" >&2; exit 3; }
    module=$(find_module) || { echo "libsofthsm2.so not found: install the softhsm2 package" >&2; exit 3; }
    mkdir -p "$dir/tokens"
    chmod 700 "$dir"
    dir=$(cd "$dir" && pwd)
    cat > "$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
    label=chatsafe-test
    pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    so_pin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null
    umask 077
    printf '%s\n' "$pin" > "$dir/pin"
    echo "SOFTHSM2_CONF=$dir/softhsm2.conf"
    echo "PKCS11_MODULE=$module"
    echo "PKCS11_TOKEN=$label"
    echo "PKCS11_PIN_FILE=$dir/pin"
    ;;
  stop)
    # Only ever delete a directory this script set up.
    if [[ -f "$dir/softhsm2.conf" && -d "$dir/tokens" ]]; then rm -rf "$dir"; fi
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
