"""Log-probabilities of given tokens under a model: batched teacher-forced forward passes.

Runs on the inference thread only. Sequences are sorted by length and cut into batches (right
padding, so every real token keeps its position), which is how ScoreLogprobs and the OpenAI
completions endpoint's echo+logprobs are both served.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from midspec_worker.inference.model_cache import LoadedModel


@dataclass
class TokenScore:
    token_id: int
    logprob: float
    greedy_id: int
    top: list[tuple[int, float]]


@torch.inference_mode()
def score_tokens(
    loaded: LoadedModel,
    sequences: list[list[int]],
    starts: list[int],
    batch_size: int,
    top: int = 0,
) -> list[list[TokenScore]]:
    """For each sequence, score its tokens from index starts[i] (>= 1) to the end."""
    model = loaded.model
    device = next(model.parameters()).device
    pad = loaded.tokenizer.pad_token_id or 0
    results: list[list[TokenScore]] = [[] for _ in sequences]
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    for first in range(0, len(order), max(1, batch_size)):
        chunk = order[first : first + batch_size]
        width = max(len(sequences[i]) for i in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
            mask[row, : len(sequences[i])] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        for row, i in enumerate(chunk):
            sequence = sequences[i]
            # Position j - 1 predicts token j.
            span = logprobs[row, starts[i] - 1 : len(sequence) - 1]
            targets = torch.tensor(sequence[starts[i] :], dtype=torch.long)
            chosen = span.gather(-1, targets.unsqueeze(-1)).squeeze(-1).tolist()
            greedy = span.argmax(-1).tolist()
            tops: list[list[tuple[int, float]]] = [[] for _ in chosen]
            if top > 0:
                values, indices = span.topk(top, dim=-1)
                tops = [
                    list(zip(ix, vs, strict=True))
                    for ix, vs in zip(indices.tolist(), values.tolist(), strict=True)
                ]
            results[i] = [
                TokenScore(t, lp, g, tp)
                for t, lp, g, tp in zip(targets.tolist(), chosen, greedy, tops, strict=True)
            ]
    return results
