"""The inference service behind Sample, SampleStream, ScoreLogprobs, Tokenize and the OpenAI API.

Every model computation (loading, tokenizing, generating, scoring) runs on one dedicated thread, so
the event loop keeps serving gRPC while the model works, and the models and tokenizers are never
used from two threads at once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from midspec_worker.errors import InvalidRequest, LimitExceeded
from midspec_worker.gen.midspec.worker.v1 import common_pb2, inference_pb2
from midspec_worker.inference import sampler, scoring
from midspec_worker.inference.batcher import Batcher, Event, SampleJob
from midspec_worker.inference.model_cache import LoadedModel, ModelCache, Resolved
from midspec_worker.store import Store

T = TypeVar("T")

MAX_N = 64
MAX_ROWS = 256
MAX_PROMPTS = 256
MAX_NEW_TOKENS = 4096
DEFAULT_MAX_TOKENS = 256
MAX_STOP_STRINGS = 16
MAX_SCORE_ITEMS = 4096
MAX_TEXTS = 4096
SCORE_BATCH_SIZE = 16
MAX_BATCH_SIZE = 256


@dataclass(frozen=True)
class Limits:
    max_batch_size: int = 16
    batch_window_seconds: float = 0.005
    # False: static batching (a batch runs to completion before the next is admitted).
    continuous: bool = True
    cache_size: int = 2


def _limit(value: int, most: int, what: str) -> None:
    if value > most:
        raise LimitExceeded(f"{what} is {value}; this worker allows at most {most}")


def encode_prompt(tokenizer: Any, prompt: common_pb2.Prompt) -> list[int]:
    kind = prompt.WhichOneof("prompt")
    if kind == "chat":
        messages = [{"role": m.role, "content": m.content} for m in prompt.chat.messages]
        if not messages:
            raise InvalidRequest("a chat prompt needs at least one message")
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return list(tokenizer(text, add_special_tokens=False).input_ids)
    if kind == "text":
        return list(tokenizer(prompt.text).input_ids)
    raise InvalidRequest("every prompt needs text or chat")


def check_context(loaded: LoadedModel, ids: list[int], what: str) -> None:
    if len(ids) > loaded.context_length:
        raise InvalidRequest(
            f"{what} is {len(ids)} tokens, longer than the model's context of "
            f"{loaded.context_length} tokens"
        )


def params_of(request: inference_pb2.SamplingParams, prompt_length: int, context: int) -> Any:
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    return sampler.Params(
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        # Generation ends where the context does: the rest of max_tokens is cut (finish LENGTH).
        max_tokens=min(max_tokens, context - prompt_length),
        stop=tuple(s for s in request.stop if s),
        logprobs=request.logprobs,
    )


def _validate_params(params: inference_pb2.SamplingParams, prompts: int) -> int:
    n = params.n or 1
    problems = []
    if params.n < 0:
        problems.append(f"n must be positive, got {params.n}")
    if params.max_tokens < 0:
        problems.append(f"max_tokens must be >= 0, got {params.max_tokens}")
    if params.temperature < 0:
        problems.append(f"temperature must be >= 0, got {params.temperature}")
    if not 0 <= params.top_p <= 1:
        problems.append(f"top_p must be within [0, 1], got {params.top_p}")
    if params.top_k < 0:
        problems.append(f"top_k must be >= 0, got {params.top_k}")
    if problems:
        raise InvalidRequest("; ".join(problems))
    if prompts == 0:
        raise InvalidRequest("prompts is empty")
    _limit(n, MAX_N, "n")
    _limit(prompts, MAX_PROMPTS, "the number of prompts")
    _limit(prompts * n, MAX_ROWS, "prompts × n")
    _limit(params.max_tokens, MAX_NEW_TOKENS, "max_tokens")
    _limit(len(params.stop), MAX_STOP_STRINGS, "the number of stop strings")
    return n


class Inference:
    def __init__(self, data_dir: Path, store: Store, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.data_dir = data_dir
        _limit(self.limits.max_batch_size, MAX_BATCH_SIZE, "max_batch_size")
        device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        self.cache = ModelCache(data_dir, store, device, dtype, self.limits.cache_size)
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="midspec-inference", initializer=_init_thread
        )
        self._batcher = Batcher(
            self.cache,
            self._executor,
            self.limits.max_batch_size,
            self.limits.batch_window_seconds,
            self.limits.continuous,
        )

    def start(self) -> None:
        self._batcher.start()

    async def stop(self) -> None:
        await self._batcher.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        self._batcher.yield_soon()
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run fn on the inference thread (model exports share it with generation)."""
        return await self._call(fn)

    async def sample(
        self, request: inference_pb2.SampleRequest, prompt_ids: list[list[int]] | None = None
    ) -> SampleJob:
        """Validate, tokenize and enqueue; iterate the job's events() for the results.

        prompt_ids, when given, replaces the request's prompts (already tokenized, as the OpenAI
        completions endpoint may send them).
        """
        n = _validate_params(request.params, len(request.prompts))
        resolved = self.cache.resolve(request.model)
        encoded = await self._call(self._encode, resolved, list(request.prompts), prompt_ids)
        job = SampleJob(asyncio.get_running_loop(), resolved)
        base_seed = request.params.seed if request.params.HasField("seed") else None
        for prompt_index, (ids, context) in enumerate(encoded):
            params = params_of(request.params, len(ids), context)
            for completion_index in range(n):
                generator = torch.Generator()
                if base_seed is None:
                    generator.manual_seed(secrets.randbits(63))
                else:
                    # Every completion gets its own stream, fixed by (seed, prompt, completion).
                    mixed = (base_seed * 1_000_003 + prompt_index) * 1_000_003 + completion_index
                    mixed %= 2**63
                    generator.manual_seed(mixed)
                job.rows.append(
                    sampler.Row(
                        prompt_ids=ids,
                        params=params,
                        generator=generator,
                        emit=job.emitter(prompt_index, completion_index),
                        cancelled=lambda: job.cancelled,
                    )
                )
        self._batcher.submit(job)
        return job

    async def sample_all(
        self, request: inference_pb2.SampleRequest, prompt_ids: list[list[int]] | None = None
    ) -> list[list[Any]]:
        job = await self.sample(request, prompt_ids)
        n = len(job.rows) // len(request.prompts)
        results: list[list[Any]] = [[None] * n for _ in request.prompts]
        async for event in job.events():
            if event.completion is not None:
                results[event.prompt_index][event.completion_index] = event.completion
        return results

    def _encode(
        self,
        resolved: Resolved,
        prompts: list[common_pb2.Prompt],
        prompt_ids: list[list[int]] | None,
    ) -> list[tuple[list[int], int]]:
        loaded = self.cache.get(resolved)
        vocabulary = loaded.model.config.vocab_size
        encoded = []
        for index, prompt in enumerate(prompts):
            if prompt_ids is None:
                ids = encode_prompt(loaded.tokenizer, prompt)
            else:
                ids = prompt_ids[index]
                if not ids or not all(0 <= t < vocabulary for t in ids):
                    raise InvalidRequest(f"prompt {index}: token ids must be in [0, {vocabulary})")
            check_context(loaded, ids, f"prompt {index}")
            encoded.append((ids, loaded.context_length))
        return encoded

    async def score(self, request: inference_pb2.ScoreLogprobsRequest) -> list[Any]:
        if not request.items:
            raise InvalidRequest("items is empty")
        _limit(len(request.items), MAX_SCORE_ITEMS, "the number of items")
        resolved = self.cache.resolve(request.model)
        return await self._call(self._score, resolved, list(request.items), request.per_token)

    def _score(
        self, resolved: Resolved, items: list[inference_pb2.ScoreItem], per_token: bool
    ) -> list[inference_pb2.ScoreResult]:
        loaded = self.cache.get(resolved)
        tokenizer = loaded.tokenizer
        sequences, starts, prompt_lengths = [], [], []
        for index, item in enumerate(items):
            prompt = encode_prompt(tokenizer, item.prompt)
            continuation = list(tokenizer(item.continuation, add_special_tokens=False).input_ids)
            if not continuation:
                raise InvalidRequest(f"item {index}: the continuation is empty")
            prompt_lengths.append(len(prompt))
            # With nothing before it, the continuation is conditioned on EOS as a document start.
            context = prompt or [tokenizer.eos_token_id]
            check_context(loaded, context + continuation, f"item {index} (prompt + continuation)")
            sequences.append(context + continuation)
            starts.append(len(context))
        scored = scoring.score_tokens(loaded, sequences, starts, SCORE_BATCH_SIZE)
        results = []
        for tokens, prompt_length in zip(scored, prompt_lengths, strict=True):
            result = inference_pb2.ScoreResult(
                logprob=sum(t.logprob for t in tokens),
                is_greedy=all(t.token_id == t.greedy_id for t in tokens),
                prompt_tokens=prompt_length,
                continuation_tokens=len(tokens),
            )
            if per_token:
                result.tokens.extend(
                    inference_pb2.TokenLogprob(
                        token=tokenizer.decode([t.token_id]), token_id=t.token_id, logprob=t.logprob
                    )
                    for t in tokens
                )
            results.append(result)
        return results

    async def tokenize(self, request: inference_pb2.TokenizeRequest) -> list[list[int]]:
        _limit(len(request.texts), MAX_TEXTS, "the number of texts")
        resolved = self.cache.resolve(request.model)
        return await self._call(self._tokenize, resolved, list(request.texts))

    def _tokenize(self, resolved: Resolved, texts: list[str]) -> list[list[int]]:
        tokenizer = self.cache.get(resolved).tokenizer
        return [list(tokenizer(text).input_ids) for text in texts]

    async def run(self, fn: Callable[[LoadedModel], T], ref: common_pb2.ModelRef) -> T:
        """Run fn with the loaded model on the inference thread (for the OpenAI endpoints)."""
        resolved = self.cache.resolve(ref)
        return await self._call(lambda: fn(self.cache.get(resolved)))


def _init_thread() -> None:
    threads = os.environ.get("MIDSPEC_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))


__all__ = ["Event", "Inference", "Limits"]
