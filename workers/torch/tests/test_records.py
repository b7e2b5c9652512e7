from __future__ import annotations

import json
import random

import pytest
from helpers import CHAT, TEXT, chat_records, jsonl, text_records

from midspec_worker import limits, records
from midspec_worker.errors import InvalidData


def feed(data: bytes, fmt: int, cuts: list[int]) -> int:
    validator = records.LineValidator(fmt)
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        validator.feed(data[start:cut])
        start = cut
    return validator.finish()


@pytest.mark.parametrize("seed", range(20))
def test_chunk_boundaries_do_not_matter(seed):
    rng = random.Random(seed)
    data = jsonl(chat_records(15)) + b"\n  \r\n" + jsonl(chat_records(5))[:-1]  # no final newline
    cuts = [rng.randrange(len(data) + 1) for _ in range(rng.randrange(0, 30))]
    assert feed(data, CHAT, cuts) == 20
    bad = data + b'\n{"messages": [{"role": "robot", "content": "x"}]}\n'
    with pytest.raises(InvalidData) as caught:
        feed(bad, CHAT, cuts)
    assert caught.value.line == 23 and "role" in str(caught.value)


def test_lines_the_strict_parser_refuses_are_judged_by_the_grammar():
    big = json.dumps({"text": "a", "id": 10**30}).encode()
    surrogate = b'{"text": "\\ud800 alone"}'
    assert feed(big + b"\r\n", TEXT, [5]) == 1
    # The grammar allows a lone surrogate escape, but no UTF-8 text (or tokenizer) holds one.
    with pytest.raises(InvalidData, match="line 2: a string holds the lone surrogate"):
        feed(big + b"\n" + surrogate + b"\r\n", TEXT, [5])
    for raw, message in [(b"\xff\xfe{}", "not valid UTF-8"), (b"{'text': 1}", "not valid JSON")]:
        with pytest.raises(InvalidData) as caught:
            feed(jsonl(text_records(2)) + raw, TEXT, [])
        assert caught.value.line == 3 and message in str(caught.value)


def test_an_empty_file_has_no_records():
    with pytest.raises(InvalidData, match="no records"):
        feed(b"\n \n", TEXT, [1])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"text": 3}', 'non-empty string field "text"'),
        (b'{"text": ""}', 'non-empty string field "text"'),
        (b'["text"]', "expected a JSON object"),
        (b'{"txt": "a"}', 'non-empty string field "text"'),
        (b'{"text": "a", "e": ' + b"[" * 70 + b"]" * 70 + b"}", "deeper than 64 levels"),
        (b'{"text": "a \\udc00"}', "lone surrogate"),
        (b'{"text": "\xff"}', "not valid UTF-8"),
        (b'{"text": "a"}{"text": "b"}', "not valid JSON"),
        (b'{"text": "' + b"a" * 300 + b'"}', "per-record cap of 200 bytes"),
    ],
)
def test_every_bad_text_line_is_refused_among_good_ones(monkeypatch, raw, message):
    # Text lines take a one-loop path for the common record; what it does not accept outright
    # must still meet the whole check, wherever the chunks are cut.
    monkeypatch.setenv(limits.RECORD_BYTES_ENV, "200")
    good = jsonl(text_records(40)) + b'\n  \n{"text": "a", "meta": {"tags": ["x"]}, "n": null}\n'
    rng = random.Random(len(raw))
    data = good + raw + b"\n" + good
    for cuts in ([], [rng.randrange(len(data)) for _ in range(8)]):
        with pytest.raises(InvalidData) as caught:
            feed(data, TEXT, cuts)
        assert caught.value.line == 44 and message in str(caught.value), caught.value
    assert feed(good + good, TEXT, [len(good) // 3]) == 82
