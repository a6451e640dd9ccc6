"""The mood cues a MelodyRNN is conditioned on: mode and note density.

Training computes them from each tune (mode from key analysis, density = notes per 4/4 bar); generation
sets them from the mood. Density enters the network as a z-score of log notes-per-bar over the
training tunes; generation asks for a density *quantile* of those tunes, so "as busy as the busiest
10% of folk tunes" means the same thing whatever the corpus was.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

CONDITION_FEATURES = ("mode", "density")
QUANTILE_POINTS = 21  # 0.00, 0.05, ... 1.00


@dataclass(frozen=True)
class DensityScale:
    log_mean: float
    log_std: float
    quantiles: list[float] = field(default_factory=list)  # notes per bar at QUANTILE_POINTS levels

    @classmethod
    def fit(cls, notes_per_bar: np.ndarray) -> DensityScale:
        logs = np.log(notes_per_bar)
        levels = np.linspace(0.0, 1.0, QUANTILE_POINTS)
        return cls(float(logs.mean()), float(logs.std()), [float(q) for q in np.quantile(notes_per_bar, levels)])

    def notes_per_bar_at(self, quantile: float) -> float:
        if not 0.0 <= quantile <= 1.0:
            raise ValueError(f"density quantile must lie in [0, 1], got {quantile}")
        return float(np.interp(quantile, np.linspace(0.0, 1.0, len(self.quantiles)), self.quantiles))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DensityScale:
        return cls(**values)


def condition_vector(mode: str, notes_per_bar: float, scale: DensityScale) -> np.ndarray:
    """float32 [2]: +1 major / −1 minor, and the density z-score."""
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    if notes_per_bar <= 0:
        raise ValueError("notes per bar must be positive")
    density = (math.log(notes_per_bar) - scale.log_mean) / max(scale.log_std, 1e-6)
    return np.array([1.0 if mode == "major" else -1.0, density], dtype=np.float32)
