"""The local launcher: each run's training in a child process of the worker (today's behaviour).

The child runs one process, or starts torchrun itself for world_size > 1 (train/child.py). A run
can span machines without a scheduler: the worker, started with `--nnodes N --rdzv-endpoint
HOST:PORT`, runs node 0 of each multi-process run (torchrun with c10d rendezvous), and each other
machine joins it with `python -m midspec_worker.launch.local --data-dir DIR --run-id RUN
--nnodes N --node-rank R --rdzv-endpoint HOST:PORT` (the data directory on shared storage).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from midspec_worker.launch.base import torchrun_command


class LocalLauncher:
    name = "local"

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir

    def start(self, run_id: str, lease: int) -> subprocess.Popen[bytes]:
        # A fresh interpreter, never a fork of the gRPC process (its threads and locks do not
        # survive a fork), and not multiprocessing's spawn either: that re-imports the worker's
        # main module (torch included) before the child's first line could check its parent.
        # Called from the event loop's thread, which lives as long as the worker: the kernel's
        # parent-death signal follows the thread that started the child.
        command = [sys.executable, "-m", "midspec_worker.train.child", str(self._data_dir)]
        return subprocess.Popen(command + [run_id, str(lease), str(os.getpid())])


def node_command(
    python: str,
    data_dir: Path,
    run_id: str,
    nnodes: int,
    node_rank: int,
    nproc_per_node: int,
    rdzv_endpoint: str,
    lease: int = 0,
) -> list[str]:
    """The command that runs node `node_rank` of a multi-node run under torchrun (c10d)."""
    return torchrun_command(
        python,
        data_dir,
        run_id,
        nproc_per_node,
        nnodes=str(nnodes),
        node_rank=str(node_rank),
        rdzv_endpoint=rdzv_endpoint,
        lease=lease,
    )


# The worker hands the node layout to its training children (spawned processes inherit it).
NNODES_ENV = "MIDSPEC_NNODES"
RDZV_ENDPOINT_ENV = "MIDSPEC_RDZV_ENDPOINT"


def configure_nodes(nnodes: int, rdzv_endpoint: str | None) -> None:
    """Make this worker node 0 of `nnodes` for its multi-process runs."""
    if nnodes > 1:
        if not rdzv_endpoint:
            raise ValueError("--nnodes above 1 needs --rdzv-endpoint HOST:PORT (this machine's)")
        os.environ[NNODES_ENV] = str(nnodes)
        os.environ[RDZV_ENDPOINT_ENV] = rdzv_endpoint


def child_command(data_dir: Path, run_id: str, world_size: int, lease: int = 0) -> list[str]:
    """The torchrun command the training child starts for a run of `world_size` ranks: all on
    this machine (standalone), or node 0 of a multi-node layout from the worker's flags."""
    nnodes = int(os.environ.get(NNODES_ENV, "1"))
    endpoint = os.environ.get(RDZV_ENDPOINT_ENV)
    if nnodes <= 1 or not endpoint:
        return torchrun_command(sys.executable, data_dir, run_id, world_size, lease=lease)
    if world_size % nnodes:
        raise ValueError(f"world_size {world_size} does not split over {nnodes} nodes")
    per_node = world_size // nnodes
    return node_command(sys.executable, data_dir, run_id, nnodes, 0, per_node, endpoint, lease)


def main(argv: list[str] | None = None) -> int:
    """Run one node (not node 0, which the worker runs) of a multi-node run."""
    parser = argparse.ArgumentParser(prog="python -m midspec_worker.launch.local")
    parser.add_argument("--data-dir", type=Path, required=True, help="the worker's (shared)")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--nnodes", type=int, required=True)
    parser.add_argument("--node-rank", type=int, required=True)
    parser.add_argument("--nproc-per-node", type=int, default=1)
    parser.add_argument("--rdzv-endpoint", required=True, help="HOST:PORT of node 0")
    parser.add_argument(
        "--lease", type=int, default=0, help="the run attempt's lease (0: unfenced)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.node_rank < args.nnodes:
        parser.error("--node-rank must be between 1 and --nnodes - 1 (the worker runs node 0)")
    command = node_command(
        sys.executable,
        args.data_dir.resolve(),
        args.run_id,
        args.nnodes,
        args.node_rank,
        args.nproc_per_node,
        args.rdzv_endpoint,
        args.lease,
    )
    os.execv(command[0], command)
    return 1  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
