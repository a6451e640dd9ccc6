"""Batched, per-melody-deterministic sampling from a MelodyRNN.

Every melody in a batch draws its random numbers from its own numpy Generator (inverse-CDF sampling),
so a request's seed fixes its melody whatever else shares the batch — torch's global or per-batch
generators would tie one request's notes to its neighbours'. A request may carry a copy plan (a phrase
form): planned steps repeat an earlier step instead of being sampled, and the network conditions on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from music.encoding import MelodyEncoding
from networks.melody_rnn import MelodyRNN


@dataclass(frozen=True)
class SamplingRequest:
    primer: np.ndarray  # ≥ 1 events; generation continues after it
    total_steps: int
    temperature: float
    rng: np.random.Generator
    condition: np.ndarray | None = None  # [condition_size]
    # [total_steps]: the earlier step each step copies, -1 where the model samples (music.phrase_forms)
    copy_from: np.ndarray | None = None


@torch.inference_mode()
def sample_melodies(model: MelodyRNN, encoding: MelodyEncoding, requests: list[SamplingRequest]) -> list[np.ndarray]:
    """One melody per request, all advanced together one step at a time."""
    if not requests:
        return []
    batch = len(requests)
    max_steps = max(r.total_steps for r in requests)
    primer_steps = min(len(r.primer) for r in requests)
    if primer_steps < 1 or any(len(r.primer) > r.total_steps for r in requests):
        raise ValueError("every request needs a primer of at least one event and no longer than the melody")
    events = np.full((batch, max_steps), -2, dtype=np.int16)
    for row, request in enumerate(requests):
        events[row, : len(request.primer)] = request.primer
    conditions = None
    if model.config.condition_size:
        if any(r.condition is None for r in requests):
            raise ValueError("this model is conditioned: every request needs a condition vector")
        conditions = torch.from_numpy(np.stack([r.condition for r in requests]).astype(np.float32))  # type: ignore[misc]
    temperatures = torch.tensor([[r.temperature] for r in requests], dtype=torch.float32)
    primer_lengths = np.array([len(r.primer) for r in requests])
    state = None
    if primer_steps > 1:  # the shared part of the primers in one call
        prefix = np.stack([encoding.inputs(events[row, :primer_steps])[:-1] for row in range(batch)])
        _, state = model(torch.from_numpy(prefix), conditions)
    for step in range(primer_steps - 1, max_steps - 1):
        inputs = torch.from_numpy(encoding.step_inputs(events[:, : step + 1]))[:, None, :]
        logits, state = model(inputs, conditions, state)
        probabilities = torch.softmax(logits[:, -1, :] / temperatures, dim=-1).double().numpy()
        cumulative = np.cumsum(probabilities, axis=1)
        for row, request in enumerate(requests):
            if step + 1 < primer_lengths[row] or step + 1 >= request.total_steps:
                continue  # still inside this row's primer, or this melody is complete
            if request.copy_from is not None and request.copy_from[step + 1] >= 0:
                # A planned repeat: the event is copied, and the network reads it next step like its own.
                events[row, step + 1] = events[row, request.copy_from[step + 1]]
                continue
            draw = request.rng.random() * cumulative[row, -1]
            index = int(min(np.searchsorted(cumulative[row], draw, side="right"), cumulative.shape[1] - 1))
            events[row, step + 1] = encoding.class_to_event(index, events[row, : step + 1])
    return [events[row, : r.total_steps].copy() for row, r in enumerate(requests)]
