"""Turning a stage's datasets into token sequences with per-token loss masks.

Text documents train on every token plus EOS. Chats are rendered with the model's chat template and
train only on the assistant turns (train/chat_masks.py finds them with the template itself).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midspec_worker import records
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2
from midspec_worker.train import chat_masks


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
        try:
            chats = chat_masks.chat_token_examples(
                tokenizer, record, assistant_only, strip_reasoning
            )
            examples.extend(Example(ids=i[:max_length], mask=m[:max_length]) for i, m in chats)
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
