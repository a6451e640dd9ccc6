"""MelodyRNN (Magenta `melody_rnn`) in PyTorch, with optional mood conditioning.

Magenta's graph: the encoded event (plus, here, a conditioning vector repeated at every step) feeds a
stack of LSTM layers, each followed by dropout, then one linear layer to the class logits. With
`condition_size=0` the layout is exactly Magenta's, which is what lets `export_scripts` import a
published `.mag` bundle. Encoders live apart from the model, in `music.encoding`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

LSTMState = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class MelodyRNNConfig:
    encoding: str  # a name in music.encoding.ENCODINGS
    input_size: int
    num_classes: int
    condition_size: int = 0
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.5  # Magenta's dropout_keep_prob 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MelodyRNNConfig:
        return cls(**values)


class MelodyRNN(nn.Module):
    def __init__(self, config: MelodyRNNConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(
            config.input_size + config.condition_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.output_dropout = nn.Dropout(config.dropout)  # Magenta wraps every cell, the last one too
        self.output = nn.Linear(config.hidden_size, config.num_classes)

    def forward(
        self, inputs: torch.Tensor, conditions: torch.Tensor | None = None, state: LSTMState | None = None
    ) -> tuple[torch.Tensor, LSTMState]:
        """inputs [batch, steps, input_size], conditions [batch, condition_size] → logits
        [batch, steps, num_classes] and the LSTM state to continue from."""
        if self.config.condition_size:
            if conditions is None or conditions.shape != (inputs.shape[0], self.config.condition_size):
                raise ValueError(f"expected conditions of shape [{inputs.shape[0]}, {self.config.condition_size}]")
            inputs = torch.cat([inputs, conditions[:, None, :].expand(-1, inputs.shape[1], -1)], dim=-1)
        outputs, state = self.lstm(inputs, state)
        return self.output(self.output_dropout(outputs)), state


CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_melody_rnn(model: MelodyRNN, directory: Path, metadata: dict[str, Any] | None = None) -> None:
    """Write `config.json` (network layout + free-form metadata such as conditioning statistics) and
    `model.safetensors`; the format every MelodyRNN source (training, `.mag` import) produces."""
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().float().contiguous().cpu() for name, tensor in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE))
    document = {"network": model.config.to_dict(), "metadata": metadata or {}}
    (directory / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")


def load_melody_rnn(directory: Path) -> tuple[MelodyRNN, dict[str, Any]]:
    document = json.loads((directory / CONFIG_FILE).read_text())
    model = MelodyRNN(MelodyRNNConfig.from_dict(document["network"]))
    model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)))
    model.eval()
    return model, dict(document.get("metadata") or {})
