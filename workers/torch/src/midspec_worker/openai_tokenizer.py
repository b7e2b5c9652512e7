"""vLLM-style tokenizer routes beside the OpenAI API, so harnesses tokenize with the served model's
own tokenizer and chat template (lm-evaluation-harness's `tokenizer_backend=remote`).

    GET  /tokenizer_info?model=NAME   special tokens, chat template, context length, vocabulary size
    POST /tokenize    {"model", "prompt" | "messages", "add_special_tokens",
                       "add_generation_prompt"} -> {"tokens", "count", "max_model_len"}
    POST /detokenize  {"model", "tokens"} -> {"prompt"}

lm-evaluation-harness names no model on these calls: it sends them to its base URL with
`/v1/completions` cut off. So every route, the OpenAI ones included, is also served under
`/models/NAME/` (the name URL-encoded), and `base_url=http://HOST:PORT/models/NAME/v1/completions`
reaches that model's tokenizer; the completions body still names the model.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from midspec_worker.errors import InvalidRequest
from midspec_worker.inference.engine import Inference
from midspec_worker.inference.model_cache import LoadedModel, parse_name

PREFIX = "/models/{model:.+}"


def _model(request: web.Request, body: dict[str, Any]) -> str:
    name = request.match_info.get("model") or body.get("model") or request.query.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("model is required: in the body, ?model=, or the path /models/NAME/")
    return unquote(name)


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def _token(tokenizer: Any, name: str) -> str | None:
    value = getattr(tokenizer, name, None)
    return str(value) if value is not None else None


class TokenizerRoutes:
    def __init__(self, inference: Inference) -> None:
        self._inference = inference

    def add(self, app: web.Application, openai_routes: list[tuple[str, str, Any]]) -> None:
        """The tokenizer routes at the root and under /models/NAME/, with the OpenAI routes
        (method, path, handler) there too."""
        for prefix in ("", PREFIX):
            app.router.add_get(f"{prefix}/tokenizer_info", self.info)
            app.router.add_post(f"{prefix}/tokenize", self.tokenize)
            app.router.add_post(f"{prefix}/detokenize", self.detokenize)
        for method, path, handler in openai_routes:
            app.router.add_route(method, f"{PREFIX}{path}", handler)

    async def info(self, request: web.Request) -> web.Response:
        name = _model(request, {})

        def describe(loaded: LoadedModel) -> dict[str, Any]:
            tokenizer = loaded.tokenizer
            return {
                "model": name,
                "tokenizer_class": type(tokenizer).__name__,
                **{key: _token(tokenizer, key) for key in ("bos_token", "eos_token", "pad_token")},
                "unk_token": _token(tokenizer, "unk_token"),
                "chat_template": getattr(tokenizer, "chat_template", None),
                "model_max_length": loaded.context_length,
                "vocab_size": len(tokenizer),
            }

        return web.json_response(await self._inference.run(describe, parse_name(name)))

    async def tokenize(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = _model(request, body)
        prompt, messages = body.get("prompt"), body.get("messages")
        if (prompt is None) == (messages is None):
            raise InvalidRequest("give exactly one of prompt (a string) and messages (a chat)")
        if prompt is not None and not isinstance(prompt, str):
            raise InvalidRequest("prompt must be a string")
        if messages is not None and not (
            isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages)
        ):
            raise InvalidRequest("messages must be a non-empty list of {role, content} objects")
        generation = bool(body.get("add_generation_prompt", True))
        # A chat's template writes its own special tokens; a plain prompt gets the tokenizer's.
        special = bool(body.get("add_special_tokens", messages is None))

        def encode(loaded: LoadedModel) -> dict[str, Any]:
            tokenizer = loaded.tokenizer
            text = prompt
            if messages is not None:
                text = tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=generation
                )
            tokens = list(tokenizer(text, add_special_tokens=special).input_ids)
            return {"tokens": tokens, "count": len(tokens), "max_model_len": loaded.context_length}

        return web.json_response(await self._inference.run(encode, parse_name(name)))

    async def detokenize(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = _model(request, body)
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not all(
            isinstance(t, int) and not isinstance(t, bool) for t in tokens
        ):
            raise InvalidRequest("tokens must be a list of token ids")

        def decode(loaded: LoadedModel) -> dict[str, Any]:
            size = len(loaded.tokenizer)
            outside = [t for t in tokens if not 0 <= t < size]
            if outside:
                raise InvalidRequest(f"token id {outside[0]} is outside the vocabulary of {size}")
            return {"prompt": loaded.tokenizer.decode(tokens)}

        return web.json_response(await self._inference.run(decode, parse_name(name)))
