"""Text-emotion model server: any Hugging Face sequence-classification directory.

The archive's root *is* a `save_pretrained` directory (config with id2label, tokenizer, safetensors), so
swapping in another model — a multilingual one, say — means building the archive from another directory.
An archive built with `--runtime onnx` holds `model.onnx` instead of the safetensors file, and the network
runs in ONNX Runtime; tokenization, batching and answers are the same code either way.
A TorchServe batch is tokenized at once and padded to its longest member only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from handlers.base import BaseHandler, RequestError, torchserve_entry_point
from networks.token_inputs import pad_token_rows

# The worker serves one batch at a time; tokenizer threads would only fight torch for the cores.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Never reach for a model hub: the archive holds every file the model needs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULTS: dict[str, Any] = {
    "max_length": 128,  # tokens; longer input is truncated (and the answer says so)
    "max_chars": 5000,
    # Forward passes run on length-sorted slices of this many texts: padding every text of a batch to
    # its longest one doubled the work (MiniLM, batch 32, 2 threads: 137 → 206 texts/s with slices of 8).
    "micro_batch": 8,
}


class TorchNetwork:
    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model = model
        self.device = device

    def logits(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.model(input_ids=input_ids.to(self.device),
                                          attention_mask=mask.to(self.device)).logits
        return output


class OnnxNetwork:
    """The exported graph in ONNX Runtime, on as many threads as torch was given (one per worker)."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime  # only archives built with --runtime onnx need it

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        (output,) = self.session.run(["logits"], {"input_ids": input_ids.numpy(), "attention_mask": mask.numpy()})
        return torch.from_numpy(output)


@dataclass
class TextScores:
    scores: list[float]  # one per label: softmax probabilities, or independent sigmoids (multi-label)
    tokens: int
    truncated: bool


class TextEmotionHandler(BaseHandler[str, TextScores]):
    def load(self, model_dir: Path, device: torch.device) -> None:
        self.settings = {**DEFAULTS, **self.config}
        # local_files_only: a missing file must fail here, never trigger a download from a hub.
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)  # nosec B615  # no hub
        config = AutoConfig.from_pretrained(model_dir, local_files_only=True)  # nosec B615  # local files only
        onnx_file = model_dir / "model.onnx"
        self.network: TorchNetwork | OnnxNetwork
        if onnx_file.exists():
            self.network = OnnxNetwork(onnx_file, threads=torch.get_num_threads())
        else:
            self.network = TorchNetwork(AutoModelForSequenceClassification.from_pretrained(  # nosec B615  # no hub
                model_dir, local_files_only=True, dtype=torch.float32).to(device).eval(), device)
        id2label = config.id2label
        self.labels = [str(id2label[i]) for i in range(len(id2label))]
        # A multi-label model (one sigmoid per label) answers every label whose score reaches its threshold;
        # a single-label one answers its top label.
        self.multi_label = config.problem_type == "multi_label_classification"
        thresholds = getattr(config, "thresholds", None) or [0.5] * len(self.labels)
        if len(thresholds) != len(self.labels):
            raise ValueError(f"config.json has {len(thresholds)} thresholds for {len(self.labels)} labels")
        self.thresholds = [float(t) for t in thresholds]
        # The tokenizer's own limit is sometimes a placeholder (1e30); the position table is the hard one.
        positions = getattr(config, "max_position_embeddings", None) or 10**9
        self.max_length = min(int(self.settings["max_length"]), int(self.tokenizer.model_max_length), int(positions))
        self.pad_id = int(self.tokenizer.pad_token_id or 0)

    def preprocess_one(self, payload: bytes) -> str:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestError(400, f"text is not valid UTF-8 (byte {error.start})") from error
        if "\x00" in text:
            raise RequestError(400, "text contains NUL bytes; send plain text")
        if not text.strip():
            raise RequestError(422, "text is empty")
        if len(text) > int(self.settings["max_chars"]):
            raise RequestError(413, f"text has {len(text)} characters; the limit is {self.settings['max_chars']}")
        return text

    def _tokenize(self, texts: list[str]) -> tuple[list[list[int]], list[bool]]:
        """One tokenizer call for the whole batch, without truncation to learn each length; then cut
        to max_length keeping the closing special token."""
        encoded: list[list[int]] = self.tokenizer(texts, truncation=False, verbose=False)["input_ids"]
        rows, truncated = [], []
        for ids in encoded:
            cut = len(ids) > self.max_length
            rows.append(ids[:self.max_length - 1] + ids[-1:] if cut else ids)
            truncated.append(cut)
        return rows, truncated

    def _pad(self, rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return pad_token_rows(rows, self.pad_id)

    def inference(self, batch: list[str]) -> list[TextScores]:
        rows, truncated = self._tokenize(batch)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        scores: list[list[float]] = [[] for _ in rows]
        step = max(1, int(self.settings["micro_batch"]))
        with torch.inference_mode():
            for start in range(0, len(order), step):
                chunk = order[start:start + step]
                logits = self.network.logits(*self._pad([rows[i] for i in chunk]))
                squashed = torch.sigmoid(logits.float()) if self.multi_label else torch.softmax(logits.float(), dim=-1)
                for index, p in zip(chunk, squashed.cpu().tolist(), strict=True):
                    scores[index] = p
        return [TextScores(p, len(r), t) for p, r, t in zip(scores, rows, truncated, strict=True)]

    def postprocess_one(self, output: TextScores) -> dict[str, Any]:
        # `emotions` always sums to 1 (the mood mapping weighs labels by it); a multi-label model's own,
        # independent scores and the labels they pass are in `label_scores` and `labels`.
        total = sum(output.scores) or 1.0
        emotions = {label: round(p / total, 6) for label, p in zip(self.labels, output.scores, strict=True)}
        top = max(emotions, key=emotions.__getitem__)
        if self.multi_label:
            passed = [label for label, p, t in zip(self.labels, output.scores, self.thresholds, strict=True)
                      if p >= t or label == top]
        else:
            passed = [top]
        own = dict(zip(self.labels, output.scores, strict=True))
        labels = sorted(passed, key=own.__getitem__, reverse=True)
        return {"emotions": emotions, "top_emotion": top, "top_score": emotions[top], "labels": labels,
                "label_scores": {label: round(p, 6) for label, p in own.items()},
                "tokens": output.tokens, "truncated": output.truncated, "max_tokens": self.max_length}


_service = TextEmotionHandler()
handle = torchserve_entry_point(_service)
