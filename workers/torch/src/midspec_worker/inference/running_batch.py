"""Continuous batching's running batch: rows join at token boundaries and leave when they finish.

The batch keeps one KV cache for all its rows (transformers' DynamicCache, [rows, heads, columns,
head_dim] per layer) with an attention mask marking which columns belong to which row, so each row
owns its own slice of it. A joining group is prefilled on its own (its prompts left-padded to each
other's length), then its cache is stacked under the batch's, the shorter side padded on the left;
a row that finishes is dropped from the cache at once, and columns no remaining row uses are
trimmed from the left. Positions are counted per row from the mask, so padding never shifts a row's
rotary positions and a row computes what it would alone (up to float rounding).

transformers' own continuous batching (`init_continuous_batching`) draws every request from one
generator with one set of sampling settings; here each row keeps its own parameters and seeded
generator, which the API's seed semantics need.

Runs on the inference thread only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from midspec_worker.inference.model_cache import LoadedModel
from midspec_worker.inference.sampler import LENGTH, Row, choose, finish, step


def _pad_left(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    # F.pad lists (left, right) pairs from the last dimension backwards.
    pad = [0, 0] * (tensor.dim() - 1 - dim % tensor.dim()) + [missing, 0]
    return F.pad(tensor, pad)


class RunningBatch:
    """The rows of one model being generated together, and their KV cache."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.rows: list[Row] = []
        self._device = next(loaded.model.parameters()).device
        self._cache: Any = None
        self._mask = torch.zeros((0, 0), dtype=torch.long, device=self._device)
        self._next: list[int] = []  # the token each row feeds at the next step

    def __len__(self) -> int:
        return len(self.rows)

    @torch.inference_mode()
    def admit(self, rows: list[Row]) -> None:
        """Prefill rows, emit their first tokens and add the unfinished ones to the batch."""
        from transformers import DynamicCache

        for row in rows:
            if row.params.max_tokens <= 0:
                finish(self.loaded, row, "", LENGTH, 0)
        live = [row for row in rows if not row.done]
        if not live:
            return
        width = max(len(row.prompt_ids) for row in live)
        pad = self.loaded.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(live), width), pad, dtype=torch.long)
        mask = torch.zeros((len(live), width), dtype=torch.long)
        for i, row in enumerate(live):
            input_ids[i, width - len(row.prompt_ids) :] = torch.tensor(row.prompt_ids)
            mask[i, width - len(row.prompt_ids) :] = 1
        input_ids, mask = input_ids.to(self._device), mask.to(self._device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        # Built without the config: every layer is then a plain DynamicLayer, which stacks.
        cache = DynamicCache()
        chosen, keep = self._forward(live, input_ids, mask, positions, cache)
        if not keep:
            return
        if len(keep) < len(live):
            index = torch.tensor(keep, device=self._device)
            cache.batch_select_indices(index)
            mask = mask[index]
        self._stack(cache, mask)
        self.rows += [live[i] for i in keep]
        self._next += [chosen[i] for i in keep]

    @torch.inference_mode()
    def step(self) -> None:
        """Generate one token for every row; finished or abandoned rows leave the batch."""
        if not self.rows:
            return
        input_ids = torch.tensor(self._next, device=self._device).unsqueeze(-1)
        positions = self._mask.sum(-1, keepdim=True)  # each row's own count of tokens so far
        self._mask = torch.cat([self._mask, torch.ones_like(self._mask[:, :1])], dim=-1)
        chosen, keep = self._forward(self.rows, input_ids, self._mask, positions, self._cache)
        self._next = [chosen[i] for i in keep]
        if len(keep) == len(self.rows):
            return
        self.rows = [self.rows[i] for i in keep]
        if not keep:
            self._cache = None
            self._mask = self._mask[:0, :0]
            return
        index = torch.tensor(keep, device=self._device)
        self._cache.batch_select_indices(index)
        self._mask = self._mask[index]
        self._trim()

    def _forward(
        self,
        rows: list[Row],
        input_ids: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: Any,
    ) -> tuple[list[int], list[int]]:
        """One forward pass; record each row's next token. Returns the tokens and rows to keep."""
        out = self.loaded.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        logits = out.logits[:, -1, :].float().cpu()
        logprobs = torch.log_softmax(logits, dim=-1)
        chosen = choose(logits, [r.params for r in rows], [r.generator for r in rows])
        picked = logprobs.gather(-1, torch.tensor(chosen).unsqueeze(-1)).squeeze(-1).tolist()
        for i, row in enumerate(rows):
            if row.cancelled():
                row.done = True
                continue
            step(self.loaded, row, chosen[i], picked[i])
        return chosen, [i for i, row in enumerate(rows) if not row.done]

    def _stack(self, cache: Any, mask: torch.Tensor) -> None:
        """Append a prefilled group's cache and mask under the batch's, aligned on the right."""
        if self._cache is None:
            self._cache, self._mask = cache, mask
            return
        width = max(self._mask.shape[1], mask.shape[1])
        for mine, theirs in zip(self._cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat(
                [_pad_left(mine.keys, width, -2), _pad_left(theirs.keys, width, -2)]
            )
            mine.values = torch.cat(
                [_pad_left(mine.values, width, -2), _pad_left(theirs.values, width, -2)]
            )
        self._mask = torch.cat([_pad_left(self._mask, width, 1), _pad_left(mask, width, 1)])

    def _trim(self) -> None:
        """Drop leading columns that only rows which have left were using."""
        first = int(self._mask.any(dim=0).int().argmax())
        if first == 0:
            return
        for layer in self._cache.layers:
            layer.keys = layer.keys[..., first:, :]
            layer.values = layer.values[..., first:, :]
        self._mask = self._mask[:, first:]
