"""Range checks of every numeric and enum field of a request, at the gRPC boundary.

Protobuf decodes whatever a client sends: NaN and infinities in doubles, negative counts, uint64
values SQLite and torch cannot hold, enum numbers the contract does not define. Each would fail
deep inside (an OverflowError, a silent empty result, a sampler fed NaN) instead of being refused
with INVALID_ARGUMENT naming the field. One walk over the message's descriptor checks them all:
- floating-point fields must be finite;
- signed integer fields (counts, sizes, steps, offsets in this contract) must not be negative;
- unsigned 64-bit fields (sequence numbers, seeds) must fit in a signed 64-bit integer;
- enum fields must hold a value the contract defines.
Finer ranges (a learning rate above 0, top_p within [0, 1]) stay with the code that owns them.
"""

from __future__ import annotations

import math
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from midspec_worker.errors import InvalidRequest

INT64_MAX = 2**63 - 1
_FLOATS = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_SIGNED = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_UNSIGNED_64 = frozenset({FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64})
_MAX_PROBLEMS = 20


def check_request(request: Any) -> None:
    """Raise InvalidRequest listing the out-of-range fields of a request message, if any."""
    if not isinstance(request, Message):
        return  # a client stream (uploads): its messages are checked where they are read
    problems: list[str] = []
    _walk(request, "", problems)
    if problems:
        more = " …" if len(problems) > _MAX_PROBLEMS else ""
        raise InvalidRequest("; ".join(problems[:_MAX_PROBLEMS]) + more)


def _walk(message: Message, prefix: str, problems: list[str]) -> None:
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                for key, item in value.items():
                    _check(value_field, f"{path}[{key!r}]", item, problems)
            elif field.is_repeated:
                for index, item in enumerate(value):
                    _walk(item, f"{path}[{index}].", problems)
            else:
                _walk(value, f"{path}.", problems)
        elif field.is_repeated:
            for index, item in enumerate(value):
                _check(field, f"{path}[{index}]", item, problems)
        else:
            _check(field, path, value, problems)


def _check(field: FieldDescriptor, path: str, value: Any, problems: list[str]) -> None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        _walk(value, f"{path}.", problems)
    elif field.type in _FLOATS:
        if not math.isfinite(value):
            problems.append(f"{path} must be a finite number, got {value}")
    elif field.type in _SIGNED:
        if value < 0:
            problems.append(f"{path} must not be negative, got {value}")
    elif field.type in _UNSIGNED_64:
        if value > INT64_MAX:
            problems.append(f"{path} must be at most {INT64_MAX}, got {value}")
    elif field.type == FieldDescriptor.TYPE_ENUM:
        if value not in field.enum_type.values_by_number:
            names = ", ".join(v.name for v in field.enum_type.values)
            problems.append(f"{path}: {value} is not a {field.enum_type.name} ({names})")
