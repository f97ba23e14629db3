#!/usr/bin/env bash
# Starts the action server and the Rasa server (foreground). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

mkdir -p var
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  if [ ! -s var/auth_token ]; then
    .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))' > var/auth_token
    chmod 600 var/auth_token
  fi
  RASA_AUTH_TOKEN=$(cat var/auth_token)
fi

STAFF_LOGIN=$(.venv/bin/python -m shop.staff_auth ensure)
# How the HTTP API is exposed (bot/serve.py api_args): a header JWT and configured
# CORS origins in production, the query token in development.
export RASA_AUTH_TOKEN
mapfile -t API_ARGS < <(.venv/bin/python -m bot.serve api-args)
[ "${#API_ARGS[@]}" -gt 0 ] || exit 1

# shop/logging.yml masks phone numbers and secrets in both servers' logs.
LOGGING=(--logging-config-file shop/logging.yml)
.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions "${LOGGING[@]}" &
ACTIONS_PID=$!
stop() { kill "$ACTIONS_PID" 2>/dev/null || true; wait "$ACTIONS_PID" 2>/dev/null || true; }
trap stop EXIT INT TERM

cat <<MSG

  Assistant starting (about 25 s). Then:
    Web chat:      http://localhost:$RASA_PORT/webhooks/chat/
    Widget demo:   http://localhost:$RASA_PORT/webhooks/chat/demo   (one <script> tag:
                   <script src="http://localhost:$RASA_PORT/webhooks/chat/widget.js"></script>)
    Staff console: http://localhost:$RASA_PORT/webhooks/console/
                   $STAFF_LOGIN
    REST:          curl -s -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
                     -H 'Content-Type: application/json' -d '{"sender":"me","message":"你好"}'
    HTTP API:      http://localhost:$RASA_PORT/status?token=<var/auth_token or RASA_AUTH_TOKEN>
    Terminal:      make shell
  Ctrl-C stops everything.

MSG
.venv/bin/python -m bot.serve run --model models/current.tar.gz --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints "$RASA_ENDPOINTS" \
  "${API_ARGS[@]}" "${LOGGING[@]}"
