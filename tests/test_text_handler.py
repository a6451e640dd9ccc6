"""The text-emotion handler serves any save_pretrained sequence classifier, loaded from its .mar."""

from __future__ import annotations

from typing import Any

import pytest

from export_scripts.build_sentiment_archive import build
from orchestrator.inference.model_archive import LoadedArchive, load_archive
from tests.tiny_text_model import make_tiny_classifier

OTHER_LABELS = ("calm", "excited", "gloomy")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    root = tmp_path_factory.mktemp("tiny")
    model_dir = make_tiny_classifier(root / "model", OTHER_LABELS)
    mar = build(model_dir, "tiny-sentiment", "0.0.1", root / "store", staging=root / "staging")
    loaded = load_archive(mar, root / "work")
    loaded.handle(None, loaded.context)
    return loaded


def run(archive: LoadedArchive, texts: list[bytes]) -> tuple[list[dict[str, Any]], dict[int, tuple[int, str]]]:
    context = archive.context.for_batch()
    return archive.handle([{"body": t} for t in texts], context), context.statuses


def test_any_classifier_is_served_with_its_own_labels(archive: LoadedArchive) -> None:
    (answer,), statuses = run(archive, [b"i feel happy today"])
    assert statuses == {}
    assert tuple(answer["emotions"]) == OTHER_LABELS
    assert sum(answer["emotions"].values()) == pytest.approx(1.0, abs=1e-5)
    assert answer["top_emotion"] in OTHER_LABELS and answer["truncated"] is False
    assert answer["model"] == {"name": "tiny-sentiment", "version": "0.0.1"}


def test_batch_is_padded_to_its_longest_member_and_long_input_is_truncated(archive: LoadedArchive,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    service = archive.module._service  # type: ignore[attr-defined]
    widths: list[int] = []
    original = service._encode

    def spy(texts: list[str]) -> Any:
        encoded = original(texts)
        widths.append(encoded[0].shape[1])
        return encoded

    monkeypatch.setattr(service, "_encode", spy)
    long_text = ("i feel very happy " * 40).encode()
    answers, statuses = run(archive, [b"i am calm", b"so sad", long_text])
    assert statuses == {}
    assert widths == [service.max_length], "one tokenizer call, padded to the longest (truncated) text"
    assert service.max_length == 64, "capped by the tiny model's 64 position embeddings"
    assert [a["truncated"] for a in answers] == [False, False, True]
    assert answers[2]["tokens"] == 64 and answers[0]["tokens"] == 5
    (short_only,), _ = run(archive, [b"i am calm"])
    assert widths[-1] == 5, "a batch of short texts is not padded to the limit"
    # The same text scores the same alone or in a padded batch.
    assert short_only["emotions"] == pytest.approx(answers[0]["emotions"], abs=1e-5)


@pytest.mark.parametrize(("payload", "status", "reason"), [
    (b"\xff\xfe\xfa", 400, "UTF-8"),
    (b"   \n ", 422, "empty"),
    (b"bad \x00 byte", 400, "NUL"),
    (("a" * 5001).encode(), 413, "5000"),
])
def test_bad_text_fails_alone(archive: LoadedArchive, payload: bytes, status: int, reason: str) -> None:
    answers, statuses = run(archive, [b"i feel happy", payload])
    assert statuses[1][0] == status and reason in answers[1]["error"]
    assert 0 not in statuses and answers[0]["top_emotion"] in OTHER_LABELS
