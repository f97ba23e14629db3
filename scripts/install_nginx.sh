#!/usr/bin/env bash
# The scale-out test puts nginx (Debian's package) in front of two Rasa servers.
# It runs its own nginx process on free ports, so the package's service must not
# start: policy-rc.d keeps the post-install script from starting it on port 80.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install_nginx: need root or sudo to apt-get install nginx" >&2; exit 1; }
  SUDO=sudo
fi
echo "==> installing Debian's nginx for the scale-out test"
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  ADDED_POLICY=1
fi
cleanup() { if [ -n "$ADDED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends nginx >/dev/null 2>&1 \
  || { $SUDO apt-get update >/dev/null \
       && $SUDO apt-get install -y --no-install-recommends nginx >/dev/null; }
ls -l /usr/sbin/nginx
