"""Validation of JSONL records against a dataset format, shared by uploads and training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2

ROLES = ("system", "user", "assistant", "tool")


def check_record(record: Any, fmt: int) -> str | None:
    """Return what is wrong with one decoded record, or None when it is valid."""
    if not isinstance(record, dict):
        return "expected a JSON object"
    if fmt == datasets_pb2.DATASET_FORMAT_TEXT:
        text = record.get("text")
        if not isinstance(text, str) or not text:
            return 'expected a non-empty string field "text"'
        return None
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return 'expected a non-empty list field "messages"'
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages[{index}] is not an object"
        if message.get("role") not in ROLES:
            return f"messages[{index}].role must be one of {', '.join(ROLES)}"
        if not isinstance(message.get("content"), str):
            return f"messages[{index}].content must be a string"
        if "reasoning" in message and not isinstance(message["reasoning"], str):
            return f"messages[{index}].reasoning must be a string"
    if not any(message["role"] == "assistant" for message in messages):
        return "expected at least one assistant message"
    return None


def validate_file(path: Path, fmt: int) -> int:
    """Check every line; return the number of records or raise InvalidData naming the line."""
    count = 0
    for _ in iter_records(path, fmt):
        count += 1
    if count == 0:
        raise InvalidData("the dataset has no records")
    return count


def iter_records(path: Path, fmt: int) -> Iterator[dict[str, Any]]:
    for _, record in iter_numbered(path, fmt):
        yield record


def iter_numbered(path: Path, fmt: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """Valid records with their 1-based line numbers; InvalidData names the first bad line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                raise InvalidData(
                    f"line {number}: not valid UTF-8 ({error})", line=number
                ) from None
            except json.JSONDecodeError as error:
                raise InvalidData(f"line {number}: not valid JSON ({error})", line=number) from None
            problem = check_record(record, fmt)
            if problem is not None:
                raise InvalidData(f"line {number}: {problem}", line=number)
            yield number, record
