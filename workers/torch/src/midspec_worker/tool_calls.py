"""Tool calls in the formats chat templates teach, to and from the OpenAI chat format.

Two formats cover the open models this worker targets:
- Hermes style (Qwen2.5, Qwen3): `<tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>`
  blocks, any number, possibly after some text;
- Llama 3.1 style: the whole answer is `{"name": ..., "parameters": {...}}` (several separated
  by ";"), optionally after `<|python_tag|>`.

A template that renders no tools at all (no `tools` in it) gets them as a system message in the
Llama 3.1 JSON convention, and its assistant tool calls and tool results written as text, so any
chat model can be asked for tool calls; the answer is parsed in either format.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_PYTHON_TAG = "<|python_tag|>"
_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)

FALLBACK_INSTRUCTIONS = (
    "You have access to the following functions. To call a function, respond with only a JSON "
    'object of the form {"name": function name, "parameters": dictionary of argument name and '
    "its value}. Do not use variables.\n\n"
)


@dataclass(frozen=True)
class Parsed:
    """An answer split into its visible content, reasoning and tool calls (OpenAI format)."""

    content: str
    reasoning: str
    tool_calls: list[dict[str, Any]]


def template_renders_tools(template: str) -> bool:
    return "tools" in template


def _call(name: Any, arguments: Any) -> dict[str, Any] | None:
    if not isinstance(name, str) or not name:
        return None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return None
    return {
        "id": f"call_{secrets.token_hex(12)}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def _from_json(text: str, names: set[str]) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or value.get("name") not in names:
        return None
    return _call(value["name"], value.get("arguments", value.get("parameters")))


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, rest) for an answer that opens with a `<think>` block."""
    match = _THINK.match(text)
    if match is None:
        return "", text
    return match.group(1).strip(), text[match.end() :]


def parse(text: str, tool_names: set[str]) -> Parsed:
    """Split a generated answer; tool calls naming no offered tool stay in the content."""
    reasoning, rest = split_reasoning(text)
    if not tool_names:
        return Parsed(rest if reasoning else text, reasoning, [])
    calls = []
    kept = rest
    for match in _HERMES.finditer(rest):
        call = _from_json(match.group(1), tool_names)
        if call is not None:
            calls.append(call)
            kept = kept.replace(match.group(0), "", 1)
    if not calls:
        body = rest.strip()
        if body.startswith(_PYTHON_TAG):
            body = body[len(_PYTHON_TAG) :].strip()
        parts = [part.strip() for part in body.split(";") if part.strip()] if body else []
        parsed = [_from_json(part, tool_names) for part in parts]
        if parts and all(call is not None for call in parsed):
            calls = [call for call in parsed if call is not None]
            kept = ""
    return Parsed(kept.strip() if calls else (rest if reasoning else text), reasoning, calls)


def fallback_messages(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Messages for a template that knows no tools: tools described in a system message, tool
    calls and results as text."""
    described = "\n\n".join(json.dumps(tool, indent=2) for tool in tools)
    converted: list[dict[str, Any]] = []
    for message in messages:
        turn = {key: value for key, value in message.items() if key != "tool_calls"}
        if message.get("tool_calls"):
            functions = [call["function"] for call in message["tool_calls"]]
            calls = [
                json.dumps({"name": f["name"], "parameters": f["arguments"]}) for f in functions
            ]
            turn["content"] = "; ".join(calls)
        converted.append(turn)
    instructions = FALLBACK_INSTRUCTIONS + described
    if converted and converted[0]["role"] == "system":
        converted[0] = {**converted[0], "content": f"{converted[0]['content']}\n\n{instructions}"}
    else:
        converted.insert(0, {"role": "system", "content": instructions})
    return converted
