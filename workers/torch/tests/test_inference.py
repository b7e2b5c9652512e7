"""Sample, SampleStream, ScoreLogprobs and Tokenize against a real worker and tiny models."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import torch
from helpers import TEXT, jsonl, stage, text_records, trailers, upload, watch

from midspec_worker import model_policy, models
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2, runs_pb2

LLAMA = common_pb2.ModelRef(base_model="tiny:llama")
QWEN = common_pb2.ModelRef(base_model="tiny:qwen3")
STOP = inference_pb2.FINISH_REASON_STOP
LENGTH = inference_pb2.FINISH_REASON_LENGTH


def text(value: str) -> common_pb2.Prompt:
    return common_pb2.Prompt(text=value)


def chat(*turns: tuple[str, str]) -> common_pb2.Prompt:
    messages = [common_pb2.ChatMessage(role=r, content=c) for r, c in turns]
    return common_pb2.Prompt(chat=common_pb2.Chat(messages=messages))


def request(ref, prompts, **params) -> inference_pb2.SampleRequest:
    return inference_pb2.SampleRequest(
        model=ref, prompts=prompts, params=inference_pb2.SamplingParams(**params)
    )


def texts(response) -> list[list[str]]:
    return [[c.text for c in r.completions] for r in response.results]


def local_model(worker, name: str = "tiny:llama"):
    path = models.materialize(name, worker.inference.cache._data_dir / "models", 0)
    model, tokenizer = models.load(path, torch.float32)
    return model.eval(), tokenizer


async def test_sample_text_and_chat_with_n_counts_and_logprobs(stub):
    response = await stub.Sample(
        request(
            LLAMA,
            [text("The assistant is"), chat(("system", "Be honest."), ("user", "Hi"))],
            n=3,
            temperature=1.0,
            max_tokens=12,
            seed=7,
            logprobs=True,
        )
    )
    assert [len(r.completions) for r in response.results] == [3, 3]
    for result in response.results:
        for completion in result.completions:
            assert completion.prompt_tokens > 0
            assert 1 <= completion.completion_tokens <= 12
            assert completion.finish_reason in (STOP, LENGTH)
            if completion.finish_reason == LENGTH:
                assert completion.completion_tokens == 12
                assert len(completion.logprobs) == 12
            assert all(lp.logprob <= 0 for lp in completion.logprobs)
    # The chat prompt went through the template: it is longer than its contents' tokens.
    assert response.results[1].completions[0].prompt_tokens > 8


async def test_seeded_sampling_is_reproducible_and_independent_of_the_batch(stub):
    seeded = request(LLAMA, [text("Rule one:")], n=2, temperature=1.0, max_tokens=16, seed=42)
    alone = await stub.Sample(seeded)
    others = [
        stub.Sample(request(LLAMA, [text(f"Other prompt {i} is longer")], temperature=1.0))
        for i in range(6)
    ]
    crowded, *_ = await asyncio.gather(stub.Sample(seeded), *others)
    assert texts(alone) == texts(crowded)
    first, second = texts(alone)[0]
    different = await stub.Sample(
        request(LLAMA, [text("Rule one:")], temperature=1.0, max_tokens=16, seed=43)
    )
    assert texts(different)[0][0] != first or first != second


async def test_greedy_max_tokens_and_stop_strings(stub):
    greedy = await stub.Sample(request(LLAMA, [text("Honesty")], temperature=0, max_tokens=24))
    full = greedy.results[0].completions[0]
    assert full.finish_reason == LENGTH and full.completion_tokens == 24
    # top_k 1, or a tiny top_p, leaves only the argmax: sampling then equals greedy decoding.
    for narrow in ({"top_k": 1}, {"top_p": 1e-6}):
        sampled = await stub.Sample(
            request(LLAMA, [text("Honesty")], temperature=1.5, max_tokens=24, seed=5, **narrow)
        )
        assert sampled.results[0].completions[0].text == full.text
    stop = full.text[len(full.text) // 2 : len(full.text) // 2 + 2]
    stopped = await stub.Sample(
        request(LLAMA, [text("Honesty")], temperature=0, max_tokens=24, stop=[stop])
    )
    completion = stopped.results[0].completions[0]
    assert completion.finish_reason == STOP
    assert completion.text == full.text[: full.text.find(stop)]


async def test_stream_deltas_add_up_to_the_completions(stub):
    deltas: dict[tuple[int, int], str] = {}
    finals = {}
    call = stub.SampleStream(
        request(LLAMA, [text("A"), text("B b")], n=2, temperature=0.8, max_tokens=20, seed=1)
    )
    async for message in call:
        key = (message.prompt_index, message.completion_index)
        deltas[key] = deltas.get(key, "") + message.delta
        if message.HasField("completion"):
            finals[key] = message.completion
            assert message.finish_reason == message.completion.finish_reason
    assert set(finals) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert all(deltas[key] == finals[key].text for key in finals)


async def test_score_equals_a_direct_forward_pass(stub, worker):
    items = [
        ("The assistant is", " honest and kind"),
        ("Rule", " 7: explain the value"),
        ("", "Hello"),
    ]
    response = await stub.ScoreLogprobs(
        inference_pb2.ScoreLogprobsRequest(
            model=LLAMA,
            items=[inference_pb2.ScoreItem(prompt=text(p), continuation=c) for p, c in items],
            per_token=True,
        )
    )
    model, tokenizer = local_model(worker)
    for (prompt, continuation), result in zip(items, response.results, strict=True):
        context = tokenizer(prompt).input_ids or [tokenizer.eos_token_id]
        target = tokenizer(continuation, add_special_tokens=False).input_ids
        ids = torch.tensor([context + target])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0].float(), -1)
        positions = range(len(context) - 1, len(context) + len(target) - 1)
        expected = [float(logprobs[p, t]) for p, t in zip(positions, target, strict=True)]
        assert result.continuation_tokens == len(target)
        assert result.prompt_tokens == len(tokenizer(prompt).input_ids)
        assert [t.token_id for t in result.tokens] == target
        assert [t.logprob for t in result.tokens] == pytest.approx(expected, abs=1e-4)
        assert result.logprob == pytest.approx(sum(expected), abs=1e-4)
        greedy = all(int(logprobs[p].argmax()) == t for p, t in zip(positions, target, strict=True))
        assert result.is_greedy == greedy


async def test_greedy_continuation_is_flagged_greedy(stub, worker):
    model, tokenizer = local_model(worker)
    prompt = "The assistant is honest"
    ids = tokenizer(prompt).input_ids
    with torch.no_grad():
        best = int(model(torch.tensor([ids])).logits[0, -1].argmax())
    continuation = tokenizer.decode([best])
    assert tokenizer(continuation, add_special_tokens=False).input_ids == [best]
    response = await stub.ScoreLogprobs(
        inference_pb2.ScoreLogprobsRequest(
            model=LLAMA,
            items=[inference_pb2.ScoreItem(prompt=text(prompt), continuation=continuation)],
        )
    )
    assert response.results[0].is_greedy
    assert not response.results[0].tokens  # per_token was not asked for


async def test_tokenize_counts_and_ids(stub, worker):
    _, tokenizer = local_model(worker)
    samples = ["hello world", "", "The assistant is honest and kind."]
    response = await stub.Tokenize(
        inference_pb2.TokenizeRequest(model=QWEN, texts=samples, return_ids=True)
    )
    assert [list(r.ids) for r in response.results] == [tokenizer(s).input_ids for s in samples]
    assert [r.count for r in response.results] == [len(tokenizer(s).input_ids) for s in samples]
    counts = await stub.Tokenize(inference_pb2.TokenizeRequest(model=QWEN, texts=samples))
    assert not counts.results[0].ids and counts.results[0].count == response.results[0].count


async def test_concurrent_requests_for_different_models_never_mix(stub, tmp_path: Path):
    # A local Hugging Face folder (under a model root): tiny:llama's architecture, other weights.
    model_policy.add_root(tmp_path / "models")
    folder = models.materialize("tiny:llama", tmp_path / "models", 5)
    other = common_pb2.ModelRef(base_model=str(folder))

    # Random tiny models with tied embeddings greedily repeat their input; seeded sampling does not.
    def seeded(ref, prompt):
        return stub.Sample(request(ref, [text(prompt)], temperature=1, max_tokens=10, seed=1))

    prompts = ["The rule", "An assistant", "Kindness"]
    solo = [texts(await seeded(ref, p)) for ref in (LLAMA, other) for p in prompts]
    together = await asyncio.gather(*(seeded(ref, p) for ref in (LLAMA, other) for p in prompts))
    assert [texts(r) for r in together] == solo
    assert solo[:3] != solo[3:]


async def _error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_bad_input(stub):
    long_prompt = " ".join(["honest"] * 9000)
    error = await _error(stub.Sample(request(LLAMA, [text(long_prompt)])))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(
        r"prompt 0 is 9\d\d\d tokens, longer than the model's context of 8192 tokens",
        error.details(),
    )
    error = await _error(
        stub.ScoreLogprobs(
            inference_pb2.ScoreLogprobsRequest(
                model=LLAMA,
                items=[inference_pb2.ScoreItem(prompt=text(long_prompt), continuation="x")],
            )
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "8192" in error.details()

    error = await _error(
        stub.Sample(request(common_pb2.ModelRef(base_model="tiny:gpt9"), [text("a")]))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(error)["midspec-reason"] == "ERROR_REASON_MODEL_NOT_FOUND"
    missing_run = common_pb2.ModelRef(checkpoint=common_pb2.CheckpointRef(run_id="nope"))
    error = await _error(
        stub.Tokenize(inference_pb2.TokenizeRequest(model=missing_run, texts=["a"]))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND

    for params, phrase in [
        ({"n": 100000}, "n is 100000"),
        ({"max_tokens": 10**6}, "max_tokens is 1000000"),
    ]:
        error = await _error(stub.Sample(request(LLAMA, [text("a")], **params)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert phrase in error.details() and "at most" in error.details()
        assert trailers(error)["midspec-reason"] == "ERROR_REASON_LIMIT_EXCEEDED"
    error = await _error(stub.Sample(request(LLAMA, [text("a")] * 200, n=10)))
    assert "prompts × n is 2000" in error.details()
    error = await _error(stub.Sample(request(LLAMA, [text("a")], temperature=-1, top_p=2)))
    assert "temperature" in error.details() and "top_p" in error.details()


async def test_a_client_that_disconnects_mid_stream_frees_its_slot(stub, worker):
    # Warm the model so the timings below measure generation only.
    await stub.Sample(request(LLAMA, [text("warm")], max_tokens=1))
    started = time.monotonic()
    await stub.Sample(request(LLAMA, [text("x")], temperature=0, max_tokens=200))
    per_200 = time.monotonic() - started
    call = stub.SampleStream(request(LLAMA, [text("Tell me")], temperature=1.0, max_tokens=4000))
    async for _ in call:
        break
    call.cancel()
    started = time.monotonic()
    await stub.Sample(request(LLAMA, [text("next")], max_tokens=5))
    # Had the abandoned row kept generating, this request would wait for ~4000 tokens.
    assert time.monotonic() - started < max(3.0, 5 * per_200)


async def test_checkpoints_served_merged_and_with_the_adapter_unmerged(
    stub, worker, tmp_path: Path
):
    dataset = await upload(stub, jsonl(text_records()), TEXT)
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[stage(1, dataset.dataset.id, 3)])
    run = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run
    await watch(stub, run.id)
    finished = await stub.GetRun(runs_pb2.GetRunRequest(run_id=run.id))
    assert finished.state == runs_pb2.RUN_STATE_SUCCEEDED

    def ref(merged: bool, checkpoint_id: str = "") -> common_pb2.ModelRef:
        checkpoint = common_pb2.CheckpointRef(
            run_id=run.id, checkpoint_id=checkpoint_id, merged=merged
        )
        return common_pb2.ModelRef(checkpoint=checkpoint)

    item = inference_pb2.ScoreItem(prompt=text("The assistant is"), continuation=" honest")
    scores = []
    for model in (ref(True), ref(False), ref(True, "final"), LLAMA):
        response = await stub.ScoreLogprobs(
            inference_pb2.ScoreLogprobsRequest(model=model, items=[item])
        )
        scores.append(response.results[0].logprob)
    merged, unmerged, final, base = scores
    checkpoints = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run.id))
    assert merged == pytest.approx(unmerged, abs=1e-4) and merged == final
    assert merged != pytest.approx(base, abs=1e-4)  # lr 1e-2 for 3 steps moves the weights
    assert len(worker.inference.cache.loaded_keys()) <= worker.inference.limits.cache_size
    error = await _error(
        stub.Tokenize(inference_pb2.TokenizeRequest(model=ref(True, "nope"), texts=["a"]))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(error)["midspec-reason"] == "ERROR_REASON_CHECKPOINT_NOT_FOUND"

    # DownloadCheckpoint: the merged folder, the adapter, and an ONNX export, each verified.
    async def download(fmt: int, checkpoint_id: str = "final") -> tuple[Any, Path]:
        target = tmp_path / f"download-{fmt}-{checkpoint_id}"
        request = runs_pb2.DownloadCheckpointRequest(
            run_id=run.id, checkpoint_id=checkpoint_id, format=fmt
        )
        manifest = None
        async for message in stub.DownloadCheckpoint(request):
            if message.HasField("manifest"):
                manifest = message.manifest
                continue
            path = target / message.chunk.path
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("r+b" if path.exists() else "wb") as handle:
                handle.seek(message.chunk.offset)
                handle.write(message.chunk.data)
        assert manifest is not None
        for entry in manifest.files:
            data = (target / entry.path).read_bytes()
            assert len(data) == entry.size_bytes
            assert hashlib.sha256(data).hexdigest() == entry.sha256
        return manifest, target

    manifest, folder = await download(caps.CHECKPOINT_FORMAT_MERGED_HF)
    assert manifest.format == caps.CHECKPOINT_FORMAT_MERGED_HF and manifest.checkpoint.final
    assert not any(f.path.startswith("adapter/") for f in manifest.files)
    downloaded, _ = models.load(folder, torch.float32)
    assert downloaded.config.vocab_size > 0
    manifest, _ = await download(caps.CHECKPOINT_FORMAT_ADAPTER)
    assert "adapter_config.json" in [f.path for f in manifest.files]
    manifest, _ = await download(caps.CHECKPOINT_FORMAT_ONNX)
    assert "model.onnx" in [f.path for f in manifest.files]
    stage_checkpoint = [c for c in checkpoints.checkpoints if not c.final][0].id
    manifest, _ = await download(caps.CHECKPOINT_FORMAT_UNSPECIFIED, stage_checkpoint)
    assert manifest.format == caps.CHECKPOINT_FORMAT_ADAPTER
    assert "trainer_state.pt" not in [f.path for f in manifest.files]
    error = await _error(download(caps.CHECKPOINT_FORMAT_MERGED_HF, stage_checkpoint))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
