"""A single-node Slurm cluster for tests, from Debian's packages (slurmctld, slurmd, slurm-client,
munge), started in a temporary folder as root without systemd and torn down after the test.

What works on this machine kind (measured, see issue 15): munged runs as the munge user with
/run/munge owned by it; the node line comes from `slurmd -C` with NodeAddr=127.0.0.1;
proctrack/linuxproc with task/none; select/cons_tres with CR_CPU; no accounting, so `scontrol show
job` knows a job for MinJobAge seconds after it ends; batch_sched_delay=0 so jobs start at once.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

TOOLS = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "munged")


def missing_reason() -> str | None:
    """Why a Slurm cluster cannot be started here, or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None and not _sbin(tool)]
    if missing:
        return (
            f"Slurm is not installed ({', '.join(missing)} missing): scripts/setup.sh installs"
            " slurmctld slurmd slurm-client munge from Debian when run as root"
        )
    if os.geteuid() != 0:
        return "a test Slurm cluster needs root (slurmd runs jobs as their user)"
    return None


def _sbin(tool: str) -> str | None:
    for folder in ("/usr/sbin", "/sbin"):
        if os.access(f"{folder}/{tool}", os.X_OK):
            return f"{folder}/{tool}"
    return None


def _tool(tool: str) -> str:
    found = shutil.which(tool) or _sbin(tool)
    assert found is not None, tool
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_munge() -> None:
    """Start munged as the munge user unless one already answers."""
    if subprocess.run("munge -n | unmunge", shell=True, capture_output=True).returncode == 0:
        return
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    subprocess.run(["runuser", "-u", "munge", "--", _tool("munged")], check=True)
    for _ in range(50):
        if subprocess.run("munge -n | unmunge", shell=True, capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


class SlurmCluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self) -> None:
        ensure_munge()
        node = subprocess.run([_tool("slurmd"), "-C"], capture_output=True, text=True, check=True)
        node_line = node.stdout.splitlines()[0]  # NodeName=... CPUs=... RealMemory=...
        node_name = node_line.split()[0].split("=", 1)[1]
        for name in ("state", "spool", "log"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=midspec-test",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={_free_port()}",
                    f"SlurmdPort={_free_port()}",
                    "SlurmUser=root",
                    "AuthType=auth/munge",
                    f"StateSaveLocation={self.folder}/state",
                    f"SlurmdSpoolDir={self.folder}/spool",
                    f"SlurmctldPidFile={self.folder}/slurmctld.pid",
                    f"SlurmdPidFile={self.folder}/slurmd.pid",
                    f"SlurmctldLogFile={self.folder}/log/slurmctld.log",
                    f"SlurmdLogFile={self.folder}/log/slurmd.log",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_CPU",
                    "SchedulerType=sched/builtin",
                    "SchedulerParameters=batch_sched_delay=0",
                    "AccountingStorageType=accounting_storage/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "JobCompType=jobcomp/none",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "MinJobAge=600",
                    "KillWait=10",
                    "InactiveLimit=0",
                    f"{node_line.split(' UpTime')[0]} NodeAddr=127.0.0.1 State=UNKNOWN",
                    f"PartitionName=test Nodes={node_name} Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )
        for daemon in ("slurmctld", "slurmd"):
            log = open(self.folder / "log" / f"{daemon}.out", "wb")  # noqa: SIM115 - lives with it
            self.processes.append(
                subprocess.Popen(
                    [_tool(daemon), "-D", "-f", str(self.conf)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env
            )
            if state.returncode == 0 and state.stdout.strip() in ("idle", "mixed"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"Slurm did not come up: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted((self.folder / "log").glob("*"))
        )

    def stop(self) -> None:
        subprocess.run(["scancel", "--full", "-u", "root"], env=self.env, capture_output=True)
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
