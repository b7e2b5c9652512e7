"""The local launcher: each run's training in a child process of the worker (today's behaviour).

The child runs one process, or starts torchrun itself for world_size > 1 (train/child.py). For a
run spread over machines without a scheduler, `node_command` prints what to start on each.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from midspec_worker.launch.base import Job, torchrun_command
from midspec_worker.train import child


class LocalLauncher:
    name = "local"

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        # Never fork the gRPC process: its threads and locks do not survive a fork.
        self._mp = multiprocessing.get_context("spawn")

    def start(self, run_id: str) -> Job:
        process = self._mp.Process(
            target=child.entry,
            args=(str(self._data_dir), run_id),
            name=f"midspec-train-{run_id}",
            daemon=True,
        )
        process.start()
        return process


def node_command(
    python: str,
    data_dir: Path,
    run_id: str,
    nnodes: int,
    node_rank: int,
    nproc_per_node: int,
    rdzv_endpoint: str,
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
    )
