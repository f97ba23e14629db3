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
