"""Hub ids: from huggingface_hub's cache, downloaded when online, a clear way out offline."""

from __future__ import annotations

import os
import shutil

import grpc
import pytest
from helpers import CHAT, chat_records, jsonl, stage, upload
from huggingface_hub import constants

from midspec_worker import hub, models
from midspec_worker.errors import ModelNotFound
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache and a Hub that cannot be reached (nothing listens on port 9)."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return cache


def test_hub_references_parse_with_an_optional_revision():
    assert hub.parse("Qwen/Qwen3-8B") == ("Qwen/Qwen3-8B", None)
    assert hub.parse("meta-llama/Llama-3.1-8B@v1.0") == ("meta-llama/Llama-3.1-8B", "v1.0")
    assert hub.parse("gpt2") == ("gpt2", None)
    for bad in ("/abs/path", "../up", "a/b/c", "./x", "a/..", "tiny:llama", "Qwen/Qwen3@"):
        assert hub.parse(bad) is None, bad


def test_offline_a_missing_model_says_how_to_pre_download(hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound) as caught:
        models.check_base_model("Qwen/Qwen3-0.6B@main")
    message = caught.value.message
    assert "HF_HUB_OFFLINE is set" in message
    assert "hf download Qwen/Qwen3-0.6B --revision main" in message
    assert "huggingface-cli download" in message


def test_an_unreachable_hub_fails_with_the_hint_and_never_forces_offline(hub_cache):
    models.check_base_model("Qwen/Qwen3-0.6B")  # online: the download is the training child's
    with pytest.raises(ModelNotFound) as caught:
        hub.resolve("Qwen/Qwen3-0.6B")
    assert "the Hub cannot be reached" in caught.value.message
    assert "hf download Qwen/Qwen3-0.6B" in caught.value.message
    assert "HF_HUB_OFFLINE" not in os.environ


def test_a_pre_downloaded_model_resolves_offline(hub_cache, real_model_dirs, monkeypatch):
    repo = hub_cache / "models--acme--tiny-qwen3"
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(real_model_dirs["qwen3"], snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.resolve("acme/tiny-qwen3") == snapshot
    assert hub.resolve(f"acme/tiny-qwen3@{COMMIT}") == snapshot
    models.check_base_model("acme/tiny-qwen3")
    assert models.materialize("acme/tiny-qwen3", hub_cache, seed=0) == snapshot
    with pytest.raises(ModelNotFound, match="--revision v2"):
        hub.resolve("acme/tiny-qwen3@v2")


async def test_submitting_a_hub_id_offline_is_refused_with_the_hint(stub, hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    chat = (await upload(stub, jsonl(chat_records(4)), CHAT)).dataset.id
    spec = runs_pb2.RunSpec(
        base_model="Qwen/Qwen3-8B", stages=[stage(caps.STAGE_KIND_SFT, chat, 1)]
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "hf download Qwen/Qwen3-8B" in caught.value.details()
