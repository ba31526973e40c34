#!/usr/bin/env bash
# Scaling out on one machine, measured: the app as one process (python app.py) against
# several stateless API workers (uvicorn --workers N, each worker on cores/N OpenMP threads).
#
#   bash bench/scale_out.sh            # N=2 (this machine has 2 cores)
#   WORKERS=4 bash bench/scale_out.sh  # more workers; extra qa bench options may follow
#
# The same multi-worker server, to run by hand (build the index first: each worker would
# otherwise rebuild a stale one):
#   .venv/bin/qa index
#   OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python -m uvicorn --factory \
#       qa.web.asgi:create_app --workers 2 --host 127.0.0.1 --port 7860
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/qa index
exec .venv/bin/qa bench --only server workers --workers "${WORKERS:-2}" "$@"
