#!/usr/bin/env bash
# Fails when the committed generated code differs from what protos/ generates now.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/generate.sh
paths=(packages/proto/src/gen workers/torch/src/midspec_worker/gen)
if ! git diff --exit-code --stat -- "${paths[@]}" || [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  echo "generated code is stale: run 'pnpm generate' and commit the result" >&2
  git status --porcelain -- "${paths[@]}" >&2
  exit 1
fi
echo "generated code is up to date"
