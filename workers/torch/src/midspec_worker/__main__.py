"""Command line: `python -m midspec_worker serve --port 0 --data-dir DIR`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from midspec_worker import exposure, limits, logs, model_policy
from midspec_worker.launch import flags as launch_flags


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="midspec-worker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the midspec worker contract over gRPC")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=50051, help="port; 0 picks a free one")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=Path("midspec-data"),
        help="datasets, models, runs and the SQLite job table live here",
    )
    serve.add_argument(
        "--max-message-mb",
        type=int,
        default=64,
        help="largest gRPC message accepted or sent, in MiB",
    )
    serve.add_argument(
        "--heartbeat-seconds",
        type=float,
        default=5.0,
        help="idle interval between WatchRun heartbeats",
    )
    serve.add_argument(
        "--shutdown-grace-seconds",
        type=float,
        default=15.0,
        help="how long a training child may take to stop before it is terminated",
    )
    serve.add_argument(
        "--max-restarts",
        type=int,
        default=3,
        help="how often in a row a run whose training process dies (segfault, OOM kill) is resumed"
        " without getting past its last checkpoint before it fails",
    )
    serve.add_argument(
        "--openai-port",
        type=int,
        default=None,
        help="also serve an OpenAI-compatible HTTP API on this port (0 picks a free one)",
    )
    serve.add_argument(
        "--max-batch-size",
        type=int,
        default=16,
        help="most completions generated together in one batch (1 generates one at a time)",
    )
    serve.add_argument(
        "--batch-window-ms",
        type=float,
        default=5.0,
        help="how long a batch waits for concurrent requests to join it",
    )
    serve.add_argument(
        "--batching",
        choices=["continuous", "static"],
        default="continuous",
        help="continuous: requests join the running batch at every token; static: a batch runs "
        "to completion before the next starts (for comparison)",
    )
    serve.add_argument(
        "--model-cache-size", type=int, default=2, help="models kept loaded for inference"
    )
    serve.add_argument(
        "--token",
        default=None,
        help="require 'authorization: Bearer TOKEN' on every call but health checks "
        "(default: $MIDSPEC_WORKER_TOKEN; unset means no authentication)",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow serving a non-loopback address without --token (refused otherwise)",
    )
    serve.add_argument(
        "--model-root",
        type=Path,
        action="append",
        default=[],
        help="a folder whose sub-folders may be used as local base models (repeatable); other "
        "local paths are refused (tiny:* and hub ids are always allowed)",
    )
    serve.add_argument(
        "--max-record-mb",
        type=float,
        default=None,
        help="largest JSONL record (line) a dataset upload may hold, in MiB (default 16)",
    )
    serve.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate chain for TLS")
    serve.add_argument("--tls-key", type=Path, default=None, help="PEM private key for TLS")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    launch_flags.add_arguments(serve)
    args = parser.parse_args(argv)
    launch_flags.check(parser, args)
    if args.max_restarts < 0:
        parser.error("--max-restarts must be 0 or more")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    # An explicit flag first, then the environment; an empty value means no token.
    args.token = args.token if args.token is not None else os.environ.get("MIDSPEC_WORKER_TOKEN")
    if args.max_record_mb is not None and args.max_record_mb <= 0:
        parser.error("--max-record-mb must be positive")
    for root in args.model_root:
        if not root.is_dir():
            parser.error(f"--model-root {root}: not a directory")
    refused = exposure.refusal(args.host, args.token or None, args.insecure)
    if refused is not None:
        parser.error(refused)
    return args


async def serve(args: argparse.Namespace) -> int:
    from midspec_worker import server

    # Through the environment, so the training children apply the same bounds.
    for root in args.model_root:
        model_policy.add_root(root)
    if args.max_record_mb is not None:
        os.environ[limits.RECORD_BYTES_ENV] = str(int(args.max_record_mb * 1024 * 1024))
    from midspec_worker.inference.engine import Limits
    from midspec_worker.openai_http import OpenAIServer

    worker = await server.start(
        args.host,
        args.port,
        args.data_dir.resolve(),
        args.max_message_mb,
        args.heartbeat_seconds,
        args.shutdown_grace_seconds,
        inference_limits=Limits(
            max_batch_size=args.max_batch_size,
            batch_window_seconds=args.batch_window_ms / 1000,
            continuous=args.batching == "continuous",
            cache_size=args.model_cache_size,
        ),
        token=args.token or None,
        tls=(args.tls_cert, args.tls_key) if args.tls_cert is not None else None,
        max_restarts=args.max_restarts,
        launcher=launch_flags.launcher(args, args.data_dir.resolve()),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Clients (the TypeScript CLI, tests) wait for exactly this line.
    print(f"midspec-worker listening on {args.host}:{worker.port}", flush=True)
    openai = None
    if args.openai_port is not None:
        openai = OpenAIServer(worker.inference, token=args.token or None)
        port = await openai.start(args.host, args.openai_port)
        print(f"midspec-worker openai listening on {args.host}:{port}", flush=True)
    await stop.wait()
    if openai is not None:
        await openai.stop()
    await worker.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # gRPC core logs in its own format; keep stderr to our JSON lines unless it is an error.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    logs.configure(args.log_level)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
