"""A few hundred seeded malformed gRPC and HTTP requests (tests/fuzz.py sends 10,000): no gRPC
INTERNAL/UNKNOWN, no HTTP 5xx, OpenAI-shaped HTTP errors, and a worker that still serves."""

from __future__ import annotations

import os

from fuzz import TOKEN, fuzz, healthy

from midspec_worker.openai_http import OpenAIServer


async def test_malformed_requests_get_client_errors_and_the_worker_survives(worker):
    openai = OpenAIServer(worker.inference, token=TOKEN)
    http_port = await openai.start("127.0.0.1", 0)
    try:
        seed = int(os.environ.get("MIDSPEC_FUZZ_SEED", "3"))
        tally = await fuzz(worker.port, http_port, 300, 300, seed)
        assert tally.failures == []
        assert sum(tally.grpc_codes.values()) == 300 and sum(tally.http_statuses.values()) == 300
        assert tally.grpc_codes["INVALID_ARGUMENT"] > 50  # the generator does reach validation
        assert tally.http_statuses[400] > 50
        assert await healthy(worker.port, http_port)
    finally:
        await openai.stop()
