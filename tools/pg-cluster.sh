#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on a free local port, run as an unprivileged user:
#   tools/pg-cluster.sh start DIR [PORT]   (prints the superuser's URL; its password is in DIR)
#   tools/pg-cluster.sh stop DIR
# The tests start theirs through the same code (tests/support/pg.py, fixture pg_cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" -m tests.support.pg "$@"
