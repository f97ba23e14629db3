# Environment shared by the Makefile's scripts: defaults for every variable that
# endpoints.yml and the actions read. Sourced, not executed.
if [ -f .env ]; then set -a; source .env; set +a; fi
export RASA_PORT="${RASA_PORT:-5005}"
export ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///$PWD/var/tracker.db}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Profile: endpoints.yml (one machine: SQLite, in-memory locks) or
# endpoints.production.yml (PostgreSQL tracker store, Redis lock store, action
# servers behind a load balancer). The variables below matter for the latter.
export RASA_ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_DB="${REDIS_DB:-1}"
export REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-shop}"
