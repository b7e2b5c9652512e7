"""An OpenAI-compatible HTTP API over the same inference service as the gRPC Sample RPCs.

/v1/models, /v1/chat/completions and /v1/completions (both with `stream`), and vLLM-style
/tokenizer_info, /tokenize and /detokenize (openai_tokenizer.py), so existing harnesses
and the official SDKs reach worker checkpoints with only a base URL. /v1/completions supports
`echo` with `logprobs` (and max_tokens 0), which log-likelihood harnesses such as
lm-evaluation-harness use for choice evals. Model names: "tiny:llama", a local folder, or
"run:<run_id>[/<checkpoint_id>][@adapter]" (merged unless @adapter).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import grpc
from aiohttp import web

from midspec_worker import errors, models, openai_validation
from midspec_worker.errors import InvalidRequest, MidspecError
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2
from midspec_worker.inference import scoring
from midspec_worker.inference.engine import Inference
from midspec_worker.inference.model_cache import LoadedModel, parse_name
from midspec_worker.openai_chat import ChatCompletions
from midspec_worker.openai_tokenizer import TokenizerRoutes

log = logging.getLogger("midspec.openai")
FINISH = {inference_pb2.FINISH_REASON_STOP: "stop", inference_pb2.FINISH_REASON_LENGTH: "length"}
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 413,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}
COMPLETIONS_DEFAULT_MAX_TOKENS = 16


def _error(error: MidspecError) -> web.Response:
    status = HTTP_STATUS.get(errors.status_code(error), 500)
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": error.message, "type": kind, "param": None, "code": error.reason}}
    return web.json_response(body, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except MidspecError as error:
        return _error(error)
    except web.HTTPException as error:  # unknown route, wrong method, body too large
        return openai_validation.http_error(error)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        return _error(InvalidRequest(f"malformed request body: {error}"))
    except Exception as error:  # noqa: BLE001 - a fault of ours still answers in OpenAI's shape
        log.exception("OpenAI endpoint failed")
        return _error(errors.Internal(f"internal error: {type(error).__name__}"))


def _bearer(token: str | None) -> Any:
    expected = f"Bearer {token}" if token else None

    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        # The same token as the gRPC API: OpenAI clients send it as their api_key.
        # As bytes: compare_digest refuses non-ASCII str, and a header may hold anything.
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        if expected is not None and not secrets.compare_digest(given, expected.encode()):
            body = {
                "error": {
                    "message": "missing or wrong bearer token: pass the worker's --token "
                    "(or $MIDSPEC_WORKER_TOKEN) as the API key",
                    "type": "authentication_error",
                    "param": None,
                    "code": "ERROR_REASON_UNAUTHENTICATED",
                }
            }
            return web.json_response(body, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    return check


def _stops(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(s) for s in value]


def _params(body: dict[str, Any], max_tokens: int) -> inference_pb2.SamplingParams:
    params = inference_pb2.SamplingParams(
        n=int(body.get("n") or 1),
        temperature=float(1.0 if body.get("temperature") is None else body["temperature"]),
        top_p=float(body.get("top_p") or 0),
        top_k=int(body.get("top_k") or 0),
        max_tokens=max_tokens,
        stop=_stops(body.get("stop")),
        logprobs=bool(body.get("logprobs")),
    )
    if body.get("seed") is not None:
        params.seed = int(body["seed"]) & (2**64 - 1)
    return params


async def _sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response


async def _send(response: web.StreamResponse, payload: Any) -> None:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    await response.write(f"data: {data}\n\n".encode())


class OpenAIServer:
    def __init__(self, inference: Inference, token: str | None = None) -> None:
        self._inference = inference
        self._token = token
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        app = web.Application(
            middlewares=[_bearer(self._token), _errors], client_max_size=64 * 1024 * 1024
        )
        routes = [
            ("GET", "/v1/models", self._models),
            ("POST", "/v1/chat/completions", ChatCompletions(self._inference).handle),
            ("POST", "/v1/completions", self._completions),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        TokenizerRoutes(self._inference).add(app, routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        created = int(time.time())
        names = [models.TINY_PREFIX + name for name in models.BUILTIN]
        names += self._inference.cache.checkpoint_names()
        data = [
            {"id": n, "object": "model", "created": created, "owned_by": "midspec"} for n in names
        ]
        return web.json_response({"object": "list", "data": data})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        openai_validation.check_completions(body)
        name = str(body["model"])
        ref = parse_name(name)
        prompts = await self._prompt_ids(ref, body.get("prompt", ""))
        max_tokens = body.get("max_tokens")
        max_tokens = COMPLETIONS_DEFAULT_MAX_TOKENS if max_tokens is None else int(max_tokens)
        top = body.get("logprobs")
        top = None if top is None or top is False else int(top)
        echo = bool(body.get("echo"))
        n = int(body.get("n") or 1)
        openai_validation.check_budget(prompts, n, max_tokens)
        params = _params({**body, "logprobs": top is not None}, max_tokens)
        ident, created = f"cmpl-{secrets.token_hex(12)}", int(time.time())
        head = {"id": ident, "object": "text_completion", "created": created, "model": name}
        echoed = await self._echo(ref, prompts, top) if echo else None
        sample = inference_pb2.SampleRequest(
            model=ref, prompts=[common_pb2.Prompt(text="")] * len(prompts), params=params
        )
        if body.get("stream"):
            response = await _sse(request)
            if max_tokens > 0:
                job = await self._inference.sample(sample, prompt_ids=prompts)
                if echoed is not None:
                    for index in range(len(job.rows)):
                        choice = {"index": index, "text": echoed[index // n][0], "logprobs": None}
                        await _send(
                            response, {**head, "choices": [{**choice, "finish_reason": None}]}
                        )
                async for event in job.events():
                    index = event.prompt_index * n + event.completion_index
                    finish = None
                    if event.completion is not None:
                        finish = FINISH.get(event.completion.finish_reason, "stop")
                    if event.delta or finish:
                        choice = {"index": index, "text": event.delta, "logprobs": None}
                        await _send(
                            response, {**head, "choices": [{**choice, "finish_reason": finish}]}
                        )
            else:
                for index in range(len(prompts) * n):
                    text = echoed[index // n][0] if echoed is not None else ""
                    choice = {
                        "index": index,
                        "text": text,
                        "logprobs": None,
                        "finish_reason": "length",
                    }
                    await _send(response, {**head, "choices": [choice]})
            await _send(response, "[DONE]")
            await response.write_eof()
            return response
        if max_tokens > 0:
            results = await self._inference.sample_all(sample, prompt_ids=prompts)
        else:
            empty = inference_pb2.Completion(finish_reason=inference_pb2.FINISH_REASON_LENGTH)
            results = [[empty] * n for _ in prompts]
        choices, usage = [], {"prompt_tokens": 0, "completion_tokens": 0}
        for prompt_index, completions in enumerate(results):
            usage["prompt_tokens"] += len(prompts[prompt_index])
            for completion_index, done in enumerate(completions):
                usage["completion_tokens"] += done.completion_tokens
                text, logprobs = done.text, None
                if top is not None:
                    logprobs = _completion_logprobs(done, top)
                if echoed is not None:
                    prefix, prefix_logprobs = echoed[prompt_index]
                    text = prefix + text
                    logprobs = _join(prefix_logprobs, logprobs) if top is not None else None
                choices.append(
                    {
                        "index": prompt_index * n + completion_index,
                        "text": text,
                        "logprobs": logprobs,
                        "finish_reason": FINISH.get(done.finish_reason, "length"),
                    }
                )
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return web.json_response({**head, "choices": choices, "usage": usage})

    async def _prompt_ids(self, ref: common_pb2.ModelRef, prompt: Any) -> list[list[int]]:
        """Completions prompts come as a string, strings, token ids, or lists of token ids."""
        if isinstance(prompt, str):
            prompt = [prompt]
        if not isinstance(prompt, list) or not prompt:
            raise InvalidRequest("prompt must be a string, a list of strings or of token ids")
        if all(isinstance(p, int) for p in prompt):
            return [list(prompt)]
        if all(isinstance(p, list) for p in prompt):
            return [[int(t) for t in p] for p in prompt]

        def encode(loaded: LoadedModel) -> list[list[int]]:
            return [list(loaded.tokenizer(str(p)).input_ids) for p in prompt]

        return await self._inference.run(encode, ref)

    async def _echo(
        self, ref: common_pb2.ModelRef, prompts: list[list[int]], top: int | None
    ) -> list[tuple[str, dict[str, Any] | None]]:
        """The prompts' text and, when asked, their tokens' log-probabilities (first: None)."""

        def score(loaded: LoadedModel) -> list[tuple[str, dict[str, Any] | None]]:
            openai_validation.check_token_ids(prompts, loaded.model.config.vocab_size)
            tokenizer = loaded.tokenizer
            echoed: list[tuple[str, dict[str, Any] | None]] = []
            scored: list[list[scoring.TokenScore]] = [[] for _ in prompts]
            scorable = [i for i, ids in enumerate(prompts) if len(ids) > 1]
            if top is not None and scorable:
                results = scoring.score_tokens(
                    loaded,
                    [prompts[i] for i in scorable],
                    [1] * len(scorable),
                    batch_size=16,
                    top=max(1, top),
                )
                for i, result in zip(scorable, results, strict=True):
                    scored[i] = result
            for ids, tokens in zip(prompts, scored, strict=True):
                pieces = [tokenizer.decode([t]) for t in ids]
                text = tokenizer.decode(ids)
                if top is None:
                    echoed.append((text, None))
                    continue
                first: list[Any] = [None] if ids else []
                echoed.append(
                    (
                        text,
                        {
                            "tokens": pieces,
                            "token_logprobs": first + [t.logprob for t in tokens],
                            "top_logprobs": first
                            + [
                                {tokenizer.decode([i]): lp for i, lp in t.top} or None
                                for t in tokens
                            ],
                            "text_offset": _offsets(pieces, 0),
                        },
                    )
                )
            return echoed

        for index, ids in enumerate(prompts):
            if len(ids) == 0:
                raise InvalidRequest(f"prompt {index} is empty")
        return await self._inference.run(score, ref)


def _offsets(pieces: list[str], start: int) -> list[int]:
    offsets, position = [], start
    for piece in pieces:
        offsets.append(position)
        position += len(piece)
    return offsets


def _completion_logprobs(done: inference_pb2.Completion, top: int) -> dict[str, Any]:
    pieces = [t.token for t in done.logprobs]
    return {
        "tokens": pieces,
        "token_logprobs": [t.logprob for t in done.logprobs],
        # Alternatives are not kept while sampling: each position lists the chosen token only.
        "top_logprobs": [{t.token: t.logprob} for t in done.logprobs] if top > 0 else None,
        "text_offset": _offsets(pieces, 0),
    }


def _join(prefix: dict[str, Any] | None, rest: dict[str, Any] | None) -> dict[str, Any] | None:
    if prefix is None or rest is None:
        return prefix or rest
    start = sum(len(p) for p in prefix["tokens"])
    return {
        "tokens": prefix["tokens"] + rest["tokens"],
        "token_logprobs": prefix["token_logprobs"] + rest["token_logprobs"],
        "top_logprobs": prefix["top_logprobs"] + (rest["top_logprobs"] or []),
        "text_offset": prefix["text_offset"] + _offsets(rest["tokens"], start),
    }


def _usage(completions: list[inference_pb2.Completion]) -> dict[str, int]:
    prompt = completions[0].prompt_tokens if completions else 0
    generated = sum(c.completion_tokens for c in completions)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }
