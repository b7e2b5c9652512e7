"""/tokenizer_info, /tokenize and /detokenize: the served model's own tokenizer and chat template,
at the root (model in the query or body) and under /models/NAME/ as lm-evaluation-harness's remote
tokenizer calls them (its base URL with /v1/completions cut off)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest
from transformers import AutoTokenizer

from midspec_worker import server
from midspec_worker.openai_http import OpenAIServer

MESSAGES = [{"role": "user", "content": "Which is cheaper? A) Brie B) Gouda"}]


@pytest.fixture
async def root(worker: server.Worker) -> AsyncIterator[str]:
    http = OpenAIServer(worker.inference)
    port = await http.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{port}"
    await http.stop()


async def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, json=body) as response:
            return response.status, await response.json()


async def test_the_served_model_tokenizer_and_template(root, real_model_dirs):
    folder = real_model_dirs["qwen3"]
    name = str(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    base = f"{root}/models/{quote(name, safe='')}"

    status, info = await call("GET", f"{base}/tokenizer_info")
    assert status == 200, info
    assert info["eos_token"] == tokenizer.eos_token == "<|im_end|>"
    assert info["chat_template"] == tokenizer.chat_template
    assert info["vocab_size"] == len(tokenizer) and info["model_max_length"] == 4096
    status, same = await call("GET", f"{root}/tokenizer_info?model={quote(name, safe='')}")
    assert status == 200 and same == info

    status, plain = await call(
        "POST", f"{base}/tokenize", {"prompt": "Brie", "add_special_tokens": False}
    )
    assert (
        status == 200 and plain["tokens"] == tokenizer("Brie", add_special_tokens=False).input_ids
    )
    status, eos = await call(
        "POST", f"{base}/tokenize", {"prompt": "<|im_end|>", "add_special_tokens": False}
    )
    assert eos["tokens"] == [tokenizer.eos_token_id]
    status, chat = await call("POST", f"{root}/tokenize", {"model": name, "messages": MESSAGES})
    rendered = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert (
        status == 200 and chat["tokens"] == tokenizer(rendered, add_special_tokens=False).input_ids
    )
    assert chat["count"] == len(chat["tokens"])
    status, text = await call("POST", f"{base}/detokenize", {"tokens": chat["tokens"]})
    assert status == 200 and text["prompt"] == rendered

    # The OpenAI routes answer under the same prefix, so one base URL serves a harness.
    status, models = await call("GET", f"{base}/v1/models")
    assert status == 200 and models["object"] == "list"


async def test_bad_tokenizer_requests_are_openai_errors(root):
    status, body = await call("POST", f"{root}/tokenize", {"prompt": "x"})
    assert status == 400 and "model is required" in body["error"]["message"]
    status, body = await call("POST", f"{root}/tokenize", {"model": "tiny:llama"})
    assert status == 400 and "exactly one of prompt" in body["error"]["message"]
    status, body = await call(
        "POST", f"{root}/detokenize", {"model": "tiny:llama", "tokens": [10**7]}
    )
    assert status == 400 and "outside the vocabulary" in body["error"]["message"]
    status, body = await call("GET", f"{root}/tokenizer_info?model=run:nope")
    assert status == 404 and body["error"]["code"] == "ERROR_REASON_RUN_NOT_FOUND"
