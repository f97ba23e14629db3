#!/usr/bin/env bash
# Vendors the browser build of socket.io-client (pinned in package-lock.json) into
# bot/web/static/vendor/, where the Rasa server serves it to the widget and the console.
# No build step: the front-end is plain files; this copy is the only generated one.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=node_modules/socket.io-client/dist/socket.io.min.js
DEST=bot/web/static/vendor/socket.io.min.js

# npm writes node_modules/.package-lock.json on every install: it dates node_modules.
if [ ! -f node_modules/.package-lock.json ] || [ ! -f "$SRC" ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "vendor_web: npm not found; install Node.js (18+) to vendor socket.io-client" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund
fi

mkdir -p "$(dirname "$DEST")"
cp "$SRC" "$DEST"
echo "vendor_web: $DEST (socket.io-client $(node -p 'require("./node_modules/socket.io-client/package.json").version' 2>/dev/null || echo '?'))"
