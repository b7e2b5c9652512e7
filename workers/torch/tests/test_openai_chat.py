"""/v1/chat/completions on real chat templates: tools, tool-call parsing, logprobs, refusals."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import aiohttp
import pytest
from test_chat_masks import TOOL_CHAT
from transformers import AutoTokenizer

from midspec_worker import model_policy, server, tool_calls
from midspec_worker.inference.model_cache import LoadedModel
from midspec_worker.openai_chat import render_prompt
from midspec_worker.openai_http import OpenAIServer

NAMES = {"get_weather"}


def test_hermes_tool_calls_are_parsed_after_reasoning():
    text = (
        "<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    )
    parsed = tool_calls.parse(text, NAMES)
    assert parsed.reasoning == "The user wants weather."
    assert parsed.content == "Let me check."
    [call] = parsed.tool_calls
    assert call["function"]["name"] == "get_weather" and call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_llama_json_tool_calls_are_parsed():
    text = '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Oslo"}}'
    [call] = tool_calls.parse(text, NAMES).tool_calls
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo"}
    two = '{"name": "get_weather", "parameters": {"city": "A"}}; {"name": "get_weather"}'
    assert len(tool_calls.parse(two, NAMES).tool_calls) == 2


def test_calls_to_tools_not_offered_stay_text():
    text = '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>'
    parsed = tool_calls.parse(text, NAMES)
    assert parsed.tool_calls == [] and parsed.content == text
    assert tool_calls.parse('{"name": "get_weather"}', set()).tool_calls == []


@pytest.fixture(scope="module")
def tokenizers(real_model_dirs):
    return {kind: AutoTokenizer.from_pretrained(path) for kind, path in real_model_dirs.items()}


def loaded_with(tokenizer) -> LoadedModel:
    return LoadedModel("test", None, tokenizer, 4096, frozenset())


def test_qwen3_prompt_renders_tools_calls_and_results(tokenizers):
    tokenizer = tokenizers["qwen3"]
    ids = render_prompt(loaded_with(tokenizer), TOOL_CHAT["messages"][:3], TOOL_CHAT["tools"])
    text = tokenizer.decode(ids)
    assert '"name": "get_weather", "description": "The weather in a city"' in text
    assert (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' in text
    )
    assert "<tool_response>\nSECRET-TOOL-OUTPUT sunny\n</tool_response>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_a_template_without_tools_gets_them_in_a_system_message(tokenizers):
    tokenizer = tokenizers["llama3_1"]
    ids = render_prompt(loaded_with(tokenizer), TOOL_CHAT["messages"][:3], TOOL_CHAT["tools"])
    text = tokenizer.decode(ids)
    assert text.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>")
    assert tool_calls.FALLBACK_INSTRUCTIONS.strip() in text and '"get_weather"' in text
    assert '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eot_id|>' in text
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


@pytest.fixture
async def base_url(worker: server.Worker) -> AsyncIterator[str]:
    http = OpenAIServer(worker.inference)
    port = await http.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{port}/v1"
    await http.stop()


async def post(url: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json()


async def test_chat_logprobs_tools_and_refusals(base_url, real_model_dirs, monkeypatch):
    monkeypatch.setenv(model_policy.ROOTS_ENV, os.environ.get(model_policy.ROOTS_ENV, ""))
    model_policy.add_root(real_model_dirs["qwen3"].parent)
    model = str(real_model_dirs["qwen3"])
    request = {"model": model, "messages": TOOL_CHAT["messages"], "tools": TOOL_CHAT["tools"]}
    named = {"type": "function", "function": {"name": "get_weather"}}
    status, body = await post(f"{base_url}/chat/completions", {**request, "tool_choice": named})
    assert status == 400 and "constrained decoding" in body["error"]["message"]
    status, body = await post(
        f"{base_url}/chat/completions", {**request, "response_format": {"type": "json_object"}}
    )
    assert status == 400 and "json_object" in body["error"]["message"]

    scored = {**request, "max_tokens": 4, "temperature": 0, "logprobs": True, "top_logprobs": 3}
    status, body = await post(f"{base_url}/chat/completions", scored)
    assert status == 200, body
    [choice] = body["choices"]
    content = choice["logprobs"]["content"]
    assert 1 <= len(content) <= body["usage"]["completion_tokens"]
    for entry in content:
        assert len(entry["top_logprobs"]) == 3
        # Greedy decoding picks the most likely token.
        assert entry["logprob"] == pytest.approx(entry["top_logprobs"][0]["logprob"], abs=1e-4)

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/chat/completions", json={**scored, "stream": True}) as response,
    ):
        chunks = [
            json.loads(line[6:])
            for line in (await response.text()).splitlines()
            if line.startswith("data: {")
        ]
    streamed = [
        e for c in chunks for ch in c["choices"] for e in (ch["logprobs"] or {}).get("content", [])
    ]
    assert [e["token"] for e in streamed] == [e["token"] for e in content]
