"""The OpenAI-compatible HTTP API: token-id prompts, echo with generation, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from midspec_worker import server
from midspec_worker.openai_http import OpenAIServer


@pytest.fixture
async def base_url(worker: server.Worker) -> AsyncIterator[str]:
    http = OpenAIServer(worker.inference)
    port = await http.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{port}/v1"
    await http.stop()


async def post(url: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_completions_with_token_ids_echo_and_generation(base_url: str):
    status, body = await post(
        f"{base_url}/completions",
        {
            "model": "tiny:llama",
            "prompt": [[300, 301, 302], [400, 401]],
            "max_tokens": 3,
            "echo": True,
            "logprobs": 2,
            "n": 2,
            "seed": 4,
        },
    )
    assert status == 200, body
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3]
    for choice in body["choices"]:
        logprobs = choice["logprobs"]
        prompt_length = 3 if choice["index"] < 2 else 2
        generated = len(logprobs["tokens"]) - prompt_length
        assert 1 <= generated <= 3
        assert logprobs["token_logprobs"][0] is None
        assert all(v < 0 for v in logprobs["token_logprobs"][1:])
        assert "".join(logprobs["tokens"]) == choice["text"]
        assert len(logprobs["top_logprobs"][1]) == 2  # prompt positions have the top 2
        assert logprobs["text_offset"] == sorted(logprobs["text_offset"])
    assert body["usage"]["prompt_tokens"] == 5


async def test_errors_have_the_openai_shape(base_url: str):
    status, body = await post(f"{base_url}/chat/completions", {"model": "run:nope", "messages": []})
    assert status == 404 and body["error"]["code"] == "ERROR_REASON_RUN_NOT_FOUND"
    status, body = await post(
        f"{base_url}/chat/completions",
        {"model": "tiny:llama", "messages": [{"role": "user", "content": "x"}], "n": 1000},
    )
    assert status == 400 and "n must be within [1, 256], got 1000" in body["error"]["message"]
    status, body = await post(f"{base_url}/completions", {"prompt": "x"})
    assert status == 400 and "model" in body["error"]["message"]
    status, body = await post(
        f"{base_url}/completions", {"model": "tiny:llama", "prompt": [[999999]], "max_tokens": 1}
    )
    assert status == 400 and "token ids" in body["error"]["message"]


async def test_a_configured_token_is_required(worker: server.Worker):
    http = OpenAIServer(worker.inference, token="s3cret")
    port = await http.start("127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{port}/v1/models"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 401
                body = await response.json()
                assert body["error"]["type"] == "authentication_error"
                assert "--token" in body["error"]["message"]
            headers = {"Authorization": "Bearer s3cret"}
            async with session.get(url, headers=headers) as response:
                assert response.status == 200
                assert (await response.json())["object"] == "list"
    finally:
        await http.stop()
