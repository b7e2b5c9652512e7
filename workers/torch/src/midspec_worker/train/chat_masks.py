"""Chats as training examples with assistant-only loss masks taken from the model's own template.

Real chat templates rewrite history: Qwen3 drops the `<think>` blocks of earlier assistant turns
and renders an empty `<think></think>` before the last answer, so the rendering of a shorter chat
is not a prefix of the full chat's. The mask therefore comes from the template itself:

- a template that marks its assistant output with `{% generation %}` yields the mask directly
  (`return_assistant_tokens_mask`);
- otherwise each assistant turn is rendered twice, the chat before it with the generation prompt and
  the chat up to and including it, and the difference is the turn: its content and its end-of-turn
  marker (whitespace the template writes after the marker is never generated, so it is not trained).
  When every turn appears unchanged in the full rendering, the chat is one example with every turn
  trained; when the template rewrites history, each assistant turn becomes its own example, rendered
  exactly as the model sees it when it generates that turn.

Reasoning has one representation everywhere (docgen, trainer, worker, the OpenAI endpoint): an
assistant message's optional `reasoning` string. Templates that know reasoning (Qwen3's
`reasoning_content`) receive it as such; for the others it is written into the content as
`<think>\n{reasoning}\n</think>\n\n{content}`. Tool calls follow the OpenAI chat format (assistant
`tool_calls`, `tool` messages with `tool_call_id`) and a record's `tools` list is passed to the
template.
"""

from __future__ import annotations

import json
import re
from typing import Any

from midspec_worker.errors import InvalidData

_GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")


def template_of(tokenizer: Any) -> str:
    template = getattr(tokenizer, "chat_template", None) or ""
    return template if isinstance(template, str) else json.dumps(template)


def tool_call_for_template(call: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call with its arguments as an object, which every template expects."""
    function = call.get("function") or {}
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            raise InvalidData(f"tool call arguments are not JSON: {error}") from None
    converted: dict[str, Any] = {
        "type": "function",
        "function": {"name": function.get("name", ""), "arguments": arguments},
    }
    if call.get("id"):
        converted["id"] = call["id"]
    return converted


def template_messages(
    tokenizer: Any, messages: list[dict[str, Any]], strip_reasoning: bool = False
) -> list[dict[str, Any]]:
    """Messages in the shape the model's template reads, with reasoning placed as it expects."""
    native_reasoning = "reasoning_content" in template_of(tokenizer)
    prepared = []
    for message in messages:
        turn: dict[str, Any] = {"role": message["role"], "content": message.get("content") or ""}
        reasoning = message.get("reasoning") or ""
        if reasoning and not strip_reasoning and message["role"] == "assistant":
            if native_reasoning:
                turn["reasoning_content"] = reasoning
            else:
                turn["content"] = f"<think>\n{reasoning}\n</think>\n\n{turn['content']}"
        if message.get("tool_calls"):
            turn["tool_calls"] = [tool_call_for_template(call) for call in message["tool_calls"]]
        for key in ("tool_call_id", "name"):
            if isinstance(message.get(key), str):
                turn[key] = message[key]
        prepared.append(turn)
    return prepared


def _render(tokenizer: Any, messages: list[dict[str, Any]], tools: Any, prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        messages, tools=tools, tokenize=False, add_generation_prompt=prompt
    )


def assistant_renderings(
    tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Renderings that together hold every assistant turn once, each with its turns' character
    spans (content and end-of-turn marker)."""
    full = _render(tokenizer, messages, tools, prompt=False)
    turns: list[tuple[str, int, int]] = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prefix = _render(tokenizer, messages[:index], tools, prompt=True)
        with_turn = _render(tokenizer, messages[: index + 1], tools, prompt=False)
        if not with_turn.startswith(prefix):
            raise InvalidData(
                f"the chat template renders messages[{index}] (assistant) so that the text before "
                "it changes, so its tokens cannot be located"
            )
        end = len(prefix) + len(with_turn[len(prefix) :].rstrip())
        turns.append((with_turn, len(prefix), end))
    if all(full.startswith(text[:end]) for text, _, end in turns):
        return [(full, [(start, end) for _, start, end in turns])]
    # The template rewrites earlier turns: train each turn as the model sees it when generating it.
    return [(text, [(start, end)]) for text, start, end in turns]


def _masked_tokens(
    tokenizer: Any, text: str, spans: list[tuple[int, int]]
) -> tuple[list[int], list[bool]]:
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [any(s <= start < e for s, e in spans) for start, _ in encoded["offset_mapping"]]
    return list(encoded["input_ids"]), mask


def chat_token_examples(
    tokenizer: Any,
    record: dict[str, Any],
    assistant_only: bool,
    strip_reasoning: bool = False,
) -> list[tuple[list[int], list[bool]]]:
    """A chat record ({"messages": [...], "tools": [...]?}) as (token ids, loss mask) examples."""
    messages = template_messages(tokenizer, record["messages"], strip_reasoning)
    tools = record.get("tools") or None
    if not assistant_only:
        text = _render(tokenizer, messages, tools, prompt=False)
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        return [(ids, [True] * len(ids))]
    if _GENERATION_TAG.search(template_of(tokenizer)):
        encoded = tokenizer.apply_chat_template(
            messages,
            tools=tools,
            tokenize=True,
            return_dict=True,
            return_assistant_tokens_mask=True,
        )
        ids = list(encoded["input_ids"])
        return [(ids, [bool(flag) for flag in encoded["assistant_masks"]])]
    return [
        _masked_tokens(tokenizer, text, spans)
        for text, spans in assistant_renderings(tokenizer, messages, tools)
    ]
