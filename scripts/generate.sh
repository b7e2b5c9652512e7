#!/usr/bin/env bash
# Regenerates the worker contract's code in both languages from protos/:
#   TypeScript: buf generate (ts-proto, grpc-js services) -> packages/proto/src/gen
#   Python:     grpcio-tools -> workers/torch/src/midspec_worker/gen (pb2, pb2_grpc, pyi)
# Generated code is committed; scripts/check-generated.sh fails when it is stale.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rm -rf packages/proto/src/gen
(cd protos && ../node_modules/.bin/buf generate)

py_out=workers/torch/src/midspec_worker/gen
rm -rf "$py_out"
mkdir -p "$py_out"
workers/torch/.venv/bin/python -m grpc_tools.protoc -I protos \
  --python_out="$py_out" --pyi_out="$py_out" --grpc_python_out="$py_out" \
  protos/midspec/worker/v1/*.proto
# protoc writes absolute imports ("from midspec.worker.v1 import x_pb2"); make them relative to our
# package so the generated modules import from inside midspec_worker.
find "$py_out" -name '*.py' -o -name '*.pyi' | while read -r f; do
  sed -i -E 's/^from midspec\.worker\.v1 import /from midspec_worker.gen.midspec.worker.v1 import /' "$f"
done
for d in "$py_out" "$py_out/midspec" "$py_out/midspec/worker" "$py_out/midspec/worker/v1"; do
  : > "$d/__init__.py"
done
