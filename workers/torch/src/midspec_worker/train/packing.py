"""Best-fit-decreasing packing and the batches built from packed rows.

Each row holds whole documents. Position ids restart at every document and a block-diagonal causal
mask stops attention across documents, so a packed document sees exactly what it would see alone.
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
    attention_mask: torch.Tensor  # (rows, 1, length, length) additive float mask
    targets: torch.Tensor  # next-token targets per position, IGNORE where no loss
    doc_index: torch.Tensor  # which document of its row each position belongs to (-1: padding)
    real_tokens: int

    @property
    def loss_tokens(self) -> int:
        return int((self.targets != IGNORE).sum())

    def to(self, device: torch.device, dtype: torch.dtype) -> Batch:
        return Batch(
            self.input_ids.to(device),
            self.position_ids.to(device),
            self.attention_mask.to(device, dtype),
            self.targets.to(device),
            self.doc_index.to(device),
            self.real_tokens,
        )


def collate(rows: list[list[Example]], pad_id: int) -> Batch:
    length = max(sum(len(e.ids) for e in row) for row in rows)
    count = len(rows)
    input_ids = torch.full((count, length), pad_id, dtype=torch.long)
    position_ids = torch.zeros((count, length), dtype=torch.long)
    targets = torch.full((count, length), IGNORE, dtype=torch.long)
    doc_index = torch.full((count, length), -1, dtype=torch.long)
    allowed = torch.zeros((count, length, length), dtype=torch.bool)
    causal = torch.ones((length, length), dtype=torch.bool).tril()
    real = 0
    for r, row in enumerate(rows):
        offset = 0
        for d, example in enumerate(row):
            n = len(example.ids)
            end = offset + n
            input_ids[r, offset:end] = torch.tensor(example.ids)
            position_ids[r, offset:end] = torch.arange(n)
            doc_index[r, offset:end] = d
            # Position t predicts token t+1 of the same document, when that token is trained on.
            for t in range(n - 1):
                if example.mask[t + 1]:
                    targets[r, offset + t] = example.ids[t + 1]
            allowed[r, offset:end, offset:end] = causal[:n, :n]
            offset = end
            real += n
        # Padding attends only to itself, which keeps every softmax row well defined.
        pad = torch.arange(offset, length)
        allowed[r, pad, pad] = True
    mask = torch.zeros((count, 1, length, length))
    mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(torch.float32).min)
    return Batch(input_ids, position_ids, mask, targets, doc_index, real)
