"""Checks of the OpenAI-compatible HTTP API's JSON bodies, before anything is parsed further.

Every field the endpoints read is type- and range-checked here, so a malformed body is a 400 in
OpenAI's error shape naming the field, never a 500 from deep inside (`max_tokens: 1e999` is an
infinite float to Python's JSON parser; `int()` of it raised OverflowError). The echo/scoring path
(`/v1/completions` with `echo`) obeys the same prompt-count bound as sampling and, like sampling,
a per-request token budget (prompt tokens plus tokens to generate), so that one request cannot
hold the inference thread for minutes while others wait.
"""

from __future__ import annotations

import math
from typing import Any

from midspec_worker.errors import InvalidRequest, LimitExceeded
from midspec_worker.inference.engine import MAX_PROMPTS, MAX_ROWS

# Prompt tokens plus tokens to generate, over all prompts and completions of one request.
MAX_REQUEST_TOKENS = 262_144
MAX_TOP_LOGPROBS = 20


def _number(body: dict[str, Any], name: str, low: float, high: float, problems: list[str]) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{name} must be a finite number, got {value!r}")
    elif not low <= value <= high:
        problems.append(f"{name} must be within [{low:g}, {high:g}], got {value!r}")


def _integer(body: dict[str, Any], name: str, low: int, high: int, problems: list[str]) -> None:
    value = body.get(name)
    if value is None:
        return
    integral = isinstance(value, int) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )
    if isinstance(value, bool) or not integral:
        problems.append(f"{name} must be an integer, got {value!r}")
    elif not low <= value <= high:
        problems.append(f"{name} must be within [{low}, {high}], got {value!r}")


def _boolean(body: dict[str, Any], name: str, problems: list[str]) -> None:
    if body.get(name) is not None and not isinstance(body[name], bool):
        problems.append(f"{name} must be true or false, got {body[name]!r}")


def _common(body: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("model must be a non-empty string")
    _integer(body, "n", 1, MAX_ROWS, problems)
    _number(body, "temperature", 0, 2, problems)
    _number(body, "top_p", 0, 1, problems)
    _integer(body, "top_k", 0, 2**31 - 1, problems)
    _integer(body, "max_tokens", 0, 2**31 - 1, problems)
    _integer(body, "seed", -(2**63), 2**64 - 1, problems)
    _boolean(body, "stream", problems)
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            problems.append("stop must be a string or a list of strings")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        problems.append("stream_options must be an object")
    return body


def _raise(problems: list[str]) -> None:
    if problems:
        raise InvalidRequest("; ".join(problems))


def check_chat(body: Any) -> None:
    """Raise InvalidRequest naming every malformed field of a chat completions body."""
    problems: list[str] = []
    body = _common(body, problems)
    _integer(body, "max_completion_tokens", 0, 2**31 - 1, problems)
    _boolean(body, "logprobs", problems)
    _integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS, problems)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("messages must be a non-empty list")
    else:
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                problems.append(f"messages[{index}] must be an object with a string role")
                continue
            content = message.get("content")
            if content is not None and not isinstance(content, (str, list)):
                problems.append(f"messages[{index}].content must be a string or a list of parts")
            elif isinstance(content, list) and not all(
                isinstance(part, dict) and isinstance(part.get("text", ""), str) for part in content
            ):
                problems.append(f"messages[{index}].content parts must be objects with text")
    _raise(problems)


def check_completions(body: Any) -> None:
    """Raise InvalidRequest naming every malformed field of a completions body."""
    problems: list[str] = []
    body = _common(body, problems)
    _boolean(body, "echo", problems)
    if body.get("logprobs") is not False:
        _integer(body, "logprobs", 0, MAX_TOP_LOGPROBS, problems)
    prompt = body.get("prompt", "")
    if isinstance(prompt, list):
        if not prompt:
            problems.append("prompt must not be an empty list")
        elif len(prompt) > MAX_PROMPTS and not all(_token(t) for t in prompt):
            problems.append(f"prompt holds {len(prompt)} prompts; at most {MAX_PROMPTS}")
        elif not (
            all(isinstance(p, str) for p in prompt)
            or all(_token(t) for t in prompt)
            or all(isinstance(p, list) and p and all(_token(t) for t in p) for p in prompt)
        ):
            problems.append(
                "prompt must be a string, a list of strings, a list of token ids (integers >= 0)"
                " or a list of non-empty lists of token ids"
            )
    elif not isinstance(prompt, str):
        problems.append("prompt must be a string, a list of strings or of token ids")
    _raise(problems)


def _token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def check_budget(prompts: list[list[int]], n: int, max_tokens: int) -> None:
    """The prompt-count bound and the per-request token budget, echo and scoring included."""
    if len(prompts) > MAX_PROMPTS:
        raise LimitExceeded(f"the number of prompts is {len(prompts)}; at most {MAX_PROMPTS}")
    total = sum(len(ids) for ids in prompts) + len(prompts) * n * max(0, max_tokens)
    if total > MAX_REQUEST_TOKENS:
        raise LimitExceeded(
            f"the request needs {total} tokens (prompt tokens plus n × max_tokens per prompt);"
            f" this worker allows at most {MAX_REQUEST_TOKENS} per request"
        )


def check_token_ids(prompts: list[list[int]], vocabulary: int) -> None:
    for index, ids in enumerate(prompts):
        if not all(0 <= t < vocabulary for t in ids):
            raise InvalidRequest(f"prompt {index}: token ids must be in [0, {vocabulary})")


def http_error(error: Any) -> Any:
    """An aiohttp HTTP exception (404 unknown route, 405, 413) as OpenAI's error JSON."""
    from aiohttp import web

    status = int(error.status)
    message = f"{error.reason}: {error.text}" if error.text else str(error.reason)
    if status == 404:
        message = "unknown route: this endpoint serves /v1/models, /v1/chat/completions and"
        message += " /v1/completions"
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
    return web.json_response(body, status=status, headers=headers)
