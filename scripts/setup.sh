#!/usr/bin/env bash
# Sets up everything a fresh machine needs, idempotently: pnpm (pinned), the TypeScript workspace
# (installed and built), uv (pinned, inside the repo) and the worker's Python environment from its
# committed lock. Safe to rerun; later runs take seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

PNPM_VERSION=12.4.2
UV_VERSION=0.9.5
step() { printf '\n==> %s\n' "$*"; }

step "pnpm $PNPM_VERSION"
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION"
fi

step "TypeScript workspace (pnpm install, build)"
CI=true pnpm install --frozen-lockfile
pnpm run build

step "uv $UV_VERSION (in .tools/uv)"
if [ "$(.tools/uv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv .tools/uv
  .tools/uv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

step "worker environment (workers/torch/.venv, from uv.lock)"
# Python itself is the machine's: uv must never try to download an interpreter.
export UV_PYTHON_DOWNLOADS=never
(cd workers/torch && ../../.tools/uv/bin/uv sync --frozen --python 3.11)

step "Chromium (headless report tests)"
# Debian's build: test tools may not download browsers of their own here.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
      "the HTML report test will be skipped" >&2
  fi
fi

step "Slurm (the slurm launcher's tests start a single-node cluster)"
# Debian's slurmctld, slurmd, slurm-client and munge; the tests skip with a message without them.
if ! command -v slurmctld >/dev/null && [ ! -x /usr/sbin/slurmctld ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      slurmctld slurmd slurm-client munge >/dev/null
  else
    echo "warning: Slurm is missing and cannot be installed here (needs root and apt-get);" \
      "the slurm launcher tests will be skipped" >&2
  fi
fi

step "ready"
