#!/usr/bin/env bash
# Creates .venv with a Python 3.10 interpreter (Rasa 3.6 refuses 3.11+) and installs
# the pinned dependencies. Idempotent: does nothing when the lock has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP=$VENV/.installed
want=$(cat requirements.txt requirements.lock | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

is_py310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python() {
  local c
  # 1. an explicit choice
  if [ -n "${PYTHON310:-}" ] && is_py310 "$PYTHON310"; then echo "$PYTHON310"; return; fi
  # 2. python3.10 on PATH (a pyenv shim may exist but refuse to run: is_py310 checks)
  if c=$(command -v python3.10 2>/dev/null) && is_py310 "$c"; then echo "$c"; return; fi
  # 3. any 3.10 installed under pyenv, newest patch first
  local root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for c in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -t. -k3 -n -r); do
    if is_py310 "$c/bin/python3.10"; then echo "$c/bin/python3.10"; return; fi
  done
  # 4. uv-managed interpreters
  if command -v uv >/dev/null 2>&1 && c=$(uv python find 3.10 2>/dev/null) && is_py310 "$c"; then
    echo "$c"; return
  fi
  # 5. the usual system locations
  for c in /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if is_py310 "$c"; then echo "$c"; return; fi
  done
  return 1
}

if [ -x "$VENV/bin/python" ] && is_py310 "$VENV/bin/python"; then
  PY=$VENV/bin/python
else
  if ! base=$(find_python); then
    echo "ERROR: Python 3.10 not found (Rasa 3.6 needs Python 3.8-3.10)." >&2
    echo "Install one, e.g. 'pyenv install 3.10', 'uv python install 3.10' or 'apt install python3.10 python3.10-venv'," >&2
    echo "or point PYTHON310 at an interpreter: make run PYTHON310=/path/to/python3.10" >&2
    exit 1
  fi
  echo "==> creating $VENV with $base"
  rm -rf "$VENV"
  "$base" -m venv "$VENV"
  PY=$VENV/bin/python
fi

echo "==> installing pinned dependencies (first time: a few minutes)"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3 wheel==0.45.1
"$PY" -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements.lock
echo "$want" > "$STAMP"
echo "==> environment ready: $("$PY" --version)"
