"""The worker's launcher flags (`serve --launcher local|slurm|kubernetes` and their settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

from midspec_worker.launch.base import PYTHON, Launcher

LAUNCHERS = ("local", "slurm", "kubernetes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--launcher",
        choices=LAUNCHERS,
        default="local",
        help="where runs train: child processes of the worker (local), a Slurm batch job per run"
        " (slurm), or a Kubeflow PyTorchJob per run (kubernetes). The data directory must be on"
        " storage the nodes share for slurm and kubernetes.",
    )
    local = parser.add_argument_group("local launcher over several machines")
    local.add_argument(
        "--nnodes",
        type=int,
        default=1,
        help="machines a multi-process run spans; this worker runs node 0, the others join with"
        " `python -m midspec_worker.launch.local` (torchrun c10d rendezvous)",
    )
    local.add_argument(
        "--rdzv-endpoint", default="", help="HOST:PORT of this machine for the rendezvous"
    )
    slurm = parser.add_argument_group("slurm launcher")
    slurm.add_argument("--slurm-partition", default="", help="sbatch --partition")
    slurm.add_argument("--slurm-account", default="", help="sbatch --account")
    slurm.add_argument(
        "--slurm-time-minutes", type=int, default=0, help="sbatch --time in whole minutes"
    )
    slurm.add_argument("--slurm-gpus-per-node", type=int, default=0, help="ranks (GPUs) per node")
    slurm.add_argument(
        "--slurm-procs-per-node",
        type=int,
        default=0,
        help="CPU ranks per node when there are no GPUs (default: all on one node)",
    )
    slurm.add_argument("--slurm-cpus-per-task", type=int, default=0, help="sbatch --cpus-per-task")
    slurm.add_argument(
        "--slurm-container-image", default="", help="srun --container-image (pyxis/enroot)"
    )
    slurm.add_argument("--slurm-container-mounts", default="", help="srun --container-mounts")
    slurm.add_argument(
        "--slurm-module", action="append", default=[], help="`module load` this (repeatable)"
    )
    slurm.add_argument(
        "--slurm-python",
        default=PYTHON,
        help="Python with midspec-worker installed, on the nodes (default: this worker's)",
    )
    slurm.add_argument(
        "--slurm-sbatch-option",
        action="append",
        default=[],
        help="another #SBATCH line, verbatim, e.g. --qos=high (repeatable)",
    )
    kube = parser.add_argument_group("kubernetes launcher")
    kube.add_argument("--kube-image", default="", help="container image with midspec-worker")
    kube.add_argument("--kube-namespace", default="default")
    kube.add_argument(
        "--kube-data-claim",
        default="",
        help="ReadWriteMany PersistentVolumeClaim holding the data directory (same path in pods)",
    )
    kube.add_argument("--kube-gpus-per-pod", type=int, default=0)
    kube.add_argument("--kube-procs-per-pod", type=int, default=0)
    kube.add_argument("--kube-service-account", default="")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in (
        "slurm_time_minutes",
        "slurm_gpus_per_node",
        "slurm_procs_per_node",
        "slurm_cpus_per_task",
        "kube_gpus_per_pod",
        "kube_procs_per_pod",
    ):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    if args.nnodes < 1:
        parser.error("--nnodes must be 1 or more")
    if args.nnodes > 1 and (args.launcher != "local" or not args.rdzv_endpoint):
        parser.error("--nnodes above 1 needs --launcher local and --rdzv-endpoint HOST:PORT")
    if args.launcher == "kubernetes" and not (args.kube_image and args.kube_data_claim):
        parser.error("--launcher kubernetes needs --kube-image and --kube-data-claim")


def launcher(args: argparse.Namespace, data_dir: Path) -> Launcher:
    if args.launcher == "slurm":
        from midspec_worker.launch.slurm import SlurmConfig, SlurmLauncher

        config = SlurmConfig(
            partition=args.slurm_partition,
            account=args.slurm_account,
            time_minutes=args.slurm_time_minutes,
            gpus_per_node=args.slurm_gpus_per_node,
            procs_per_node=args.slurm_procs_per_node,
            cpus_per_task=args.slurm_cpus_per_task,
            container_image=args.slurm_container_image,
            container_mounts=args.slurm_container_mounts,
            modules=args.slurm_module,
            python=args.slurm_python,
            extra_sbatch=args.slurm_sbatch_option,
        )
        return SlurmLauncher(data_dir, config)
    if args.launcher == "kubernetes":
        from midspec_worker.launch.kubernetes import KubernetesConfig, KubernetesLauncher

        kube = KubernetesConfig(
            image=args.kube_image,
            namespace=args.kube_namespace,
            data_claim=args.kube_data_claim,
            gpus_per_pod=args.kube_gpus_per_pod,
            procs_per_pod=args.kube_procs_per_pod,
            service_account=args.kube_service_account,
        )
        return KubernetesLauncher(data_dir, kube)
    from midspec_worker.launch.local import LocalLauncher, configure_nodes

    configure_nodes(args.nnodes, args.rdzv_endpoint)
    return LocalLauncher(data_dir)
