from __future__ import annotations

import asyncio
import hashlib

import grpc
import pytest
from helpers import CHAT, TEXT, chat_records, header, jsonl, text_records, trailers, upload

from midspec_worker.gen.midspec.worker.v1 import datasets_pb2


async def test_upload_stores_and_deduplicates(stub, worker, tmp_path):
    data = jsonl(text_records(5))
    first = await upload(stub, data, TEXT, chunk=7)
    sha = hashlib.sha256(data).hexdigest()
    assert not first.already_existed
    assert first.dataset.id == sha and first.dataset.num_records == 5
    assert (tmp_path / "data" / "datasets" / f"{sha}.jsonl").read_bytes() == data
    again = await upload(stub, data, TEXT, name="other.jsonl")
    assert again.already_existed and again.dataset.id == sha
    listed = await stub.ListDatasets(datasets_pb2.ListDatasetsRequest())
    assert [d.id for d in listed.datasets] == [sha]
    got = await stub.GetDataset(datasets_pb2.GetDatasetRequest(dataset_id=sha))
    assert got.format == TEXT and got.size_bytes == len(data)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [({"sha256": "0" * 64}, "sha256 mismatch"), ({"size_bytes": 10}, "more than the declared")],
)
async def test_checksum_or_size_mismatch_stores_nothing(stub, tmp_path, overrides, fragment):
    data = jsonl(text_records(3))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data, TEXT, **overrides)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in caught.value.details()
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_CHECKSUM_MISMATCH"
    assert trailers(caught.value)["midspec-retryable"] == "false"
    assert list((tmp_path / "data" / "datasets").iterdir()) == []
    assert list((tmp_path / "data" / "uploads").iterdir()) == []


async def test_malformed_line_is_named(stub, tmp_path):
    data = jsonl(text_records(2)) + b'{"text": "fine"}\n{"text": 3}\n'
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data, TEXT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "line 4" in caught.value.details()
    assert trailers(caught.value)["midspec-line"] == "4"
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_INVALID_DATA"
    assert list((tmp_path / "data" / "datasets").iterdir()) == []


async def test_wrong_format_is_rejected(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, jsonl(text_records(2)), CHAT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "line 1" in caught.value.details() and "messages" in caught.value.details()
    no_assistant = jsonl([{"messages": [{"role": "user", "content": "hi"}]}])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, no_assistant, CHAT)
    assert "assistant" in caught.value.details()


async def test_bad_name_and_unknown_dataset(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, jsonl(chat_records(1)), CHAT, name="../../etc/passwd")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_INVALID_REQUEST"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetDataset(datasets_pb2.GetDatasetRequest(dataset_id="f" * 64))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_DATASET_NOT_FOUND"


async def test_interrupted_upload_resumes(stub, tmp_path):
    data = jsonl(chat_records(20))
    sha = hashlib.sha256(data).hexdigest()
    half = len(data) // 2

    call = stub.UploadDataset()
    await call.write(datasets_pb2.UploadDatasetRequest(header=header(data, CHAT)))
    await call.write(datasets_pb2.UploadDatasetRequest(chunk=data[:half]))
    await asyncio.sleep(0.2)
    call.cancel()  # the connection breaks mid-upload
    for _ in range(50):
        status = await stub.GetUploadStatus(datasets_pb2.GetUploadStatusRequest(sha256=sha))
        if status.received_bytes == half:
            break
        await asyncio.sleep(0.1)
    assert not status.complete and status.received_bytes == half
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(
            stub, data[half + 1 :], CHAT, offset=half + 1, sha256=sha, size_bytes=len(data)
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    done = await upload(stub, data[half:], CHAT, offset=half, sha256=sha, size_bytes=len(data))
    assert done.dataset.id == sha and done.dataset.num_records == 20
    status = await stub.GetUploadStatus(datasets_pb2.GetUploadStatusRequest(sha256=sha))
    assert status.complete and status.dataset.id == sha


async def test_short_stream_is_an_interrupted_upload(stub, tmp_path):
    data = jsonl(text_records(5))
    half = len(data) // 2
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data[:half], TEXT, sha256=sha, size_bytes=len(data))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailers(caught.value)["midspec-retryable"] == "true"
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_BAD_STATE"
    assert f"header.offset={half}" in caught.value.details()
    status = await stub.GetUploadStatus(datasets_pb2.GetUploadStatusRequest(sha256=sha))
    assert status.received_bytes == half and not status.complete
    done = await upload(stub, data[half:], TEXT, offset=half, sha256=sha, size_bytes=len(data))
    assert done.dataset.num_records == 5


async def test_upload_idempotency_key(stub):
    first = await upload(stub, jsonl(text_records(2)), TEXT, idempotency_key="docs-v1")
    again = await upload(stub, jsonl(text_records(2)), TEXT, idempotency_key="docs-v1")
    assert again.already_existed and again.dataset.id == first.dataset.id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, jsonl(text_records(3)), TEXT, idempotency_key="docs-v1")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_IDEMPOTENCY_CONFLICT"


async def test_first_bad_line_ends_the_upload_before_the_rest_arrives(stub, tmp_path):
    good = jsonl(text_records(50))
    data = b'{"text": "ok"}\n{"text": 3}\n' + good * 40
    call = stub.UploadDataset()
    await call.write(datasets_pb2.UploadDatasetRequest(header=header(data, TEXT)))
    await call.write(datasets_pb2.UploadDatasetRequest(chunk=data[:100]))
    # The worker answers without waiting for the remaining bytes: the stream is still open.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(call, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["midspec-line"] == "2"
    assert list((tmp_path / "data" / "uploads").iterdir()) == []


async def test_resumed_upload_checks_the_held_bytes_too(stub, tmp_path):
    # The bad line lies wholly in the bytes of the first, interrupted stream, and the line
    # numbering of the resumed stream continues from them.
    data = jsonl(text_records(3)) + b'{"text": ""}\n' + jsonl(text_records(30))
    sha = hashlib.sha256(data).hexdigest()
    cut = len(jsonl(text_records(3))) + 20
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data[:cut], TEXT, sha256=sha, size_bytes=len(data), chunk=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(caught.value)["midspec-line"] == "4"
    status = await stub.GetUploadStatus(datasets_pb2.GetUploadStatusRequest(sha256=sha))
    assert status.received_bytes == 0
    # A file whose bad line arrives only after the resume.
    data = jsonl(text_records(3)) + b"{broken\n"
    sha = hashlib.sha256(data).hexdigest()
    half = len(jsonl(text_records(2))) + 3
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data[:half], TEXT, sha256=sha, size_bytes=len(data))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(stub, data[half:], TEXT, offset=half, sha256=sha, size_bytes=len(data))
    assert trailers(caught.value)["midspec-line"] == "4"
    assert "not valid JSON" in caught.value.details()
