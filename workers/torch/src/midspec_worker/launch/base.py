"""The launcher interface the run queue (runs.py) uses: start a run's training, get a handle."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Protocol


class Job(Protocol):
    """A run's training, started by a launcher; the same surface as multiprocessing.Process, so the
    run queue treats local child processes and cluster jobs alike."""

    @property
    def pid(self) -> int | None: ...

    @property
    def exitcode(self) -> int | None:
        """None while running; negative: ended by that signal (a cancelled or preempted job)."""
        ...

    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...

    def terminate(self) -> None:
        """Ask the training to stop at its next step boundary (SIGTERM)."""
        ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    name: str

    def start(self, run_id: str) -> Job: ...


def torchrun_command(
    python: str,
    data_dir: Path,
    run_id: str,
    nproc_per_node: int,
    nnodes: str = "1",
    node_rank: str | None = None,
    rdzv_endpoint: str | None = None,
    rdzv_id: str | None = None,
) -> list[str]:
    """The torchrun command line of one node of a run (the training child as every rank).

    One node without an endpoint rendezvouses on its own (`--standalone`); several nodes meet
    through c10d at `rdzv_endpoint` (host:port of the first node).
    """
    command = [python, "-m", "torch.distributed.run"]
    if rdzv_endpoint is None:
        command.append("--standalone")
    else:
        command += [
            f"--nnodes={nnodes}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={rdzv_endpoint}",
            f"--rdzv-id={rdzv_id or run_id}",
        ]
        if node_rank is not None:
            # c10d orders ranks by arrival; the node rank only says who hosts the rendezvous
            # store. Explicit, so a node restarted first cannot also claim to host it.
            command.append(f"--rdzv-conf=is_host={'true' if node_rank == '0' else 'false'}")
    command += [f"--nproc-per-node={nproc_per_node}"]
    command += ["-m", "midspec_worker.train.child", str(data_dir), run_id]
    return command


def killed_by(signum: int) -> int:
    """The exit code multiprocessing reports for a process ended by `signum`."""
    return -int(signal.Signals(signum))


PYTHON = sys.executable
