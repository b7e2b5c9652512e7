"""One generate loop for a batch of rows: left padding, a KV cache, per-row sampling and stops.

Runs on the inference thread only. Each row has its own parameters, its own torch.Generator and
its own stop conditions, so requests with different settings share a batch. A seeded row draws
exactly one number from its own generator per token, so its random stream never depends on the
batch; its logits can still differ from a solo run in the last bits of float rounding (padding
changes reduction shapes), which in rare near-ties can change a sampled token.
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

    Sampling is an inverse-CDF draw over the row's tokens (sorted by score when top-k or top-p
    applies), with one uniform number from the row's own generator per token.
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
        scores, order = torch.sort(scores, dim=-1, descending=True)
    else:  # plain sampling needs no order: skip the sort, the costliest step
        order = torch.arange(vocabulary).expand_as(scores)
    top_k = torch.tensor([p.top_k if 0 < p.top_k < vocabulary else vocabulary for p in rows])
    ranks = torch.arange(vocabulary).unsqueeze(0)
    scores = scores.masked_fill(ranks >= top_k.unsqueeze(-1), float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    top_p = torch.tensor([p.top_p if 0 < p.top_p < 1 else 2.0 for p in rows])
    # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
    drop = torch.cumsum(probs, dim=-1) - probs >= top_p.unsqueeze(-1)
    probs = probs.masked_fill(drop, 0.0)
    cumulative = torch.cumsum(probs, dim=-1)
    draws = torch.cat([torch.rand(1, generator=generators[i]) for i in sampled])
    picks = torch.searchsorted(cumulative, (draws * cumulative[:, -1]).unsqueeze(-1)).squeeze(-1)
    kept = (probs > 0).sum(-1) - 1
    picks = torch.minimum(picks, kept)
    chosen = order.gather(-1, picks.unsqueeze(-1)).squeeze(-1).tolist()
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


def _step(loaded: LoadedModel, row: Row, token: int, logprob: float) -> None:
    """Record a token; emit the new safe text, or finish the row."""
    tokenizer = loaded.tokenizer
    finish: Any = None
    if token in loaded.stop_ids:
        finish = STOP
    else:
        row.tokens.append(token)
        row.logprobs.append(logprob)
    text = tokenizer.decode(row.tokens, skip_special_tokens=True)
    cut = min((i for i in (text.find(s) for s in row.params.stop if s) if i >= 0), default=-1)
    if cut >= 0:
        text, finish = text[:cut], STOP
    generated = len(row.tokens) + (1 if token in loaded.stop_ids else 0)
    if finish is None and generated >= row.params.max_tokens:
        finish = LENGTH
    if finish is None:
        end = len(text) - _held_back(text, row.params.stop)
        if end > row.sent:
            row.emit(text[row.sent : end], None)
            row.sent = end
        return
    _finish(loaded, row, text, finish, generated)


def _finish(loaded: LoadedModel, row: Row, text: str, reason: Any, generated: int) -> None:
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


@torch.inference_mode()
def generate(loaded: LoadedModel, rows: list[Row]) -> None:
    """Generate every row to completion (or cancellation), emitting deltas as they come."""
    model = loaded.model
    device = next(model.parameters()).device
    for row in rows:
        if row.params.max_tokens <= 0:
            _finish(loaded, row, "", LENGTH, 0)
    live = [row for row in rows if not row.done]
    if not live:
        return
    from transformers import DynamicCache

    width = max(len(row.prompt_ids) for row in live)
    pad = loaded.tokenizer.pad_token_id or 0
    input_ids = torch.full((len(live), width), pad, dtype=torch.long)
    mask = torch.zeros((len(live), width), dtype=torch.long)
    for i, row in enumerate(live):
        input_ids[i, width - len(row.prompt_ids) :] = torch.tensor(row.prompt_ids)
        mask[i, width - len(row.prompt_ids) :] = 1
    input_ids, mask = input_ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    cache: Any = DynamicCache(config=model.config)
    while True:
        out = model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1, :].float().cpu()
        logprobs = torch.log_softmax(logits, dim=-1)
        chosen = choose(logits, [r.params for r in live], [r.generator for r in live])
        picked = logprobs.gather(-1, torch.tensor(chosen).unsqueeze(-1)).squeeze(-1).tolist()
        for i, row in enumerate(live):
            if row.cancelled():
                row.done = True
                continue
            _step(loaded, row, chosen[i], picked[i])
        keep = [i for i, row in enumerate(live) if not row.done]
        if not keep:
            return
        if len(keep) < len(live):
            # Finished or abandoned rows leave the batch, freeing their share of every step.
            index = torch.tensor(keep, device=device)
            cache.reorder_cache(index)
            mask, positions = mask[index], positions[index]
            live = [live[i] for i in keep]
            chosen = [chosen[i] for i in keep]
        input_ids = torch.tensor(chosen, device=device).unsqueeze(-1)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
        positions = positions[:, -1:] + 1
