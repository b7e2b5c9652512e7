"""Bounded inputs: per-record caps, nesting depth and lone surrogates refused with the line, and
documents truncated before they are tokenized whole."""

from __future__ import annotations

import grpc
import pytest
from helpers import TEXT, jsonl, text_records, trailers, upload

from midspec_worker import limits, records
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2
from midspec_worker.tokenizer import build_tokenizer
from midspec_worker.train import data

FMT = datasets_pb2.DATASET_FORMAT_TEXT


def _error(raw: bytes, number: int = 7) -> str:
    with pytest.raises(InvalidData) as caught:
        records.decode_line(number, raw, FMT)
    assert caught.value.line == number
    return caught.value.message


def test_a_line_over_the_cap_is_refused_with_the_cap_and_line(monkeypatch):
    monkeypatch.setenv(limits.RECORD_BYTES_ENV, "100")
    message = _error(b'{"text": "' + b"a" * 200 + b'"}')
    assert message.startswith("line 7: longer than the per-record cap of 100 bytes")
    assert "--max-record-mb" in message
    validator = records.LineValidator(FMT)
    validator.feed(b'{"text": "ok"}\n')
    with pytest.raises(InvalidData, match="line 2: longer than the per-record cap"):
        for _ in range(5):  # a line that never ends is refused before it is held whole
            validator.feed(b"b" * 40)


def test_deep_nesting_and_lone_surrogates_are_refused_with_the_line():
    deep = b'{"text": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert _error(deep) == "line 7: JSON nested deeper than 64 levels"
    assert _error(b'{"text": "x", "e": ' + b"[" * 70 + b"]" * 70 + b"}").endswith("64 levels")
    assert "lone surrogate \\ud800" in _error(b'{"text": "bad \\ud800 half"}')
    assert "lone surrogate \\udc00" in _error(b'{"text": "x", "\\udc00": 1}')
    assert "not valid UTF-8" in _error(b'{"text": "\xff"}')
    pair = records.decode_line(1, b'{"text": "\\ud83d\\ude00"}', FMT)
    assert pair == {"text": "\U0001f600"}


async def test_a_deeply_nested_upload_is_invalid_argument_and_leaves_nothing(stub, tmp_path):
    body = jsonl(text_records(3)) + b'{"text": "x", "e": ' + b"[" * 3000 + b"]" * 3000 + b"}\n"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, body, TEXT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "line 4: JSON nested deeper than 64 levels" in caught.value.details()
    assert trailers(caught.value).get("midspec-retryable", "false") == "false"
    assert list((tmp_path / "data" / "uploads").iterdir()) == []  # no stale .part


class _Counting:
    """A tokenizer that records how many characters each call was given."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def __call__(self, text, **options):
        self.calls.append(len(text))
        return self.inner(text, **options)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_documents_are_truncated_before_tokenizing():
    tokenizer = build_tokenizer()
    text = "The assistant explains the value behind each rule. " * 20000  # ~1 MB
    whole = tokenizer(text, add_special_tokens=False)["input_ids"]
    counting = _Counting(tokenizer)
    example = data.text_example(counting, text, 64)
    assert example.ids == whole[:64] and all(example.mask)
    assert max(counting.calls) < 10_000  # a prefix, not the megabyte
    short = data.text_example(tokenizer, "Short document.", 64)
    assert short.ids[-1] == tokenizer.eos_token_id
    # Long tokens (no spaces) need a longer prefix: it grows until enough ids come out.
    dense = "x" * 100_000
    expected = tokenizer(dense, add_special_tokens=False)["input_ids"][:64]
    assert data.text_example(tokenizer, dense, 64).ids == expected
