"""A tiny random BERT sequence classifier written with `save_pretrained`: any HF classifier, no hub."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast  # type: ignore[attr-defined]

WORDS = [
    "i", "feel", "happy", "sad", "angry", "calm", "today", "so", "very", "not", "the", "a", "and", "it", "was", "is",
    "am",
]


def make_tiny_classifier(directory: Path, labels: tuple[str, ...], seed: int = 0,
                         thresholds: list[float] | None = None) -> Path:
    """Single-label (softmax) by default; with `thresholds`, multi-label (a sigmoid per label) like sentiment
    2.0.0, the thresholds saved in config.json where the handler reads them."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64,
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    if thresholds is not None:
        config.problem_type = "multi_label_classification"
        config.thresholds = thresholds
    model = BertForSequenceClassification(config)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory
