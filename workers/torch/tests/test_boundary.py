"""The gRPC boundary: numeric and enum fields range-checked with INVALID_ARGUMENT, base models
only from the operator's model roots, and no unauthenticated non-loopback bind."""

from __future__ import annotations

import json
import math

import grpc
import pytest
from helpers import trailers

from midspec_worker import __main__ as cli
from midspec_worker import exposure, model_policy, models
from midspec_worker.errors import InvalidRequest, ModelNotFound
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2, runs_pb2
from midspec_worker.validation import check_request


async def _invalid(call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert trailers(caught.value)["midspec-retryable"] == "false"
    return caught.value.details()


async def test_out_of_range_fields_are_invalid_argument(stub):
    watch = stub.WatchRun(runs_pb2.WatchRunRequest(run_id="r", after_seq=2**64 - 1))
    assert "after_seq must be at most" in await _invalid(watch.read())
    assert "99 is not a RunState" in await _invalid(
        stub.ListRuns(runs_pb2.ListRunsRequest(states=[99]))
    )
    tiny = common_pb2.ModelRef(base_model="tiny:llama")
    prompt = [common_pb2.Prompt(text="hi")]
    for value in (math.nan, math.inf, -math.inf):
        params = inference_pb2.SamplingParams(temperature=value, max_tokens=2)
        request = inference_pb2.SampleRequest(model=tiny, prompts=prompt, params=params)
        assert "params.temperature must be a finite number" in await _invalid(stub.Sample(request))
    params = inference_pb2.SamplingParams(max_tokens=-1, n=-2)
    details = await _invalid(
        stub.Sample(inference_pb2.SampleRequest(model=tiny, prompts=prompt, params=params))
    )
    assert "params.n must not be negative" in details and "params.max_tokens" in details


def test_every_nested_and_repeated_field_is_walked():
    spec = runs_pb2.RunSpec(seed=2**63, labels={"a": "b"})
    spec.stages.add().budget.max_steps = -5
    spec.stages[0].data.add(dataset_id="x", weight=math.nan)
    spec.stages[0].kind = 42
    with pytest.raises(InvalidRequest) as caught:
        check_request(runs_pb2.SubmitRunRequest(spec=spec))
    message = caught.value.message
    for expected in (
        "spec.seed must be at most",
        "spec.stages[0].budget.max_steps must not be negative",
        "spec.stages[0].data[0].weight must be a finite number",
        "spec.stages[0].kind: 42 is not a StageKind",
    ):
        assert expected in message
    check_request(runs_pb2.SubmitRunRequest(spec=runs_pb2.RunSpec(seed=2**63 - 1)))


def test_local_base_models_only_from_model_roots(tmp_path, monkeypatch):
    monkeypatch.setenv(model_policy.ROOTS_ENV, "")
    root = tmp_path / "models"
    good = root / "org" / "model"
    good.mkdir(parents=True)
    (good / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (good / "model.safetensors").write_bytes(b"")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "config.json").write_text("{}")
    # No root: refused, with the same words whether the folder exists, holds a model or not.
    words = set()
    for reference in (str(good), str(tmp_path / "secret"), str(tmp_path / "nothing"), "/etc"):
        with pytest.raises(ModelNotFound) as caught:
            models.check_base_model(reference)
        words.add(caught.value.message.replace(repr(reference), "X"))
    assert len(words) == 1 and "--model-root" in words.pop()
    model_policy.add_root(root)
    models.check_base_model(str(good))
    relative = good.relative_to(root)
    assert models.materialize(str(relative), tmp_path, 0) == good.resolve()
    for outside in (str(tmp_path / "secret"), f"{root}/../secret", "../secret", "/etc"):
        with pytest.raises(ModelNotFound):
            models.check_base_model(outside)
    # A hub id is left to hub resolution: offline and not in the cache, it is not found, with the
    # way to pre-download it (not as a path).
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelNotFound, match="hf download"):
        models.check_base_model("Qwen/Qwen3-0.6B")


@pytest.mark.parametrize(
    ("config", "weights", "expected"),
    [
        ("{not json", True, "config.json is not readable JSON"),
        (json.dumps({"hidden_size": 3}), True, 'config.json has no "model_type"'),
        (json.dumps({"model_type": "llama"}), False, "no weights"),
    ],
)
def test_a_broken_folder_under_a_root_is_a_bad_request(
    tmp_path, monkeypatch, config, weights, expected
):
    monkeypatch.setenv(model_policy.ROOTS_ENV, str(tmp_path))
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text(config)
    if weights:
        (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(InvalidRequest, match=expected):
        models.check_base_model(str(folder))


async def test_a_broken_base_model_is_invalid_argument_over_grpc(stub, tmp_path, monkeypatch):
    folder = tmp_path / "data" / "runs" / "broken"  # the worker's own runs/ is a model root
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("[]")
    request = inference_pb2.TokenizeRequest(
        model=common_pb2.ModelRef(base_model=str(folder)), texts=["hi"]
    )
    assert "model_type" in await _invalid(stub.Tokenize(request))


def test_a_non_loopback_bind_needs_a_token_or_insecure(capsys):
    assert exposure.refusal("127.0.0.1", None, False) is None
    assert exposure.refusal("::1", None, False) is None
    assert exposure.refusal("localhost", None, False) is None
    assert exposure.refusal("0.0.0.0", "secret", False) is None
    assert exposure.refusal("0.0.0.0", None, True) is None
    for host in ("0.0.0.0", "::", "10.1.2.3"):
        assert "without a token" in (exposure.refusal(host, None, False) or "")
    with pytest.raises(SystemExit) as caught:
        cli.parse(["serve", "--host", "0.0.0.0", "--token", ""])
    assert caught.value.code == 2
    assert "--insecure" in capsys.readouterr().err
    assert cli.parse(["serve", "--host", "0.0.0.0", "--insecure"]).insecure
