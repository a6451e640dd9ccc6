"""sentiment 2.0.0: seven Ekman labels, several a text, served through ONNX Runtime; 1.0.0 kept for rollback."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from archives.loader import LoadedArchive, archive_file_name, load_archive
from archives.served import served_default_versions
from orchestrator.core.settings import Settings
from orchestrator.inference.embedded import EmbeddedBackend
from training.text_data import DAIR_LABELS, EKMAN_LABELS

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO_ROOT / "models" / "text-emotion-ekman-minilm-l6"
# The README's text section shows these three.
NEUTRAL = "I'm heading to the shop, back in ten."
DISGUSTED = "That is disgusting, the fridge smells of rotten fish."
MIXED = "That's gross and honestly it makes me furious."
SENTENCES = [NEUTRAL, DISGUSTED, MIXED, "i feel so lonely since she left", "WHY would you do that to me",
             "I'm scared the test results come back bad", "thanks, that's really kind of you",
             "the meeting moved to 3pm", "wow, I did not see that coming at all", ("so tired of this " * 30)]


@pytest.fixture(scope="module")
def served() -> Iterator[LoadedArchive]:
    with tempfile.TemporaryDirectory() as work:
        archive = load_archive(REPO_ROOT / "model_store" / archive_file_name("sentiment", "2.0.0"), Path(work))
        archive.handle(None, archive.context)
        yield archive


def ask(archive: LoadedArchive, text: str) -> dict[str, Any]:
    (answer,), statuses = archive.run([text.encode()])
    assert statuses == {}
    return answer


def test_the_default_is_2_0_0_with_1_0_0_kept() -> None:
    assert served_default_versions()["sentiment"] == "2.0.0"
    assert Settings().model_versions["sentiment"] == "2.0.0"
    assert (REPO_ROOT / "model_store" / "sentiment.mar").is_file(), "1.0.0 stays in the store for rollback"


def test_a_neutral_sentence_is_neutral(served: LoadedArchive) -> None:
    answer = ask(served, NEUTRAL)
    assert answer["top_emotion"] == "neutral" and answer["labels"] == ["neutral"]
    assert answer["model"] == {"name": "sentiment", "version": "2.0.0"}


def test_a_disgusted_sentence_is_disgust(served: LoadedArchive) -> None:
    assert ask(served, DISGUSTED)["top_emotion"] == "disgust"


def test_a_sentence_can_carry_two_emotions(served: LoadedArchive) -> None:
    answer = ask(served, MIXED)
    assert answer["labels"] == ["anger", "disgust"] and answer["top_emotion"] == "anger"


def test_onnx_runtime_scores_as_the_pytorch_weights_do(served: LoadedArchive) -> None:
    """The served archive runs the exported graph; the trained weights in models/ are the reference."""
    assert type(served.module._service.network).__name__ == "OnnxNetwork"
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR, local_files_only=True)  # nosec B615  # local files only
    model = AutoModelForSequenceClassification.from_pretrained(  # nosec B615  # local files only
        MODEL_DIR, local_files_only=True, dtype=torch.float32).eval()
    answers, _ = served.run([s.encode() for s in SENTENCES])
    with torch.inference_mode():
        for sentence, answer in zip(SENTENCES, answers, strict=True):
            inputs = tokenizer([sentence], truncation=True, max_length=128, return_tensors="pt")
            reference = torch.sigmoid(model(**inputs).logits[0]).tolist()
            ours = [answer["label_scores"][label] for label in EKMAN_LABELS]
            assert ours == pytest.approx(reference, abs=1e-4), sentence


@pytest.mark.parametrize(("version", "labels"), [("1.0.0", DAIR_LABELS), ("2.0.0", EKMAN_LABELS)])
def test_the_embedded_backend_serves_the_version_settings_name(tmp_path: Path, version: str,
                                                                labels: tuple[str, ...]) -> None:
    settings = Settings(model_versions={"sentiment": version})
    backend = EmbeddedBackend(settings.model_store, settings.torchserve_config, tmp_path, ["sentiment"],
                              settings.model_versions)

    async def predict() -> dict[str, Any]:
        await backend.start()
        try:
            return await backend.predict("sentiment", b"what a wonderful, joyful day")
        finally:
            await backend.close()

    answer = asyncio.run(predict())
    assert answer["model"] == {"name": "sentiment", "version": version}
    assert tuple(answer["emotions"]) == labels and answer["top_emotion"] == "joy"
