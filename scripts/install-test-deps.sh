#!/usr/bin/env bash
# Installs the Debian packages the test suite starts for real (Ceph radosgw,
# Apache WebDAV, PostgreSQL, SoftHSM2, Chromium, Xvfb): the list is
# .ci/apt-packages.txt. Needs root (or sudo) on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=$(grep -v '^\s*#' .ci/apt-packages.txt | tr '\n' ' ' | xargs || true)
[ -z "$packages" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "installed: $packages"
