"""The kubernetes launcher renders a Kubeflow PyTorchJob per run and applies it through the
official client's CustomObjectsApi (a recording stand-in here: no cluster on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.launch.kubernetes import (
    KubernetesConfig,
    KubernetesLauncher,
    job_outcome,
    render_manifest,
)
from midspec_worker.store import Store

CONFIG = KubernetesConfig(image="ghcr.io/acme/midspec-worker:0.1.0", data_claim="midspec-data")


def test_the_manifest_runs_torchrun_in_a_master_and_workers_sharing_the_data_volume():
    config = KubernetesConfig(**{**CONFIG.__dict__, "namespace": "ml", "gpus_per_pod": 8})
    manifest = render_manifest(config, Path("/data/midspec"), "run-1", 16)
    # What the official client would send: plain JSON-able data.
    assert client.ApiClient().sanitize_for_serialization(manifest) == manifest
    assert manifest["apiVersion"] == "kubeflow.org/v1" and manifest["kind"] == "PyTorchJob"
    assert manifest["metadata"]["namespace"] == "ml"
    replicas = manifest["spec"]["pytorchReplicaSpecs"]
    assert replicas["Master"]["replicas"] == 1 and replicas["Worker"]["replicas"] == 1
    pod = replicas["Worker"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "pytorch"
    assert container["command"][:4] == [
        "python",
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=8",
    ]
    assert container["command"][-4:] == [
        "midspec_worker.train.child",
        "/data/midspec",
        "run-1",
        "0",
    ]
    assert container["resources"] == {"limits": {"nvidia.com/gpu": 8}}
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data/midspec"}]
    assert pod["volumes"][0]["persistentVolumeClaim"] == {"claimName": "midspec-data"}
    one = render_manifest(CONFIG, Path("/d"), "run-2", 2)
    assert "Worker" not in one["spec"]["pytorchReplicaSpecs"]  # CPU ranks: one pod
    with pytest.raises(InvalidRequest, match="data-claim"):
        render_manifest(KubernetesConfig(image="x"), Path("/d"), "run-3", 1)


class RecordingApi:
    """Records the CustomObjectsApi calls the launcher makes and answers with a job status."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.conditions: list[dict] = []

    def create_namespaced_custom_object(self, *args):
        self.calls.append(("create", args))

    def delete_namespaced_custom_object(self, *args):
        self.calls.append(("delete", args))
        raise client.ApiException(status=404)

    def get_namespaced_custom_object(self, *args):
        self.calls.append(("get", args))
        return {"status": {"conditions": self.conditions}}


def test_a_run_is_applied_followed_and_reported(tmp_path):
    store = Store(tmp_path / "worker.sqlite")
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        world_size=2,
        stages=[runs_pb2.Stage(kind=caps.STAGE_KIND_MIDTRAIN)],
    )
    run = store.create_run(spec, "")
    api = RecordingApi()
    job = KubernetesLauncher(tmp_path, CONFIG, api=api).start(run.id, 7)
    kinds = [call[0] for call in api.calls]
    assert kinds == ["delete", "create"]  # a job left by an earlier attempt is replaced
    group, version, namespace, plural, body = api.calls[1][1]
    assert (group, version, namespace, plural) == ("kubeflow.org", "v1", "default", "pytorchjobs")
    assert body["metadata"]["labels"]["midspec/run"] == run.id
    command = body["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]
    assert command["command"][-2:] == [run.id, "7"]  # the attempt's lease fences the ranks
    assert job.poll() is None
    api.conditions = [
        {"type": "Running", "status": "False"},
        {"type": "Succeeded", "status": "True"},
    ]
    assert job.poll() == 0 and job.wait(1) == 0
    messages = [e.log.message for e in store.events_after(run.id, 0) if e.HasField("log")]
    assert messages[0] == f"kubernetes PyTorchJob default/{body['metadata']['name']} applied"
    assert messages[-1].endswith("succeeded")
    assert job_outcome({"status": {"conditions": [{"type": "Failed", "status": "True"}]}}) == 1
    store.close()
