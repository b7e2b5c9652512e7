"""Bounds on what a client can make the worker hold or do, in one place.

The per-record cap bounds each JSONL line of an upload (and so each document a training child reads
and tokenizes); the nesting cap bounds how deep a record's JSON may go. An operator changes the
record cap with `midspec-worker serve --max-record-mb` (or MIDSPEC_MAX_RECORD_BYTES, which the
flag sets, so the training children see the same value).
"""

from __future__ import annotations

import os

RECORD_BYTES_ENV = "MIDSPEC_MAX_RECORD_BYTES"
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
# Records are {"text": ...} or {"messages": [{...}, ...]}: three levels; room for extra fields.
MAX_NESTING_DEPTH = 64


def max_record_bytes() -> int:
    value = os.environ.get(RECORD_BYTES_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_RECORD_BYTES


def nesting_depth(value: object) -> int:
    """How deep lists and objects nest in a decoded JSON value (a scalar: 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def lone_surrogate(value: object) -> str | None:
    """The first string (or key) holding a UTF-16 surrogate that pairs with nothing, which no
    UTF-8 file can hold and no tokenizer accepts; None when there is none."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                return item[error.start : error.end].encode("unicode_escape").decode("ascii")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
