"""Turning a stage's datasets into token sequences with per-token loss masks.

Text documents train on every token plus EOS. Chats are rendered with the model's chat template and
train only on the assistant turns: each assistant turn's character span is found by rendering the
conversation incrementally, then mapped onto tokens through the tokenizer's offsets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midspec_worker import records
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2


@dataclass(frozen=True)
class Example:
    """One document: token ids and, per token, whether predicting it counts towards the loss."""

    ids: list[int]
    mask: list[bool]


# A document is tokenized a prefix at a time, never whole: a 100 MB line must not become a list
# of tens of millions of ids when only max_length of them are kept. The first prefix allows this
# many characters per kept token, then grows fourfold until enough tokens come out; the margin
# keeps the kept ids clear of the cut, where a merge across it could differ.
_CHARS_PER_TOKEN = 8
_CUT_MARGIN_TOKENS = 16


def text_example(tokenizer: Any, text: str, max_length: int) -> Example:
    ids = _leading_ids(tokenizer, text, max_length)
    return Example(ids=ids, mask=[True] * len(ids))


def _leading_ids(tokenizer: Any, text: str, max_length: int) -> list[int]:
    """The ids of `text` plus EOS, truncated to max_length, tokenizing only as much as needed."""
    wanted = max_length + _CUT_MARGIN_TOKENS
    limit = wanted * _CHARS_PER_TOKEN
    while True:
        prefix = text[:limit]
        ids: list[int] = tokenizer(prefix, add_special_tokens=False)["input_ids"]
        if len(prefix) == len(text):
            return (ids + [tokenizer.eos_token_id])[:max_length]
        if len(ids) >= wanted:
            return ids[:max_length]
        limit *= 4


def prepare_messages(messages: list[dict[str, Any]], strip_reasoning: bool) -> list[dict[str, str]]:
    """Fold assistant reasoning into the content as a <think> block, or drop it."""
    prepared = []
    for message in messages:
        content = message["content"]
        reasoning = message.get("reasoning") or ""
        if reasoning and not strip_reasoning:
            content = f"<think>\n{reasoning}\n</think>\n\n{content}"
        prepared.append({"role": message["role"], "content": content})
    return prepared


def assistant_spans(
    tokenizer: Any, messages: list[dict[str, str]]
) -> tuple[str, list[tuple[int, int]]]:
    """Render a chat and return it with the character spans of its assistant turns.

    Each span runs from the end of the generation prompt to the end of the turn's rendering, so it
    covers the content and the template's end-of-turn marker (the model must learn to stop).
    """
    render = tokenizer.apply_chat_template
    text = render(messages, tokenize=False)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(render(messages[:index], tokenize=False, add_generation_prompt=True))
        end_text = render(messages[: index + 1], tokenize=False)
        if not text.startswith(end_text):
            raise InvalidData(
                "the chat template is not prefix-stable, so assistant tokens cannot be located"
            )
        spans.append((start, len(end_text)))
    return text, spans


def chat_example(
    tokenizer: Any, messages: list[dict[str, str]], max_length: int, assistant_only: bool
) -> Example:
    text, spans = assistant_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = encoded["input_ids"]
    if assistant_only:
        mask = [any(s <= start < e for s, e in spans) for start, _ in encoded["offset_mapping"]]
    else:
        mask = [True] * len(ids)
    return Example(ids=ids[:max_length], mask=mask[:max_length])


def load_examples(
    path: Path,
    fmt: int,
    tokenizer: Any,
    max_length: int,
    assistant_only: bool,
    strip_reasoning: bool,
) -> list[Example]:
    examples = []
    for number, record in records.iter_numbered(path, fmt):
        if fmt == datasets_pb2.DATASET_FORMAT_TEXT:
            examples.append(text_example(tokenizer, record["text"], max_length))
            continue
        messages = prepare_messages(record["messages"], strip_reasoning)
        try:
            examples.append(chat_example(tokenizer, messages, max_length, assistant_only))
        except Exception as error:  # noqa: BLE001 - templates raise anything (jinja, ValueError)
            detail = error.message if isinstance(error, InvalidData) else str(error)
            raise InvalidData(
                f"dataset {path.stem} line {number}: the chat cannot be rendered with the model's "
                f"chat template: {detail or type(error).__name__}",
                line=number,
            ) from None
    # Documents with nothing to learn from (an assistant turn cut off by truncation) are dropped.
    return [example for example in examples if len(example.ids) > 1 and any(example.mask[1:])]


def mix(sources: list[tuple[list[Example], float]], seed: int) -> list[Example]:
    """One epoch of a weighted mixture: as many documents as the sources hold in total, each source
    drawn in proportion to its weight (cycling through a shuffled copy when it is oversampled)."""
    if len(sources) == 1:
        return list(sources[0][0])
    total = sum(len(examples) for examples, _ in sources)
    total_weight = sum(weight for _, weight in sources) or 1.0
    rng = random.Random(seed)
    mixed: list[Example] = []
    for examples, weight in sources:
        if not examples:
            continue
        count = round(total * weight / total_weight)
        order = list(range(len(examples)))
        rng.shuffle(order)
        mixed.extend(examples[order[i % len(order)]] for i in range(count))
    return mixed
