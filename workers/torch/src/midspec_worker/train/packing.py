"""Best-fit-decreasing packing and the batches built from packed rows.

Each row holds whole documents. Position ids restart at every document and attention stays within
each document (per-document attention, see attention.py, or a block-diagonal causal mask), so a
packed document sees exactly what it would see alone.
Targets are shifted here (not inside the model) so no document is asked to predict its neighbour's
first token.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import torch

from midspec_worker.train.data import Example

IGNORE = -100


def pack(examples: list[Example], max_length: int) -> list[list[Example]]:
    """Best-fit-decreasing: longest first, each into the fullest row that still has room."""
    rows: list[list[Example]] = []
    free: list[tuple[int, int]] = []  # (remaining capacity, row index), kept sorted
    for example in sorted(examples, key=lambda e: len(e.ids), reverse=True):
        size = len(example.ids)
        at = bisect.bisect_left(free, (size, -1))
        if at < len(free):
            remaining, row = free.pop(at)
        else:
            remaining, row = max_length, len(rows)
            rows.append([])
        rows[row].append(example)
        if remaining - size > 0:
            bisect.insort(free, (remaining - size, row))
    return rows


def unpacked(examples: list[Example]) -> list[list[Example]]:
    return [[example] for example in examples]


def efficiency(rows: list[list[Example]], row_length: int) -> float:
    real = sum(len(e.ids) for row in rows for e in row)
    return real / max(1, len(rows) * row_length)


@dataclass
class Batch:
    input_ids: torch.Tensor
    position_ids: torch.Tensor
    targets: torch.Tensor  # next-token targets per position, IGNORE where no loss
    doc_index: torch.Tensor  # which document of its row each position belongs to (-1: padding)
    lengths: tuple[tuple[int, ...], ...]  # per row, its documents' lengths in order (on the host)
    real_tokens: int
    mask_dtype: torch.dtype = torch.float32

    @property
    def loss_tokens(self) -> int:
        return int((self.targets != IGNORE).sum())

    def to(self, device: torch.device, dtype: torch.dtype) -> Batch:
        """The batch on `device`; `dtype` is the model's, for the dense mask if one is asked for."""
        return Batch(
            self.input_ids.to(device),
            self.position_ids.to(device),
            self.targets.to(device),
            self.doc_index.to(device),
            self.lengths,
            self.real_tokens,
            dtype,
        )

    def dense_mask(self) -> torch.Tensor:
        """The (rows, 1, length, length) additive block-diagonal causal mask.

        A position sees the earlier positions of its own document; padding sees only itself, which
        keeps every softmax row well defined.
        """
        doc = self.doc_index
        length = doc.shape[1]
        positions = torch.arange(length, device=doc.device)
        causal = positions[:, None] >= positions[None, :]
        same = doc[:, :, None] == doc[:, None, :]
        padding = (doc < 0)[:, :, None] & (positions[:, None] == positions[None, :])
        allowed = (same & causal & (doc >= 0)[:, :, None]) | padding
        mask = torch.zeros(allowed.shape, dtype=self.mask_dtype, device=doc.device)
        mask.masked_fill_(~allowed, torch.finfo(self.mask_dtype).min)
        return mask.unsqueeze(1)

    def cu_seqlens(self) -> tuple[torch.Tensor, int]:
        """Cumulative segment boundaries over the flattened rows (each row's padding is a segment
        of its own) and the longest segment: the arguments of varlen attention kernels."""
        length = self.input_ids.shape[1]
        segments = []
        for row in self.lengths:
            segments.extend(row)
            if sum(row) < length:
                segments.append(length - sum(row))
        bounds = torch.tensor([0, *segments], dtype=torch.int32).cumsum(0, dtype=torch.int32)
        return bounds.to(self.input_ids.device), max(segments)


def collate(rows: list[list[Example]], pad_id: int) -> Batch:
    length = max(sum(len(e.ids) for e in row) for row in rows)
    count = len(rows)
    input_ids = torch.full((count, length), pad_id, dtype=torch.long)
    position_ids = torch.zeros((count, length), dtype=torch.long)
    targets = torch.full((count, length), IGNORE, dtype=torch.long)
    doc_index = torch.full((count, length), -1, dtype=torch.long)
    real = 0
    for r, row in enumerate(rows):
        offset = 0
        for d, example in enumerate(row):
            n = len(example.ids)
            end = offset + n
            ids = torch.tensor(example.ids)
            input_ids[r, offset:end] = ids
            position_ids[r, offset:end] = torch.arange(n)
            doc_index[r, offset:end] = d
            # Position t predicts token t+1 of the same document, when that token is trained on.
            trained = torch.tensor(example.mask[1:], dtype=torch.bool)
            targets[r, offset : end - 1] = ids[1:].masked_fill(~trained, IGNORE)
            offset = end
            real += n
    lengths = tuple(tuple(len(e.ids) for e in row) for row in rows)
    return Batch(input_ids, position_ids, targets, doc_index, lengths, real)
