#!/usr/bin/env bash
# Terminal chat: the action server in the background, `rasa shell` in front.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mkdir -p var
# shop/logging.yml masks phone numbers and secrets in the logs.
LOGGING=(--logging-config-file shop/logging.yml)
.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions "${LOGGING[@]}" \
  >var/actions-shell.log 2>&1 &
ACTIONS_PID=$!
trap 'kill "$ACTIONS_PID" 2>/dev/null || true' EXIT INT TERM
.venv/bin/python -m bot.serve shell --model models/current.tar.gz --endpoints "$RASA_ENDPOINTS" "${LOGGING[@]}"
