"""/v1/chat/completions for real chat models: the model's own template, tools and logprobs.

- The prompt is the model's chat template applied to the messages (assistant `tool_calls`, `tool`
  turns with `tool_call_id`, and an assistant's `reasoning`, the one representation of reasoning
  used across midspec) with the request's `tools`; a template that renders no tools gets them in a
  system message (tool_calls.py).
- With `tools` and `tool_choice` "auto" (the default when tools are given) the answer is parsed for
  tool calls in the template's format (Qwen3 `<tool_call>` blocks, Llama 3.1 JSON); found calls
  come back as `tool_calls` with finish_reason "tool_calls". `tool_choice` "none" hides the tools.
  "required" and a named function would need constrained decoding, which this worker does not do:
  they are refused with a 400 rather than silently ignored, as is `response_format` json.
- A leading `<think>` block is returned as the message's `reasoning`, not as content.
- `logprobs` with `top_logprobs` (0-20): each generated token with its log-probability and the
  most likely alternatives at its position (one teacher-forced pass after generation). Streamed,
  a choice's token logprobs come in its last chunk; the list concatenated over chunks is the full
  list, as for OpenAI.
- Streamed with tools, a choice's content is sent once it is complete (a half-generated tool call
  cannot be told from text), followed by its `tool_calls`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from aiohttp import web

from midspec_worker import openai_validation, tool_calls
from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2
from midspec_worker.inference import scoring
from midspec_worker.inference.engine import Inference, check_context
from midspec_worker.inference.model_cache import LoadedModel, parse_name
from midspec_worker.train import chat_masks

FINISH = {inference_pb2.FINISH_REASON_STOP: "stop", inference_pb2.FINISH_REASON_LENGTH: "length"}
MAX_TOP_LOGPROBS = 20
SCORE_BATCH_SIZE = 8


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("messages must be a non-empty list")
    messages = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidRequest(f"messages[{index}] needs a role")
        role = "system" if message["role"] == "developer" else message["role"]
        turn = {**message, "role": role, "content": _text(message.get("content"))}
        messages.append(turn)
    return messages


def _tools(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The offered tools and the tool_choice mode ("auto" or "none")."""
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance((t.get("function") or {}).get("name"), str)
        for t in tools
    ):
        raise InvalidRequest('tools must be a list of {"type": "function", "function": {...}}')
    choice = body.get("tool_choice")
    if choice is None:
        choice = "auto" if tools else "none"
    if isinstance(choice, dict) or choice == "required":
        raise InvalidRequest(
            f"tool_choice {json.dumps(choice)} needs constrained decoding, which this worker does "
            'not support; use "auto" (the model decides) or "none"'
        )
    if choice not in ("auto", "none"):
        raise InvalidRequest(
            f'tool_choice must be "auto", "none", "required" or a function, '
            f"got {json.dumps(choice)}"
        )
    return tools, choice


def _check_unsupported(body: dict[str, Any]) -> None:
    kind = (body.get("response_format") or {}).get("type", "text")
    if kind != "text":
        raise InvalidRequest(
            f'response_format {{"type": "{kind}"}} needs constrained decoding, which this worker '
            'does not support; ask for JSON in the prompt instead, or use {"type": "text"}'
        )
    top = body.get("top_logprobs")
    if top is not None and not (isinstance(top, int) and 0 <= top <= MAX_TOP_LOGPROBS):
        raise InvalidRequest(f"top_logprobs must be an integer from 0 to {MAX_TOP_LOGPROBS}")
    if top is not None and not body.get("logprobs"):
        raise InvalidRequest("top_logprobs needs logprobs: true")


def render_prompt(
    loaded: LoadedModel, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[int]:
    """The chat rendered with the model's template and its generation prompt, as token ids."""
    tokenizer = loaded.tokenizer
    prepared = chat_masks.template_messages(tokenizer, messages)
    template = chat_masks.template_of(tokenizer)
    if tools and not tool_calls.template_renders_tools(template):
        prepared, tools = tool_calls.fallback_messages(prepared, tools), []
    text = tokenizer.apply_chat_template(
        prepared, tools=tools or None, tokenize=False, add_generation_prompt=True
    )
    ids = list(tokenizer(text, add_special_tokens=False).input_ids)
    check_context(loaded, ids, "the prompt")
    return ids


def _token_entry(tokenizer: Any, token_id: int, logprob: float, top: list[Any]) -> dict[str, Any]:
    piece = tokenizer.decode([token_id])
    return {
        "token": piece,
        "logprob": logprob,
        "bytes": list(piece.encode()),
        "top_logprobs": [
            {"token": (p := tokenizer.decode([i])), "logprob": lp, "bytes": list(p.encode())}
            for i, lp in top
        ],
    }


class ChatCompletions:
    def __init__(self, inference: Inference) -> None:
        self._inference = inference

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if isinstance(body, dict) and isinstance(body.get("model"), str) and body["model"]:
            # An unknown model is a 404 before anything else.
            self._inference.cache.resolve(parse_name(body["model"]))
        openai_validation.check_chat(body)
        _check_unsupported(body)
        name = body["model"]
        ref = parse_name(name)
        messages = _messages(body)
        tools, choice = _tools(body)
        offered = tools if choice == "auto" else []
        names = {t["function"]["name"] for t in offered}
        prompt = await self._inference.run(lambda m: render_prompt(m, messages, offered), ref)
        want_logprobs = bool(body.get("logprobs"))
        top = int(body.get("top_logprobs") or 0)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        params = inference_pb2.SamplingParams(
            n=int(body.get("n") or 1),
            temperature=float(1.0 if body.get("temperature") is None else body["temperature"]),
            top_p=float(body.get("top_p") or 0),
            max_tokens=int(max_tokens),
            stop=[body["stop"]] if isinstance(body.get("stop"), str) else body.get("stop") or [],
            logprobs=want_logprobs,
        )
        if body.get("seed") is not None:
            params.seed = int(body["seed"]) & (2**64 - 1)
        sample = inference_pb2.SampleRequest(
            model=ref, prompts=[common_pb2.Prompt(text="")], params=params
        )
        head = {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "created": int(time.time()),
            "model": name,
        }

        async def logprobs_of(done: inference_pb2.Completion) -> dict[str, Any] | None:
            if not want_logprobs:
                return None
            generated = [t.token_id for t in done.logprobs]
            content = await self._inference.run(
                lambda m: self._score(m, prompt, generated, top), ref
            )
            return {"content": content, "refusal": None}

        if body.get("stream"):
            return await self._stream(request, body, head, sample, prompt, names, logprobs_of)
        completions = (await self._inference.sample_all(sample, prompt_ids=[prompt]))[0]
        choices = []
        for index, done in enumerate(completions):
            parsed = tool_calls.parse(done.text, names)
            message: dict[str, Any] = {
                "role": "assistant",
                "content": parsed.content if parsed.content or not parsed.tool_calls else None,
                "refusal": None,
            }
            if parsed.reasoning:
                message["reasoning"] = parsed.reasoning
            finish = FINISH.get(done.finish_reason, "stop")
            if parsed.tool_calls:
                message["tool_calls"] = parsed.tool_calls
                finish = "tool_calls"
            choices.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": await logprobs_of(done),
                    "finish_reason": finish,
                }
            )
        prompt_tokens = len(prompt)
        generated = sum(c.completion_tokens for c in completions)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": generated,
            "total_tokens": prompt_tokens + generated,
        }
        return web.json_response(
            {**head, "object": "chat.completion", "choices": choices, "usage": usage}
        )

    @staticmethod
    def _score(
        loaded: LoadedModel, prompt: list[int], generated: list[int], top: int
    ) -> list[dict[str, Any]]:
        if not generated:
            return []
        [scored] = scoring.score_tokens(
            loaded, [prompt + generated], [len(prompt)], SCORE_BATCH_SIZE, top=top
        )
        return [_token_entry(loaded.tokenizer, t.token_id, t.logprob, t.top) for t in scored]

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        head: dict[str, Any],
        sample: inference_pb2.SampleRequest,
        prompt: list[int],
        names: set[str],
        logprobs_of: Any,
    ) -> web.StreamResponse:
        job = await self._inference.sample(sample, prompt_ids=[prompt])
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        chunk = {**head, "object": "chat.completion.chunk"}

        async def send(payload: Any) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await response.write(f"data: {data}\n\n".encode())

        async def choice(index: int, delta: dict[str, Any], **rest: Any) -> None:
            entry = {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}
            await send({**chunk, "choices": [{**entry, **rest}]})

        usage = {"prompt_tokens": len(prompt), "completion_tokens": 0}
        for index in range(len(job.rows)):
            await choice(index, {"role": "assistant", "content": ""})
        async for event in job.events():
            index = event.completion_index
            if event.delta and not names:
                await choice(index, {"content": event.delta})
            if event.completion is None:
                continue
            done = event.completion
            usage["completion_tokens"] += done.completion_tokens
            finish = FINISH.get(done.finish_reason, "stop")
            if names:
                parsed = tool_calls.parse(done.text, names)
                if parsed.content:
                    await choice(index, {"content": parsed.content})
                if parsed.tool_calls:
                    calls = [{"index": i, **c} for i, c in enumerate(parsed.tool_calls)]
                    await choice(index, {"tool_calls": calls})
                    finish = "tool_calls"
            await choice(index, {}, finish_reason=finish, logprobs=await logprobs_of(done))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            await send({**chunk, "choices": [], "usage": usage})
        await send("[DONE]")
        await response.write_eof()
        return response
