"""Per-row token choice and bookkeeping: sampling, streaming deltas, stop strings and finishing.

running_batch.py runs the forward passes; this decides what each row does with its logits. Runs on
the inference thread only. Each row has its own parameters, its own torch.Generator and
its own stop conditions, so requests with different settings share a batch. A seeded row draws
one vocabulary's worth of numbers from its own generator per token, so its random stream never
depends on the batch; its logits can differ from a solo run in the last bits of float rounding
(padding changes reduction shapes), which the exponential race (see choose) does not amplify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from midspec_worker.gen.midspec.worker.v1 import inference_pb2
from midspec_worker.inference.model_cache import LoadedModel

STOP = inference_pb2.FINISH_REASON_STOP
LENGTH = inference_pb2.FINISH_REASON_LENGTH


@dataclass(frozen=True)
class Params:
    temperature: float
    top_p: float
    top_k: int
    max_tokens: int
    stop: tuple[str, ...]
    logprobs: bool


@dataclass
class Row:
    """One completion being generated; `emit` is called on the inference thread."""

    prompt_ids: list[int]
    params: Params
    generator: torch.Generator
    emit: Callable[[str, inference_pb2.Completion | None], None]
    cancelled: Callable[[], bool]
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    sent: int = 0
    done: bool = False


def choose(
    logits: torch.Tensor, params: list[Params], generators: list[torch.Generator]
) -> list[int]:
    """Pick each row's next token from logits (float32, [rows, vocab]), vectorised over rows.

    Sampling is an exponential race (as vLLM samples seeded requests): the token with the largest
    p / q, q drawn from Exponential(1) per token from the row's own generator, which picks each
    token with probability p. Unlike an inverse-CDF draw, whose cumulative sum moves with the last
    bits of every logit, a pick only changes when two tokens' p / q agree to float rounding, so a
    seeded row samples the same tokens alone and in any batch.
    """
    greedy = torch.argmax(logits, dim=-1).tolist()
    sampled = [i for i, p in enumerate(params) if p.temperature > 0]
    if not sampled:
        return greedy
    index = torch.tensor(sampled)
    rows = [params[i] for i in sampled]
    temperature = torch.tensor([p.temperature for p in rows], dtype=torch.float32)
    scores = logits[index] / temperature.unsqueeze(-1)
    vocabulary = scores.shape[-1]
    if any(0 < p.top_k < vocabulary or 0 < p.top_p < 1 for p in rows):
        # Only top-k and top-p need the order (the sort is the costliest step).
        ordered, order = torch.sort(scores, dim=-1, descending=True)
        top_k = torch.tensor([p.top_k if 0 < p.top_k < vocabulary else vocabulary for p in rows])
        ranks = torch.arange(vocabulary).unsqueeze(0)
        ordered = ordered.masked_fill(ranks >= top_k.unsqueeze(-1), float("-inf"))
        probs = torch.softmax(ordered, dim=-1)
        top_p = torch.tensor([p.top_p if 0 < p.top_p < 1 else 2.0 for p in rows])
        # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
        drop = torch.cumsum(probs, dim=-1) - probs >= top_p.unsqueeze(-1)
        ordered = ordered.masked_fill(drop, float("-inf"))
        scores = torch.full_like(scores, float("-inf")).scatter(-1, order, ordered)
    probs = torch.softmax(scores, dim=-1)
    # -log(uniform) is Exponential(1); torch.rand is cheaper than Tensor.exponential_.
    races = -torch.log(
        torch.stack([torch.rand(vocabulary, generator=generators[i]) for i in sampled])
    )
    chosen = torch.argmax(probs / races, dim=-1).tolist()
    for row, token in zip(sampled, chosen, strict=True):
        greedy[row] = token
    return greedy


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """Characters at the end of text not safe to stream yet: a partial character or stop string."""
    hold = 1 if text.endswith("\ufffd") else 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:size]):
                hold = size
                break
    return hold


def step(loaded: LoadedModel, row: Row, token: int, logprob: float) -> None:
    """Record a token; emit the new safe text, or finish the row."""
    tokenizer = loaded.tokenizer
    reason: Any = None
    if token in loaded.stop_ids:
        reason = STOP
    else:
        row.tokens.append(token)
        row.logprobs.append(logprob)
    text = tokenizer.decode(row.tokens, skip_special_tokens=True)
    cut = min((i for i in (text.find(s) for s in row.params.stop if s) if i >= 0), default=-1)
    if cut >= 0:
        text, reason = text[:cut], STOP
    generated = len(row.tokens) + (1 if token in loaded.stop_ids else 0)
    if reason is None and generated >= row.params.max_tokens:
        reason = LENGTH
    if reason is None:
        end = len(text) - _held_back(text, row.params.stop)
        if end > row.sent:
            row.emit(text[row.sent : end], None)
            row.sent = end
        return
    finish(loaded, row, text, reason, generated)


def finish(loaded: LoadedModel, row: Row, text: str, reason: Any, generated: int) -> None:
    row.done = True
    completion = inference_pb2.Completion(
        text=text,
        finish_reason=reason,
        prompt_tokens=len(row.prompt_ids),
        completion_tokens=generated,
    )
    if row.params.logprobs:
        completion.logprobs.extend(
            inference_pb2.TokenLogprob(
                token=loaded.tokenizer.decode([token]), token_id=token, logprob=logprob
            )
            for token, logprob in zip(row.tokens, row.logprobs, strict=True)
        )
    row.emit(text[row.sent :] if len(text) > row.sent else "", completion)
