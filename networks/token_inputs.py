"""Token-id rows → the (input_ids, attention_mask) a Hugging Face encoder takes, padded dynamically.

Shared by the text handler (serving) and training, so both feed the network identical inputs.
"""

from __future__ import annotations

import torch


def pad_token_rows(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad every row to the longest one given (not to a fixed length), with its attention mask."""
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        input_ids[index, :len(row)] = torch.tensor(row)
        mask[index, :len(row)] = 1
    return input_ids, mask
