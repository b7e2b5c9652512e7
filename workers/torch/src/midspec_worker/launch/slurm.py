"""The Slurm launcher: a run becomes a batch job that runs `srun torchrun ...` on its nodes.

The worker writes the job's sbatch script into the run's folder (runs/RUN/slurm/job.sbatch),
submits it with `sbatch --parsable`, follows it with `squeue` (and `scontrol show job` once it has
left the queue), and cancels it with `scancel`. The data directory must be on storage every node
shares (the ranks read the datasets and base model from it, write checkpoints and events to it).
A job that ends early (scancel, preemption, a node failure, its time limit) leaves the run RUNNING;
the run queue then resumes it as a new job from its last checkpoint, like a local child that died.
A job that Slurm requeues itself (`--requeue`, preemption with REQUEUE) keeps its id and resumes
from the last checkpoint when it starts again.
"""

from __future__ import annotations

import math
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.launch.base import PYTHON, Followed, killed_by
from midspec_worker.store import FINAL_STATES, Store

_POLL_SECONDS = 0.5
# The c10d rendezvous port on the first node, from the job id: jobs sharing a node do not clash.
_RDZV_PORT = "$((20000 + SLURM_JOB_ID % 20000))"
# Job states after which the job is over (squeue no longer lists it soon after).
_ENDED = {
    "COMPLETED": 0,
    "FAILED": None,  # the script's own exit code
    "OUT_OF_MEMORY": None,
    "CANCELLED": killed_by(signal.SIGTERM),
    "PREEMPTED": killed_by(signal.SIGTERM),
    "TIMEOUT": killed_by(signal.SIGTERM),
    "NODE_FAIL": killed_by(signal.SIGKILL),
    "BOOT_FAIL": killed_by(signal.SIGKILL),
    "DEADLINE": killed_by(signal.SIGTERM),
}


@dataclass
class SlurmConfig:
    """Where and how runs are submitted; every field is a worker flag (--slurm-*)."""

    partition: str = ""
    account: str = ""
    time_minutes: int = 0  # 0: the partition's default limit (Slurm counts whole minutes)
    gpus_per_node: int = 0  # 0: CPU ranks (gloo), all on one node unless procs_per_node is set
    procs_per_node: int = 0  # CPU runs: ranks per node (0: every rank on one node)
    cpus_per_task: int = 0
    container_image: str = ""  # pyxis/enroot: srun --container-image
    container_mounts: str = ""  # pyxis: srun --container-mounts (the data directory, at least)
    modules: list[str] = field(default_factory=list)  # `module load` before srun
    python: str = PYTHON  # the interpreter with midspec_worker installed, on the nodes
    extra_sbatch: list[str] = field(default_factory=list)  # more #SBATCH options, verbatim
    environment: dict[str, str] = field(default_factory=dict)  # exported in the job

    def layout(self, world_size: int) -> tuple[int, int]:
        """(nodes, processes per node) for `world_size` ranks."""
        per_node = self.gpus_per_node or self.procs_per_node or world_size
        if world_size % per_node and world_size > per_node:
            raise InvalidRequest(
                f"world_size {world_size} does not fill whole nodes of {per_node} processes"
                " (--slurm-gpus-per-node / --slurm-procs-per-node)"
            )
        per_node = min(per_node, world_size)
        return math.ceil(world_size / per_node), per_node


def render_script(
    config: SlurmConfig, data_dir: Path, run_id: str, world_size: int, lease: int = 0
) -> str:
    """The sbatch script of one run: `srun` starts one torchrun per node, which start the ranks."""
    nodes, per_node = config.layout(world_size)
    log_dir = data_dir / "runs" / run_id / "slurm"
    lines = ["#!/bin/bash", f"#SBATCH --job-name=midspec-{run_id}"]
    lines += [f"#SBATCH --nodes={nodes}", "#SBATCH --ntasks-per-node=1"]
    lines += [f"#SBATCH --output={log_dir}/slurm-%j.out"]
    if config.partition:
        lines.append(f"#SBATCH --partition={config.partition}")
    if config.account:
        lines.append(f"#SBATCH --account={config.account}")
    if config.time_minutes:
        lines.append(f"#SBATCH --time={config.time_minutes}")
    if config.gpus_per_node:
        lines.append(f"#SBATCH --gpus-per-node={config.gpus_per_node}")
    if config.cpus_per_task:
        lines.append(f"#SBATCH --cpus-per-task={config.cpus_per_task}")
    # SIGTERM to every process on scancel/preemption: the ranks stop at a step boundary.
    lines += [f"#SBATCH {option}" for option in config.extra_sbatch]
    lines += ["", "set -euo pipefail"]
    for module in config.modules:
        lines.append(f"module load {shlex.quote(module)}")
    for name, value in sorted(config.environment.items()):
        lines.append(f"export {name}={shlex.quote(value)}")
    lines += [
        "export HF_HUB_OFFLINE=1",
        # The first node of the allocation hosts the c10d rendezvous.
        'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "",
    ]
    srun = ["srun", "--kill-on-bad-exit=1"]
    if config.container_image:
        srun.append(f"--container-image={config.container_image}")
    if config.container_mounts:
        srun.append(f"--container-mounts={config.container_mounts}")
    torchrun = [config.python, "-m", "torch.distributed.run"]
    torchrun += [
        f"--nnodes={nodes}",
        f"--nproc-per-node={per_node}",
        "--rdzv-backend=c10d",
        f'--rdzv-endpoint="$head:{_RDZV_PORT}"',
        '--rdzv-id="$SLURM_JOB_ID"',
        "-m",
        "midspec_worker.train.child",
        shlex.quote(str(data_dir)),
        shlex.quote(run_id),
        str(lease),
    ]
    # exec: srun receives the batch step's signals directly and forwards them to every task.
    lines.append("exec " + " ".join(srun + torchrun))
    return "\n".join(lines) + "\n"


class SlurmLauncher:
    name = "slurm"

    def __init__(self, data_dir: Path, config: SlurmConfig) -> None:
        missing = [tool for tool in ("sbatch", "squeue", "scontrol", "scancel") if not which(tool)]
        if missing:
            raise InvalidRequest(
                "--launcher slurm needs the Slurm client tools on PATH; missing: "
                + ", ".join(missing)
            )
        self._data_dir = data_dir
        self._config = config

    def start(self, run_id: str, lease: int) -> SlurmJob:
        store = Store(self._data_dir / "worker.sqlite")
        try:
            run = store.get_run(run_id)
            world_size = max(1, run.spec.world_size) if run is not None else 1
            script = render_script(self._config, self._data_dir, run_id, world_size, lease)
            folder = self._data_dir / "runs" / run_id / "slurm"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "job.sbatch"
            path.write_text(script)
            result = _slurm(["sbatch", "--parsable", str(path)])
            # --parsable prints "jobid" or "jobid;cluster".
            job_id = result.split(";")[0].strip()
            _note(store, run_id, f"slurm job {job_id} submitted ({path})")
        finally:
            store.close()
        return SlurmJob(job_id, self._data_dir, run_id)


class SlurmJob(Followed):
    """Follows one batch job; it has ended once it has left the queue."""

    poll_seconds = _POLL_SECONDS

    def __init__(self, job_id: str, data_dir: Path, run_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self._data_dir = data_dir
        self._run_id = run_id
        self._reported_nodes = ""
        self.state = "PENDING"

    def terminate(self) -> None:
        # SIGTERM to every process of the job: the ranks stop at a step boundary.
        _slurm(["scancel", "--full", "--signal=TERM", self.job_id], check=False)

    def kill(self) -> None:
        _slurm(["scancel", self.job_id], check=False)

    def check(self) -> int | None:
        listed = _slurm(["squeue", "-h", "-j", self.job_id, "-o", "%T|%N"], check=False).strip()
        if listed:
            state, _, nodes = listed.partition("|")
            self.state = state
            if state == "RUNNING" and nodes and nodes != self._reported_nodes:
                self._reported_nodes = nodes
                self._event(f"slurm job {self.job_id} running on {nodes}")
            return None
        return self._finish(show_job(self.job_id))

    def _finish(self, fields: dict[str, str]) -> int | None:
        state = fields.get("JobState", "COMPLETED")
        if state in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "REQUEUED", "SUSPENDED"):
            return None  # between squeue and scontrol it moved on; poll again
        self.state = state
        code = _ENDED.get(state)
        if code is None:
            status, _, signum = fields.get("ExitCode", "1:0").partition(":")
            code = killed_by(int(signum)) if signum not in ("", "0") else int(status or 1)
        message = f"slurm job {self.job_id} ended: {state} (exit code {fields.get('ExitCode')})"
        # A run the job already finished (or cancelled) gets no events after its final state.
        self._event(message, unless_final=True)
        return code

    def _event(self, message: str, unless_final: bool = False) -> None:
        store = Store(self._data_dir / "worker.sqlite")
        try:
            run = store.get_run(self._run_id)
            if not (unless_final and run is not None and run.state in FINAL_STATES):
                _note(store, self._run_id, message)
        finally:
            store.close()


def show_job(job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict; empty once the job is forgotten (MinJobAge after its end)."""
    text = _slurm(["scontrol", "show", "job", "-o", job_id], check=False)
    return dict(re.findall(r"(\w+)=(\S*)", text))


def which(tool: str) -> str | None:
    return shutil.which(tool)


def _note(store: Store, run_id: str, message: str) -> None:
    event = runs_pb2.RunEvent(log=runs_pb2.LogLine(level="info", message=message))
    store.append_event(run_id, event)


def _slurm(command: list[str], check: bool = True) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout
