"""Continuous batching: rows join a running batch at token boundaries and leave when done.

The running batch is checked directly on Llama-3.1-shaped (llama3 rope scaling, grouped-query
attention) and Qwen3-shaped (q/k norms) models against cache-free greedy decoding; the worker is
checked end to end over gRPC, against static batching where the difference shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import torch

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2, worker_pb2_grpc
from midspec_worker.inference.engine import Limits
from midspec_worker.inference.model_cache import LoadedModel
from midspec_worker.inference.running_batch import RunningBatch
from midspec_worker.inference.sampler import Params, Row
from midspec_worker.tokenizer import build_tokenizer

LLAMA = common_pb2.ModelRef(base_model="tiny:llama")
LENGTH = inference_pb2.FINISH_REASON_LENGTH


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run the model on the test's own thread: one intra-op thread, as the worker's
    inference thread has here (two threads on a loaded 2-core machine are many times slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def real_shaped(kind: str, vocabulary: int) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen3Config

    shape = dict(
        vocab_size=vocabulary,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
    )
    if kind == "llama3_1":
        rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0}
        rope |= {"low_freq_factor": 1.0, "high_freq_factor": 4.0}
        rope["original_max_position_embeddings"] = 8192
        config = LlamaConfig(max_position_embeddings=131072, rope_parameters=rope, **shape)
    else:
        config = Qwen3Config(max_position_embeddings=40960, **shape)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()


def row(prompt: list[int], max_tokens: int, temperature: float = 0.0, seed: int = 0) -> Row:
    params = Params(temperature, 1.0, 0, max_tokens, (), logprobs=True)
    generator = torch.Generator().manual_seed(seed)
    return Row(prompt, params, generator, emit=lambda *_: None, cancelled=lambda: False)


def cache_free_greedy(model: torch.nn.Module, prompt: list[int], count: int) -> list[int]:
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(count):
            ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
    return ids[len(prompt) :]


@pytest.mark.parametrize("kind", ["llama3_1", "qwen3"])
def test_rows_joining_and_leaving_compute_what_they_would_alone(kind: str) -> None:
    tokenizer = build_tokenizer()
    model = real_shaped(kind, len(tokenizer))
    # No stop tokens: every row runs to its max_tokens, so the schedule below is exact.
    loaded = LoadedModel("test", model, tokenizer, 8192, frozenset())
    prompts = {
        "a": [5, 17, 300, 42, 9],
        "b": [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],  # longer than the batch so far
        "c": [400, 401, 402],
        "d": [1000, 3],
        "seeded": [11, 22, 33, 44],
    }
    lengths = {"a": 10, "b": 14, "c": 4, "d": 6, "seeded": 9}
    rows = {name: row(prompts[name], lengths[name]) for name in ("a", "b", "c", "d")}
    rows["seeded"] = row(prompts["seeded"], lengths["seeded"], temperature=1.0, seed=3)
    batch = RunningBatch(loaded)
    batch.admit([rows["a"]])
    for _ in range(3):
        batch.step()
    batch.admit([rows["b"], rows["c"]])  # b widens every row's slice; c is padded
    batch.step()
    batch.admit([rows["d"], rows["seeded"]])
    sizes = []
    while len(batch):
        sizes.append(len(batch))
        batch.step()
    # c left first, then a: the batch shrank while b, d and the seeded row kept going.
    assert sizes[0] == 5 and sizes[-1] == 1 and sorted(sizes, reverse=True) == sizes
    for name in ("a", "b", "c", "d"):
        expected = cache_free_greedy(model, prompts[name], lengths[name])
        assert rows[name].tokens == expected, name
    alone = row(prompts["seeded"], lengths["seeded"], temperature=1.0, seed=3)
    solo = RunningBatch(loaded)
    solo.admit([alone])
    while len(solo):
        solo.step()
    assert rows["seeded"].tokens == alone.tokens
    assert rows["seeded"].logprobs == pytest.approx(alone.logprobs, abs=1e-4)


async def started(tmp_path: Path, continuous: bool) -> server.Worker:
    limits = Limits(max_batch_size=8, continuous=continuous)
    return await server.start(
        "127.0.0.1", 0, tmp_path / "data", shutdown_grace_seconds=3, inference_limits=limits
    )


@pytest.fixture
async def stubs(tmp_path: Path) -> AsyncIterator[dict[bool, worker_pb2_grpc.WorkerStub]]:
    """A continuous (True) and a static (False) worker."""
    workers = {c: await started(tmp_path / str(c), c) for c in (True, False)}
    channels = {c: grpc.aio.insecure_channel(f"127.0.0.1:{w.port}") for c, w in workers.items()}
    yield {c: worker_pb2_grpc.WorkerStub(channel) for c, channel in channels.items()}
    for continuous, channel in channels.items():
        await channel.close()
        await workers[continuous].stop(grace=0)


def request(prompt: str, max_tokens: int, **params) -> inference_pb2.SampleRequest:
    return inference_pb2.SampleRequest(
        model=LLAMA,
        prompts=[common_pb2.Prompt(text=prompt)],
        params=inference_pb2.SamplingParams(max_tokens=max_tokens, **params),
    )


async def long_stream_started(stub: worker_pb2_grpc.WorkerStub, max_tokens: int = 400):
    """A long greedy stream, returned once its first message arrived (it is running)."""
    stream = stub.SampleStream(request("Honesty", max_tokens, temperature=0))
    first = await stream.read()
    assert first is not grpc.aio.EOF
    return stream


async def finished(stream) -> inference_pb2.Completion:
    while (message := await stream.read()) is not grpc.aio.EOF:
        if message.HasField("completion"):
            return message.completion
    raise AssertionError("the stream ended without a completion")


@pytest.mark.parametrize("continuous", [True, False])
async def test_a_short_request_finishes_while_a_long_one_runs(stubs, continuous: bool) -> None:
    stub = stubs[continuous]
    await stub.Sample(request("warm up", 1))  # load the model
    stream = await long_stream_started(stub)
    long = asyncio.ensure_future(finished(stream))
    short = await stub.Sample(request("A short one", 4, temperature=0))
    assert short.results[0].completions[0].completion_tokens == 4
    # Continuous: the short one came back while the long one was still generating. Static
    # batching makes it wait for the whole long batch.
    assert long.done() is not continuous
    completion = await long
    assert completion.finish_reason == LENGTH and completion.completion_tokens == 400


async def test_greedy_and_seeded_outputs_are_the_same_alone_and_joining(stubs) -> None:
    stub = stubs[True]
    targets = [
        request("Rule one: be", 24, temperature=0, logprobs=True),
        request("The assistant explains why", 24, temperature=1.0, seed=11, logprobs=True),
        request("Short", 16, n=2, temperature=0.9, top_p=0.9, seed=5, logprobs=True),
    ]
    alone = [await stub.Sample(target) for target in targets]
    stream = await long_stream_started(stub, max_tokens=200)
    long = asyncio.ensure_future(finished(stream))
    joined = []
    for target in targets:  # each joins a batch already running, at a different token
        joined.append(asyncio.ensure_future(stub.Sample(target)))
        await asyncio.sleep(0.02)
    joined = await asyncio.gather(*joined)
    assert not long.done()  # they all ran beside it
    await long
    for solo, crowded in zip(alone, joined, strict=True):
        for a, b in zip(solo.results[0].completions, crowded.results[0].completions, strict=True):
            assert a.text == b.text
            assert [t.token_id for t in a.logprobs] == [t.token_id for t in b.logprobs]
            assert [t.logprob for t in a.logprobs] == pytest.approx(
                [t.logprob for t in b.logprobs], abs=1e-4
            )


def test_the_exponential_race_samples_the_tempered_truncated_distribution() -> None:
    from midspec_worker.inference.sampler import choose

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]] * 2))
    plain = Params(1.0, 1.0, 0, 1, (), False)
    nucleus = Params(1.0, 0.7, 0, 1, (), False)  # keeps 0.5 and 0.3: 0.5 alone is short of 0.7
    generators = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    counts = torch.zeros((2, 4))
    draws = 4000
    for _ in range(draws):
        first, second = choose(logits, [plain, nucleus], generators)
        counts[0, first] += 1
        counts[1, second] += 1
    frequencies = counts / draws
    assert frequencies[0].tolist() == pytest.approx([0.5, 0.3, 0.15, 0.05], abs=0.03)
    assert frequencies[1].tolist() == pytest.approx([0.625, 0.375, 0.0, 0.0], abs=0.03)
