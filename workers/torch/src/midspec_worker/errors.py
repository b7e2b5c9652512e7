"""Domain errors and the one table that maps them to gRPC status codes.

Every failed call carries trailing metadata so clients can act without parsing messages:
"midspec-reason" (an ErrorReason name), "midspec-retryable" and, for bad data, "midspec-line".
"""

from __future__ import annotations

import grpc


class MidspecError(Exception):
    """Base of every error the worker reports to clients."""

    reason = "ERROR_REASON_INTERNAL"
    retryable = False

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class InvalidRequest(MidspecError):
    reason = "ERROR_REASON_INVALID_REQUEST"


class InvalidData(MidspecError):
    reason = "ERROR_REASON_INVALID_DATA"


class ChecksumMismatch(MidspecError):
    reason = "ERROR_REASON_CHECKSUM_MISMATCH"


class DatasetNotFound(MidspecError):
    reason = "ERROR_REASON_DATASET_NOT_FOUND"


class RunNotFound(MidspecError):
    reason = "ERROR_REASON_RUN_NOT_FOUND"


class CheckpointNotFound(MidspecError):
    reason = "ERROR_REASON_CHECKPOINT_NOT_FOUND"


class ModelNotFound(MidspecError):
    reason = "ERROR_REASON_MODEL_NOT_FOUND"


class IdempotencyConflict(MidspecError):
    reason = "ERROR_REASON_IDEMPOTENCY_CONFLICT"


class Unsupported(MidspecError):
    reason = "ERROR_REASON_UNSUPPORTED"


class LimitExceeded(MidspecError):
    reason = "ERROR_REASON_LIMIT_EXCEEDED"


class MessageTooLarge(LimitExceeded):
    """A gRPC message over the worker's size limit (RESOURCE_EXHAUSTED, like gRPC core's own)."""


class BadState(MidspecError):
    reason = "ERROR_REASON_BAD_STATE"


class Busy(MidspecError):
    """Something else holds the resource right now; trying again later may succeed."""

    reason = "ERROR_REASON_BAD_STATE"
    retryable = True


class UploadIncomplete(BadState):
    """An upload stream ended early; the bytes are kept and the client resumes from them."""

    retryable = True


class Unauthenticated(MidspecError):
    reason = "ERROR_REASON_UNAUTHENTICATED"


class Internal(MidspecError):
    reason = "ERROR_REASON_INTERNAL"
    retryable = True


# The one table: checked in order, so subclasses must come before their bases.
STATUS_CODES: tuple[tuple[type[MidspecError], grpc.StatusCode], ...] = (
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidData, grpc.StatusCode.INVALID_ARGUMENT),
    (ChecksumMismatch, grpc.StatusCode.INVALID_ARGUMENT),
    (DatasetNotFound, grpc.StatusCode.NOT_FOUND),
    (RunNotFound, grpc.StatusCode.NOT_FOUND),
    (CheckpointNotFound, grpc.StatusCode.NOT_FOUND),
    (ModelNotFound, grpc.StatusCode.NOT_FOUND),
    (IdempotencyConflict, grpc.StatusCode.ALREADY_EXISTS),
    (Unsupported, grpc.StatusCode.UNIMPLEMENTED),
    (MessageTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (LimitExceeded, grpc.StatusCode.INVALID_ARGUMENT),
    (Busy, grpc.StatusCode.ABORTED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (BadState, grpc.StatusCode.FAILED_PRECONDITION),
    (Internal, grpc.StatusCode.INTERNAL),
    (MidspecError, grpc.StatusCode.INTERNAL),
)


def status_code(error: MidspecError) -> grpc.StatusCode:
    for cls, code in STATUS_CODES:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INTERNAL


def trailing_metadata(error: MidspecError) -> tuple[tuple[str, str], ...]:
    metadata = [
        ("midspec-reason", error.reason),
        ("midspec-retryable", "true" if error.retryable else "false"),
    ]
    if error.line is not None:
        metadata.append(("midspec-line", str(error.line)))
    return tuple(metadata)
