"""Validation of JSONL records against a dataset format, shared by uploads and training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from midspec_worker import limits
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2

ROLES = ("system", "user", "assistant", "tool")
_SCALARS = (str, int, float, bool, type(None))


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
        problem = check_message(index, message)
        if problem is not None:
            return problem
    if "tools" in record and not isinstance(record["tools"], list):
        return '"tools" must be a list of function definitions'
    if not any(message["role"] == "assistant" for message in messages):
        return "expected at least one assistant message"
    return None


def check_message(index: int, message: dict[str, Any]) -> str | None:
    """One chat turn in the OpenAI chat format, plus an assistant's optional `reasoning`."""
    calls = message.get("tool_calls")
    # An assistant turn that only calls tools may have null content, as the OpenAI format allows.
    if not isinstance(message.get("content"), str) and not (calls and message["content"] is None):
        return f"messages[{index}].content must be a string"
    if "reasoning" in message and not isinstance(message["reasoning"], str):
        return f"messages[{index}].reasoning must be a string"
    if calls is not None:
        if message["role"] != "assistant" or not isinstance(calls, list):
            return f"messages[{index}].tool_calls must be a list on an assistant message"
        for number, call in enumerate(calls):
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                return f"messages[{index}].tool_calls[{number}].function.name must be a string"
            if not isinstance(function.get("arguments", {}), (str, dict)):
                return (
                    f"messages[{index}].tool_calls[{number}].function.arguments must be a JSON "
                    "string or an object"
                )
    for key in ("tool_call_id", "name"):
        if key in message and not isinstance(message[key], str):
            return f"messages[{index}].{key} must be a string"
    return None


def decode_line(number: int, raw: bytes, fmt: int, cap: int | None = None) -> dict[str, Any] | None:
    """Decode and check one line (without its newline): the record, None for a blank line, or
    InvalidData naming the line. `cap` is the per-record byte cap (read from the environment when
    left out; callers checking many lines pass it once)."""
    if not raw or raw.isspace():
        return None
    if cap is None:
        cap = limits.max_record_bytes()
    if len(raw) > cap:
        raise _too_long(number, cap)
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson is strict where the JSON grammar is not (integers beyond 64 bits, lone
        # surrogate escapes, nesting past 1024): the standard parser has the last word and words
        # the error, and what it accepts is checked for what orjson refused.
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise InvalidData(f"line {number}: not valid UTF-8 ({error})", line=number) from None
        except json.JSONDecodeError as error:
            raise InvalidData(f"line {number}: not valid JSON ({error})", line=number) from None
        except RecursionError:
            record = None
        surrogate = limits.lone_surrogate(record)
        if surrogate is not None:
            raise InvalidData(
                f"line {number}: a string holds the lone surrogate {surrogate}, which is not"
                " valid Unicode text",
                line=number,
            ) from None
    if record is None or _depth(record) > limits.MAX_NESTING_DEPTH:
        raise InvalidData(
            f"line {number}: JSON nested deeper than {limits.MAX_NESTING_DEPTH} levels",
            line=number,
        )
    problem = check_record(record, fmt)
    if problem is not None:
        raise InvalidData(f"line {number}: {problem}", line=number)
    return record


def _depth(record: Any) -> int:
    # Most records are an object of strings ({"text": ...}): one level, found without a walk.
    if type(record) is not dict:
        return limits.nesting_depth(record)
    for value in record.values():
        if type(value) not in _SCALARS:
            return limits.nesting_depth(record)
    return 1


def _too_long(number: int, cap: int) -> InvalidData:
    return InvalidData(
        f"line {number}: longer than the per-record cap of {cap} bytes"
        f" (midspec-worker serve --max-record-mb, or {limits.RECORD_BYTES_ENV})",
        line=number,
    )


class LineValidator:
    """Checks a JSONL file as its bytes arrive, in chunks of any size: each complete line is
    decoded and checked (InvalidData names the first bad one); a partial line waits for the rest.
    Holds one chunk and one partial line, never the file."""

    def __init__(self, fmt: int) -> None:
        self._fmt = fmt
        self._carry = b""
        self._line = 0
        self._cap = limits.max_record_bytes()
        self.records = 0

    def feed(self, chunk: bytes) -> None:
        lines = chunk.split(b"\n")
        if self._carry:
            lines[0] = self._carry + lines[0]
        self._carry = lines.pop()
        if self._fmt == datasets_pb2.DATASET_FORMAT_TEXT:
            self._text_lines(lines)
        else:
            for raw in lines:
                self._check(raw)
        if len(self._carry) > self._cap:  # a line that never ends must not be held whole
            raise _too_long(self._line + 1, self._cap)

    def _text_lines(self, lines: list[bytes]) -> None:
        """Text lines in one loop: a flat object with a non-empty string "text" is a valid record
        as it stands; anything else gets decode_line's whole check, which words the error."""
        loads, cap, scalars = orjson.loads, self._cap, _SCALARS
        number = self._line
        records = 0
        try:
            for raw in lines:
                number += 1
                if len(raw) <= cap:
                    try:
                        record = loads(raw)
                    except orjson.JSONDecodeError:
                        record = None
                    if type(record) is dict:
                        text = record.get("text")
                        if type(text) is str and text:
                            for value in record.values():
                                if type(value) not in scalars:
                                    break
                            else:
                                records += 1
                                continue
                if decode_line(number, raw, self._fmt, cap) is not None:
                    records += 1
        finally:
            self._line = number
            self.records += records

    def finish(self) -> int:
        """Check the last line (a file need not end with a newline); return the record count."""
        if self._carry:
            self._check(self._carry)
            self._carry = b""
        if self.records == 0:
            raise InvalidData("the dataset has no records")
        return self.records

    def _check(self, raw: bytes) -> None:
        self._line += 1
        if decode_line(self._line, raw, self._fmt, self._cap) is not None:
            self.records += 1


def validate_file(path: Path, fmt: int) -> int:
    """Check every line; return the number of records or raise InvalidData naming the line."""
    validator = LineValidator(fmt)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            validator.feed(chunk)
    return validator.finish()


def iter_records(path: Path, fmt: int) -> Iterator[dict[str, Any]]:
    for _, record in iter_numbered(path, fmt):
        yield record


def iter_numbered(path: Path, fmt: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """Valid records with their 1-based line numbers; InvalidData names the first bad line."""
    cap = limits.max_record_bytes()
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(cap + 2):  # never more than one capped line in memory
            number += 1
            record = decode_line(number, raw.rstrip(b"\r\n"), fmt, cap)
            if record is not None:
                yield number, record
