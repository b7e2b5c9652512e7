"""The Kubernetes launcher: a run becomes a Kubeflow PyTorchJob (training-operator v1).

The worker renders the manifest (one Master and world_size/procs_per_pod - 1 Workers, each pod
running torchrun through the operator's PET_* environment), applies it with the official
`kubernetes` Python client (`pip install 'midspec-worker[kubernetes]'`), follows its status
conditions, and deletes it to cancel. The data directory must be a volume every pod mounts at the
same path (a ReadWriteMany PersistentVolumeClaim), as the worker reads events and checkpoints there.
"""

from __future__ import annotations

import math
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.launch.base import Followed, killed_by
from midspec_worker.store import Store

GROUP, VERSION, PLURAL = "kubeflow.org", "v1", "pytorchjobs"
_POLL_SECONDS = 2.0


@dataclass
class KubernetesConfig:
    """Where and how runs are applied; every field is a worker flag (--kube-*)."""

    image: str = ""  # an image with midspec-worker installed
    namespace: str = "default"
    data_claim: str = ""  # the ReadWriteMany PersistentVolumeClaim holding the data directory
    gpus_per_pod: int = 0  # 0: CPU ranks (gloo)
    procs_per_pod: int = 0  # CPU runs: ranks per pod (0: every rank in one pod)
    service_account: str = ""
    python: str = "python"


def job_name(run_id: str) -> str:
    # DNS-1123: lower case alphanumerics and '-', at most 63 characters.
    return f"midspec-{run_id}".lower().replace("_", "-")[:63]


def render_manifest(
    config: KubernetesConfig, data_dir: Path, run_id: str, world_size: int, lease: int = 0
) -> dict[str, Any]:
    """The PyTorchJob of one run, as the dict `create_namespaced_custom_object` takes."""
    if not config.image:
        raise InvalidRequest("--launcher kubernetes needs --kube-image (an image with the worker)")
    if not config.data_claim:
        raise InvalidRequest(
            "--launcher kubernetes needs --kube-data-claim: a ReadWriteMany PersistentVolumeClaim"
            " with the data directory, mounted in every pod"
        )
    per_pod = min(config.gpus_per_pod or config.procs_per_pod or world_size, world_size)
    if world_size % per_pod:
        raise InvalidRequest(f"world_size {world_size} does not fill pods of {per_pod} processes")
    pods = math.ceil(world_size / per_pod)
    resources: dict[str, Any] = {}
    if config.gpus_per_pod:
        resources = {"limits": {"nvidia.com/gpu": config.gpus_per_pod}}
    # The operator sets PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR/PORT for torchrun.
    command = [config.python, "-m", "torch.distributed.run", f"--nproc-per-node={per_pod}"]
    command += ["-m", "midspec_worker.train.child", str(data_dir), run_id, str(lease)]

    def replica(count: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "containers": [
                {
                    "name": "pytorch",  # the operator looks for this container name
                    "image": config.image,
                    "command": command,
                    "env": [{"name": "HF_HUB_OFFLINE", "value": "1"}],
                    "resources": resources,
                    "volumeMounts": [{"name": "data", "mountPath": str(data_dir)}],
                }
            ],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": config.data_claim}}
            ],
        }
        if config.service_account:
            spec["serviceAccountName"] = config.service_account
        # The worker resumes a failed job as a new one; the operator does not restart pods.
        return {"replicas": count, "restartPolicy": "Never", "template": {"spec": spec}}

    replicas = {"Master": replica(1)}
    if pods > 1:
        replicas["Worker"] = replica(pods - 1)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PyTorchJob",
        "metadata": {
            "name": job_name(run_id),
            "namespace": config.namespace,
            "labels": {"app.kubernetes.io/managed-by": "midspec-worker", "midspec/run": run_id},
        },
        "spec": {
            "runPolicy": {"cleanPodPolicy": "Running"},
            "nprocPerNode": str(per_pod),
            "pytorchReplicaSpecs": replicas,
        },
    }


class KubernetesLauncher:
    name = "kubernetes"

    def __init__(self, data_dir: Path, config: KubernetesConfig, api: Any = None) -> None:
        self._data_dir = data_dir
        self._config = config
        self._api = api  # a kubernetes.client.CustomObjectsApi; made on first use

    def api(self) -> Any:
        if self._api is None:
            try:
                from kubernetes import client, config
            except ImportError:
                raise InvalidRequest(
                    "--launcher kubernetes needs the kubernetes client:"
                    " pip install 'midspec-worker[kubernetes]'"
                ) from None
            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            self._api = client.CustomObjectsApi()
        return self._api

    def start(self, run_id: str, lease: int) -> KubernetesJob:
        store = Store(self._data_dir / "worker.sqlite")
        try:
            run = store.get_run(run_id)
            world_size = max(1, run.spec.world_size) if run is not None else 1
            body = render_manifest(self._config, self._data_dir, run_id, world_size, lease)
            api = self.api()
            name = body["metadata"]["name"]
            # A job left from an earlier attempt of this run is replaced.
            _delete(api, self._config.namespace, name)
            api.create_namespaced_custom_object(
                GROUP, VERSION, self._config.namespace, PLURAL, body
            )
            _note(store, run_id, f"kubernetes PyTorchJob {self._config.namespace}/{name} applied")
        finally:
            store.close()
        return KubernetesJob(api, self._config.namespace, name, self._data_dir, run_id)


class KubernetesJob(Followed):
    """Follows one PyTorchJob through its status conditions."""

    poll_seconds = _POLL_SECONDS

    def __init__(self, api: Any, namespace: str, name: str, data_dir: Path, run_id: str) -> None:
        super().__init__()
        self.api = api
        self.namespace = namespace
        self.name = name
        self._data_dir = data_dir
        self._run_id = run_id

    def terminate(self) -> None:
        # Deleting the job deletes its pods: SIGTERM, then SIGKILL after the grace period.
        _delete(self.api, self.namespace, self.name)

    def kill(self) -> None:
        _delete(self.api, self.namespace, self.name)

    def check(self) -> int | None:
        try:
            job = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, self.name
            )
        except Exception as error:  # the job was deleted (cancel, or by hand)
            if getattr(error, "status", None) == 404:
                return killed_by(signal.SIGTERM)
            raise
        code = job_outcome(job)
        if code is not None:
            store = Store(self._data_dir / "worker.sqlite")
            try:
                outcome = "succeeded" if code == 0 else "failed"
                _note(store, self._run_id, f"kubernetes PyTorchJob {self.name} {outcome}")
            finally:
                store.close()
        return code


def job_outcome(job: dict[str, Any]) -> int | None:
    """0 when the PyTorchJob succeeded, 1 when it failed, None while it runs."""
    for condition in job.get("status", {}).get("conditions", []):
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Succeeded":
            return 0
        if condition.get("type") == "Failed":
            return 1
    return None


def _delete(api: Any, namespace: str, name: str) -> None:
    try:
        api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except Exception as error:
        if getattr(error, "status", None) != 404:
            raise


def _note(store: Store, run_id: str, message: str) -> None:
    event = runs_pb2.RunEvent(log=runs_pb2.LogLine(level="info", message=message))
    store.append_event(run_id, event)
