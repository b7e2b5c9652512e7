#!/usr/bin/env bash
# The worker's pytest suite, from its own environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../workers/torch"
exec .venv/bin/python -m pytest -q "$@"
