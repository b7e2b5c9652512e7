"""The launcher interface the run queue (runs.py) uses: start a run's training, get a handle."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol


class Job(Protocol):
    """A run's training, started by a launcher; the surface of subprocess.Popen, so the run queue
    treats local child processes and cluster jobs alike."""

    @property
    def pid(self) -> int | None: ...

    @property
    def returncode(self) -> int | None:
        """None while running; negative: ended by that signal (a cancelled or preempted job)."""
        ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int:
        """The return code once it has ended; subprocess.TimeoutExpired after `timeout`."""
        ...

    def terminate(self) -> None:
        """Ask the training to stop at its next step boundary (SIGTERM)."""
        ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    name: str

    def start(self, run_id: str, lease: int) -> Job:
        """Start the run's training; `lease` is its attempt's lease generation (runs.py), which
        the training processes are given so that an orphaned attempt writes nothing."""
        ...


def torchrun_command(
    python: str,
    data_dir: Path,
    run_id: str,
    nproc_per_node: int,
    nnodes: str = "1",
    node_rank: str | None = None,
    rdzv_endpoint: str | None = None,
    rdzv_id: str | None = None,
    lease: int = 0,
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
    command += ["-m", "midspec_worker.train.child", str(data_dir), run_id, str(lease)]
    return command


def killed_by(signum: int) -> int:
    """The return code subprocess reports for a process ended by `signum`."""
    return -int(signal.Signals(signum))


PYTHON = sys.executable


class Followed:
    """Popen's surface over a job that `check()` polls on an engine (a Slurm job, a PyTorchJob)."""

    poll_seconds = 0.5

    def __init__(self) -> None:
        self.returncode: int | None = None

    @property
    def pid(self) -> int | None:
        return None

    def check(self) -> int | None:
        raise NotImplementedError

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.check()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired("job", timeout or 0)
            time.sleep(self.poll_seconds)
        return code
