#!/usr/bin/env bash
# Runs every test: lint and format checks, the type-check, the TypeScript tests (unit, and end-to-end
# against the real Python worker), and the worker's pytest suite. Run scripts/setup.sh first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
step() { printf '\n==> %s\n' "$*"; }

step "lint and format (biome, ruff)"
pnpm run lint
workers/torch/.venv/bin/ruff check workers/torch
workers/torch/.venv/bin/ruff format --check workers/torch

step "type-check (tsc over the whole repo)"
pnpm run typecheck

step "TypeScript tests (vitest: units, end-to-end with the Python worker, generated-code check)"
pnpm exec vitest run

step "worker tests (pytest)"
# -m "": every test, the multi-process ones (torchrun/FSDP2, the SIGKILL chaos test) included.
bash scripts/test-worker.sh -m ""
